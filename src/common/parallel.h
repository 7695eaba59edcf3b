// Data-parallel loops over oneTBB.
//
// ParallelFor runs fn(i) for every i in [0, n) on at most `jobs` threads (0 or more than the core
// count = all cores). Work is
// split dynamically; callers that need reproducible results must make fn(i) depend on i only
// (e.g. through Rng::Stream(seed, i)), never on the thread or on the order of execution.
//
// Exceptions must not escape fn: report failures through Status values stored per index.
#pragma once

#include <cstddef>
#include <functional>

namespace medscribe {

// Number of hardware threads (at least 1).
int HardwareJobs();
void ParallelFor(size_t n, int jobs, const std::function<void(size_t)>& fn);

}  // namespace medscribe
