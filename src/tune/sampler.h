// Samplers of a study's search space: random, and TPE (the tree-structured Parzen estimator of
// Bergstra et al., 2011, one parameter at a time): the finished trials are split into the best
// fraction γ and the rest, each side's values become a density (Gaussian kernels in the
// parameter's own scale, log for loguniform; smoothed counts for choices), and of candidates
// drawn from the good density the one with the highest ratio good/bad is taken.
//
// Thread safety: functions of their arguments only.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tune/search_space.h"

namespace medscribe::tune {

// A finished trial as the sampler sees it. `rank_value` orders trials, lower is better: the
// objective of a completed trial; pruned ones rank behind every completed one (by the last value
// they reported, deeper rungs first).
struct Observation {
  Assignment values;
  double rank_value = 0;
  bool pruned = false;
  int64_t last_step = 0;
};

struct TpeOptions {
  double gamma = 0.25;  // the good fraction (at least one trial)
  int candidates = 24;
};

// Uniform over the space, from `seed` alone.
Assignment SampleRandom(const std::vector<Param>& space, uint64_t seed);

// TPE from `history`; random while it holds fewer than `startup` observations.
Assignment SampleTpe(const std::vector<Param>& space, const std::vector<Observation>& history,
                     int startup, uint64_t seed, const TpeOptions& options = {});

}  // namespace medscribe::tune
