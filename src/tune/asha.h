// Asynchronous successive halving (ASHA, Li et al., 2020) as a pruning rule: trials report their
// objective at rung steps (min_steps·η^k); at each rung a trial goes on only while its value is
// among the best 1/η of the values reported at that rung so far. Trials are never held back to
// wait for others, so the first ones at a rung go on; Hyperband's brackets start the rungs at
// min_steps·η^b for bracket b (search_space.h RungSteps).
//
// Thread safety: a pure function.
#pragma once

#include <vector>

namespace medscribe::tune {

// Whether a trial whose objective (lower is better) at a rung is `value` goes on, given every
// value reported at that rung in its bracket, its own included. The best ⌊n/η⌋ go on, and at
// least the best one. REQUIRES: eta >= 2.
bool Promotable(double value, std::vector<double> rung_values, int eta);

}  // namespace medscribe::tune
