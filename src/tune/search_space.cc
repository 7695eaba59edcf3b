#include "tune/search_space.h"

#include <cmath>
#include <cstdio>

#include "common/yaml_fields.h"
#include "crypto/hmac.h"

namespace medscribe::tune {
namespace {

using yaml::Get;
using yaml::KnownKeys;

StatusOr<Param> ParseParam(const std::string& name, const YAML::Node& n) {
  const std::string at = "space." + name + ".";
  if (!n.IsMap()) return InvalidArgumentError(at.substr(0, at.size() - 1) + ": expected a map");
  if (name.empty() ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
    return InvalidArgumentError("space." + name +
                                ": a parameter is a `medscribe train` option without its dashes "
                                "(lowercase letters, digits, '-')");
  Param p;
  p.name = name;
  if (!n["type"]) return InvalidArgumentError(at + "type: missing");
  ASSIGN_OR_RETURN(const std::string type, Get<std::string>(n["type"], at + "type"));
  if (type == "uniform") {
    p.kind = Param::Kind::kUniform;
  } else if (type == "loguniform") {
    p.kind = Param::Kind::kLogUniform;
  } else if (type == "int") {
    p.kind = Param::Kind::kInt;
  } else if (type == "choice") {
    p.kind = Param::Kind::kChoice;
  } else {
    return InvalidArgumentError(at + "type: '" + type +
                                "' is not one of uniform, loguniform, int, choice");
  }
  if (p.kind == Param::Kind::kChoice) {
    RETURN_IF_ERROR(KnownKeys(n, at.substr(0, at.size() - 1), {"type", "values"}));
    if (!n["values"] || !n["values"].IsSequence() || n["values"].size() == 0)
      return InvalidArgumentError(at + "values: a non-empty list is required");
    for (const auto& v : n["values"]) {
      ASSIGN_OR_RETURN(std::string s, Get<std::string>(v, at + "values"));
      p.choices.push_back(std::move(s));
    }
    return p;
  }
  RETURN_IF_ERROR(KnownKeys(n, at.substr(0, at.size() - 1), {"type", "low", "high"}));
  if (!n["low"] || !n["high"]) return InvalidArgumentError(at + "low and high are required");
  ASSIGN_OR_RETURN(p.low, Get<double>(n["low"], at + "low"));
  ASSIGN_OR_RETURN(p.high, Get<double>(n["high"], at + "high"));
  if (!std::isfinite(p.low) || !std::isfinite(p.high) || !(p.low < p.high))
    return InvalidArgumentError(at + "low must be below high");
  if (p.kind == Param::Kind::kLogUniform && p.low <= 0)
    return InvalidArgumentError(at + "low must be above 0 for loguniform");
  if (p.kind == Param::Kind::kInt && (p.low != std::floor(p.low) || p.high != std::floor(p.high)))
    return InvalidArgumentError(at + "low and high must be integers for int");
  return p;
}

StatusOr<StudyConfig> Parse(const YAML::Node& root, const std::string& default_name) {
  if (!root.IsMap()) return InvalidArgumentError("the study file must be a YAML map");
  RETURN_IF_ERROR(KnownKeys(root, "",
                            {"study", "trials", "sampler", "startup_trials", "seed", "steps",
                             "objective", "asha", "nproc", "train", "space"}));
  StudyConfig c;
  c.name = default_name;
  if (root["study"]) {
    ASSIGN_OR_RETURN(c.name, Get<std::string>(root["study"], "study"));
  }
  if (root["trials"]) {
    ASSIGN_OR_RETURN(c.trials, Get<int>(root["trials"], "trials"));
  }
  if (c.trials < 1 || c.trials > 100000) return InvalidArgumentError("trials: 1 to 100000");
  if (root["sampler"]) {
    ASSIGN_OR_RETURN(c.sampler, Get<std::string>(root["sampler"], "sampler"));
  }
  if (c.sampler != "tpe" && c.sampler != "random")
    return InvalidArgumentError("sampler: '" + c.sampler + "' is not tpe or random");
  if (root["startup_trials"]) {
    ASSIGN_OR_RETURN(c.startup_trials, Get<int>(root["startup_trials"], "startup_trials"));
  }
  if (c.startup_trials < 1) return InvalidArgumentError("startup_trials: at least 1");
  if (root["seed"]) {
    ASSIGN_OR_RETURN(c.seed, Get<uint64_t>(root["seed"], "seed"));
  }
  if (root["steps"]) {
    ASSIGN_OR_RETURN(c.steps, Get<int64_t>(root["steps"], "steps"));
  }
  if (c.steps < 1) return InvalidArgumentError("steps: at least 1");
  if (root["objective"]) {
    ASSIGN_OR_RETURN(c.objective, Get<std::string>(root["objective"], "objective"));
  }
  if (c.objective != "val_loss")
    return InvalidArgumentError("objective: '" + c.objective +
                                "' is not supported (val_loss, the trainer's validation loss)");
  if (root["nproc"]) {
    ASSIGN_OR_RETURN(c.nproc, Get<int>(root["nproc"], "nproc"));
  }
  if (c.nproc < 1 || c.nproc > 256) return InvalidArgumentError("nproc: 1 to 256");
  if (const YAML::Node a = root["asha"]) {
    if (!a.IsMap()) return InvalidArgumentError("asha: expected a map");
    RETURN_IF_ERROR(KnownKeys(a, "asha", {"min_steps", "reduction_factor", "brackets"}));
    if (!a["min_steps"]) return InvalidArgumentError("asha.min_steps: missing");
    ASSIGN_OR_RETURN(c.asha.min_steps, Get<int64_t>(a["min_steps"], "asha.min_steps"));
    if (a["reduction_factor"]) {
      ASSIGN_OR_RETURN(c.asha.reduction_factor,
                       Get<int>(a["reduction_factor"], "asha.reduction_factor"));
    }
    if (a["brackets"]) {
      ASSIGN_OR_RETURN(c.asha.brackets, Get<int>(a["brackets"], "asha.brackets"));
    }
    if (c.asha.min_steps < 1 || c.asha.min_steps >= c.steps)
      return InvalidArgumentError("asha.min_steps: at least 1 and below steps (" +
                                  std::to_string(c.steps) + ")");
    if (c.asha.reduction_factor < 2)
      return InvalidArgumentError("asha.reduction_factor: at least 2");
    if (c.asha.brackets < 1) return InvalidArgumentError("asha.brackets: at least 1");
    if (RungSteps(c, c.asha.brackets - 1).empty())
      return InvalidArgumentError("asha.brackets: bracket " + std::to_string(c.asha.brackets - 1) +
                                  " has no rung below steps; use fewer brackets");
  }
  if (const YAML::Node t = root["train"]) {
    if (!t.IsSequence()) return InvalidArgumentError("train: a list of arguments is required");
    for (const auto& v : t) {
      ASSIGN_OR_RETURN(std::string s, Get<std::string>(v, "train"));
      c.train_args.push_back(std::move(s));
    }
  }
  for (const std::string& a : c.train_args)
    for (const char* owned : {"--out", "--max-steps", "--eval-every", "--checkpoint-every"})
      if (a == owned || a.rfind(std::string(owned) + "=", 0) == 0)
        return InvalidArgumentError(std::string("train: ") + owned +
                                    " is set by the tuner for every trial; remove it");
  const YAML::Node s = root["space"];
  if (!s || !s.IsMap() || s.size() == 0)
    return InvalidArgumentError("space: a map of at least one parameter is required");
  for (const auto& kv : s) {
    ASSIGN_OR_RETURN(Param p, ParseParam(kv.first.as<std::string>(), kv.second));
    for (const std::string& a : c.train_args)
      if (a == "--" + p.name)
        return InvalidArgumentError("space." + p.name + ": also fixed in train; keep one");
    c.space.push_back(std::move(p));
  }
  return c;
}

}  // namespace

StatusOr<StudyConfig> ParseStudyConfig(const std::string& text, const std::string& default_name) {
  ASSIGN_OR_RETURN(const YAML::Node root, yaml::Load(text));
  try {
    return Parse(root, default_name);
  } catch (const YAML::Exception& e) {  // a key that is not a scalar, and the like
    return InvalidArgumentError(std::string("the study file is malformed: ") + e.what());
  }
}

std::string Digest(const StudyConfig& c) {
  std::string text = "medscribe-study-1\n" + c.sampler + "\n" + std::to_string(c.startup_trials) +
                     "\n" + std::to_string(c.seed) + "\n" + std::to_string(c.steps) + "\n" +
                     c.objective + "\n" + std::to_string(c.asha.min_steps) + "/" +
                     std::to_string(c.asha.reduction_factor) + "/" +
                     std::to_string(c.asha.brackets) + "\n" + std::to_string(c.nproc) + "\n";
  for (const std::string& a : c.train_args) text += "arg " + a + "\n";
  for (const Param& p : c.space) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), " %d %.17g %.17g", static_cast<int>(p.kind), p.low, p.high);
    text += "param " + p.name + buf;
    for (const std::string& v : p.choices) text += " " + v;
    text += "\n";
  }
  return crypto::Hex(crypto::Sha256(text));
}

std::vector<int64_t> RungSteps(const StudyConfig& c, int bracket) {
  std::vector<int64_t> out;
  if (c.asha.min_steps <= 0) return out;
  int64_t r = c.asha.min_steps;
  for (int b = 0; b < bracket && r < c.steps; ++b) r *= c.asha.reduction_factor;
  for (; r < c.steps; r *= c.asha.reduction_factor) out.push_back(r);
  return out;
}

std::string FormatValue(const Param& p, double value) {
  char buf[64];
  if (p.kind == Param::Kind::kInt)
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(std::llround(value)));
  else
    std::snprintf(buf, sizeof(buf), "%.6g", value);
  return buf;
}

}  // namespace medscribe::tune
