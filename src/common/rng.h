// Deterministic random-number streams.
//
// Rng is xoshiro256** seeded through SplitMix64. Its distributions are implemented here, not taken
// from <random>, whose distributions differ between standard libraries: the same (seed, stream)
// gives the same numbers on every platform MedScribe builds on. Independent streams are derived
// from a root seed and any number of stream ids, so that parallel work (one stream per encounter)
// is reproducible whatever the thread count or scheduling.
//
// Example:
//   Rng rng = Rng::Stream(seed, kEncounterStream, index);
//   double u = rng.Uniform();          // [0, 1)
//   int k = rng.UniformInt(1, 6);      // 1..6 inclusive
//
// Thread safety: an Rng is not thread-safe; give each thread or task its own stream.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace medscribe {

// Mixes 64 bits into 64 well-distributed bits (SplitMix64 finalizer).
uint64_t Mix64(uint64_t x);
// Stable 64-bit FNV-1a hash of bytes (for deriving stream ids from names).
uint64_t HashString(std::string_view s);

class Rng {
 public:
  explicit Rng(uint64_t seed);
  // A stream derived from `seed` and the ids; distinct id lists give independent streams.
  static Rng Stream(uint64_t seed, std::initializer_list<uint64_t> ids);
  template <typename... Ids>
  static Rng Stream(uint64_t seed, Ids... ids) {
    return Stream(seed, {static_cast<uint64_t>(ids)...});
  }

  uint64_t Next();
  // Uniform in [0, 1) with 53 bits of precision.
  double Uniform();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi] (inclusive). REQUIRES: lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);
  // Standard normal (Marsaglia polar method), scaled.
  double Normal(double mean = 0.0, double stddev = 1.0);
  // True with probability p.
  bool Bernoulli(double p) { return Uniform() < p; }
  // Index drawn with probability proportional to weights. REQUIRES: some weight > 0.
  size_t Weighted(std::span<const double> weights);
  // A uniformly chosen element. REQUIRES: !items.empty().
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(UniformInt(0, static_cast<int64_t>(items.size()) - 1))];
  }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[static_cast<size_t>(UniformInt(0, static_cast<int64_t>(N) - 1))];
  }

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace medscribe
