#include "common/yaml_fields.h"

#include <algorithm>

namespace medscribe::yaml {

StatusOr<YAML::Node> Load(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("not valid YAML: ") + e.what());
  }
}

Status KnownKeys(const YAML::Node& map, const std::string& at,
                 const std::vector<std::string>& known) {
  if (!map.IsMap())
    return InvalidArgumentError((at.empty() ? "the file" : at) + ": expected a map");
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>("");
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
    return InvalidArgumentError((at.empty() ? "" : at + ".") + key +
                                ": unknown key (known: " + list + ")");
  }
  return OkStatus();
}

}  // namespace medscribe::yaml
