// A hyperparameter study's definition (`medscribe tune --config tune.yaml`, docs/tuning.md): the
// search space, the sampler, the pruning schedule and the fixed arguments of every trial.
//
//   study: lr-batch                   # a name for the lineage (default: the file's stem)
//   trials: 8                         # trials in total, over every worker
//   sampler: tpe                      # tpe (random for the first startup_trials) or random
//   startup_trials: 4
//   seed: 1
//   steps: 80                         # optimizer steps of a trial that is never pruned
//   objective: val_loss               # minimized; reported by the trainer at every rung
//   asha: {min_steps: 20, reduction_factor: 3, brackets: 1}   # absent: no pruning
//   nproc: 1                          # processes per trial (medscribe launch --nproc)
//   train: [--dataset, D, --config, tiny, --no-dictation]     # fixed `medscribe train` arguments
//   space:
//     lr: {type: loguniform, low: 1e-4, high: 1e-2}
//     batch-size: {type: choice, values: [4, 8]}
//     warmup: {type: int, low: 0, high: 40}
//     aux-loss-weight: {type: uniform, low: 0.1, high: 1.0}
//
// Each key of `space` is a `medscribe train` option without its dashes.
//
// Thread safety: values only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::tune {

struct Param {
  enum class Kind { kUniform, kLogUniform, kInt, kChoice };
  std::string name;
  Kind kind = Kind::kUniform;
  double low = 0, high = 0;          // kUniform, kLogUniform, kInt (inclusive)
  std::vector<std::string> choices;  // kChoice
};

struct AshaConfig {
  int64_t min_steps = 0;  // 0: no pruning
  int reduction_factor = 3;
  int brackets = 1;
};

struct StudyConfig {
  std::string name;
  int trials = 8;
  std::string sampler = "tpe";  // "tpe" or "random"
  int startup_trials = 4;
  uint64_t seed = 1;
  int64_t steps = 100;
  std::string objective = "val_loss";
  AshaConfig asha;
  int nproc = 1;
  std::vector<std::string> train_args;
  std::vector<Param> space;  // in the file's order
};

// A trial's values, by parameter name, as the command line gets them ("0.00123", "8", "tiny").
using Assignment = std::map<std::string, std::string>;

// Parses a study file. InvalidArgument naming the key (e.g. "space.lr.type: 'lognormal' is not
// one of uniform, loguniform, int, choice") for anything unknown, missing or out of range.
// `default_name` is used when `study` is absent.
StatusOr<StudyConfig> ParseStudyConfig(const std::string& yaml, const std::string& default_name);

// The SHA-256 (hex) of what defines the study's trials (space, sampler, seed, steps, ASHA,
// objective, fixed arguments): a study resumed with another definition is refused.
std::string Digest(const StudyConfig& config);

// The rung steps of `bracket`: min_steps·η^(bracket+k) below `steps` (empty without ASHA).
std::vector<int64_t> RungSteps(const StudyConfig& config, int bracket);

// A numeric value as the command line gets it: integers without a decimal point, else %.6g.
std::string FormatValue(const Param& p, double value);

}  // namespace medscribe::tune
