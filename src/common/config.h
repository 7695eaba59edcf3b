// Configuration: a YAML file with command-line overrides.
//
// A Config is a flat map from dotted keys ("synth.image_size") to scalar strings. It is built from
// a YAML mapping (nested mappings become dotted keys; sequences are not allowed) and then
// overridden by `--set key=value` pairs; typed getters parse on access and name the key in errors.
//
// Example:
//   ASSIGN_OR_RETURN(Config cfg, Config::LoadFile("medscribe.yaml"));
//   RETURN_IF_ERROR(cfg.SetOverride("synth.seed=7"));
//   ASSIGN_OR_RETURN(int64_t seed, cfg.GetInt("synth.seed", 1));
//
// Thread safety: const methods may be called concurrently; mutation needs external locking.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace medscribe {

class Config {
 public:
  Config() = default;
  // Parses YAML text. Errors name the line and column.
  static StatusOr<Config> FromYaml(const std::string& text);
  static StatusOr<Config> LoadFile(const std::string& path);

  // Applies "key=value". InvalidArgument when there is no '=' or the key is empty.
  Status SetOverride(const std::string& assignment);
  void Set(const std::string& key, const std::string& value) { values_[key] = value; }

  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  std::string GetString(const std::string& key, const std::string& fallback) const;
  StatusOr<int64_t> GetInt(const std::string& key, int64_t fallback) const;
  StatusOr<double> GetDouble(const std::string& key, double fallback) const;
  StatusOr<bool> GetBool(const std::string& key, bool fallback) const;
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace medscribe
