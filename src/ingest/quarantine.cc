#include "ingest/quarantine.h"

#include <nlohmann/json.hpp>

namespace medscribe::ingest {

std::string ToJsonLine(const QuarantineRecord& r) {
  nlohmann::ordered_json j = {{"kind", r.kind},
                              {"source", r.source},
                              {"sha256", r.sha256},
                              {"reason", r.reason},
                              {"detail", r.detail}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

StatusOr<QuarantineRecord> QuarantineFromJsonLine(std::string_view line) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLossError("quarantine record is not a JSON object");
  QuarantineRecord r;
  for (auto [field, key] : {std::pair{&r.kind, "kind"},
                            {&r.source, "source"},
                            {&r.sha256, "sha256"},
                            {&r.reason, "reason"},
                            {&r.detail, "detail"}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      return DataLossError(std::string("quarantine record lacks the string '") + key + "'");
    }
    *field = it->get<std::string>();
  }
  return r;
}

}  // namespace medscribe::ingest
