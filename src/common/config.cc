#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace medscribe {
namespace {

Status Flatten(const YAML::Node& node, const std::string& prefix, Config& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      RETURN_IF_ERROR(Flatten(kv.second, prefix.empty() ? key : prefix + "." + key, out));
    }
    return OkStatus();
  }
  if (node.IsScalar()) {
    out.Set(prefix, node.Scalar());
    return OkStatus();
  }
  if (node.IsNull()) return OkStatus();
  return InvalidArgumentError("config key '" + prefix +
                              "' holds a list; only mappings and scalar values are allowed");
}

}  // namespace

StatusOr<Config> Config::FromYaml(const std::string& text) {
  Config cfg;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsNull() && !root.IsMap()) {
      return InvalidArgumentError("config must be a YAML mapping of keys to values");
    }
    RETURN_IF_ERROR(Flatten(root, "", cfg));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("config is not valid YAML (line " +
                                std::to_string(e.mark.line + 1) + ", column " +
                                std::to_string(e.mark.column + 1) + "): " + e.msg);
  }
  return cfg;
}

StatusOr<Config> Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open config file '" + path + "'; check the path");
  std::stringstream ss;
  ss << in.rdbuf();
  auto cfg = FromYaml(ss.str());
  if (!cfg.ok()) return cfg.status().WithContext(path);
  return cfg;
}

Status Config::SetOverride(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgumentError("override '" + assignment + "' must look like key=value");
  }
  values_[assignment.substr(0, eq)] = assignment.substr(eq + 1);
  return OkStatus();
}

std::string Config::GetString(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

StatusOr<int64_t> Config::GetInt(const std::string& key, int64_t fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return InvalidArgumentError("config key '" + key + "' must be an integer, got '" + s + "'");
  }
  return v;
}

StatusOr<double> Config::GetDouble(const std::string& key, double fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  const std::string& s = it->second;
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return InvalidArgumentError("config key '" + key + "' must be a number, got '" + s + "'");
}

StatusOr<bool> Config::GetBool(const std::string& key, bool fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  const std::string& s = it->second;
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  return InvalidArgumentError("config key '" + key + "' must be true or false, got '" + s + "'");
}

}  // namespace medscribe
