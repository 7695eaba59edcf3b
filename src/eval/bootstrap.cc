#include "eval/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace medscribe::eval {
namespace {

// SplitMix64: a small generator whose sequence is the same on every platform.
uint64_t Next(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::vector<std::vector<size_t>> Resamples(size_t n, int replicates, uint64_t seed) {
  std::vector<std::vector<size_t>> out(static_cast<size_t>(replicates), std::vector<size_t>(n));
  uint64_t state = seed;
  for (auto& r : out)
    for (size_t& i : r) i = static_cast<size_t>(Next(state) % n);
  return out;
}

Interval PercentileInterval(double value, std::vector<double> v) {
  Interval out{value, value, value};
  if (v.empty()) return out;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  };
  out.low = at(0.025);
  out.high = at(0.975);
  return out;
}

Interval Bootstrap(size_t n, const std::function<double(const std::vector<size_t>&)>& metric,
                   int replicates, uint64_t seed) {
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), size_t{0});
  std::vector<double> values;
  for (const auto& r : Resamples(n, replicates, seed)) values.push_back(metric(r));
  return PercentileInterval(metric(all), std::move(values));
}

}  // namespace medscribe::eval
