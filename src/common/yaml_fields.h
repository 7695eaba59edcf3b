// Reading YAML files of the command line (study and pipeline files) with Status errors that name
// the key: no exception leaves these functions.
//
// Thread safety: functions of their arguments only.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::yaml {

// Parses `text`. InvalidArgument "not valid YAML: ..." with yaml-cpp's line and column.
StatusOr<YAML::Node> Load(const std::string& text);

// InvalidArgument "AT.KEY: unknown key (known: ...)" for the first key of `map` not in `known`,
// or "AT: expected a map" ("the file" when `at` is empty).
Status KnownKeys(const YAML::Node& map, const std::string& at,
                 const std::vector<std::string>& known);

// The value of `node` as T. InvalidArgument "KEY: 'VALUE' is not a valid value" otherwise.
template <typename T>
StatusOr<T> Get(const YAML::Node& node, const std::string& key) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    return InvalidArgumentError(key + ": '" + YAML::Dump(node) + "' is not a valid value");
  }
}

}  // namespace medscribe::yaml
