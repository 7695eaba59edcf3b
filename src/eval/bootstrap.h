// Percentile bootstrap confidence intervals over reports.
//
// Example:
//   Interval f1 = Bootstrap(n, [&](const std::vector<size_t>& idx) { return MicroF1(idx); });
//   // f1.value on all reports; [f1.low, f1.high] the 95% interval of 1,000 resamples.
//
// Resamples draw n report indices with replacement from a seeded generator, so an evaluation
// prints the same interval every time it runs on the same reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace medscribe::eval {

struct Interval {
  double value = 0, low = 0, high = 0;
};

// `metric(indices)` on the identity (value) and on `replicates` resamples (low: 2.5th
// percentile, high: 97.5th). REQUIRES: n > 0, replicates > 0.
Interval Bootstrap(size_t n, const std::function<double(const std::vector<size_t>&)>& metric,
                   int replicates = 1000, uint64_t seed = 1);

// The resamples Bootstrap draws, for metrics that must share them.
std::vector<std::vector<size_t>> Resamples(size_t n, int replicates = 1000, uint64_t seed = 1);
// The interval of precomputed replicate values.
Interval PercentileInterval(double value, std::vector<double> replicate_values);

}  // namespace medscribe::eval
