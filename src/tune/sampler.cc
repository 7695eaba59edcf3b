#include "tune/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

namespace medscribe::tune {
namespace {

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kPi = 3.141592653589793;

bool IsLog(const Param& p) { return p.kind == Param::Kind::kLogUniform; }

// The parameter's range in the space where kernels live (log for loguniform; ints widened by
// half a step so that each integer gets an equal share).
std::pair<double, double> Range(const Param& p) {
  if (IsLog(p)) return {std::log(p.low), std::log(p.high)};
  if (p.kind == Param::Kind::kInt) return {p.low - 0.5, p.high + 0.5};
  return {p.low, p.high};
}

double ToInternal(const Param& p, double v) { return IsLog(p) ? std::log(v) : v; }
double FromInternal(const Param& p, double x) {
  if (IsLog(p)) return std::exp(x);
  if (p.kind == Param::Kind::kInt) return std::clamp(std::round(x), p.low, p.high);
  return x;
}

std::string SampleOne(const Param& p, std::mt19937_64& rng) {
  if (p.kind == Param::Kind::kChoice) {
    std::uniform_int_distribution<size_t> d(0, p.choices.size() - 1);
    return p.choices[d(rng)];
  }
  const auto [lo, hi] = Range(p);
  std::uniform_real_distribution<double> d(lo, hi);
  return FormatValue(p, FromInternal(p, d(rng)));
}

// A mixture of Gaussians truncated to [lo, hi], one kernel per point plus a wide prior kernel.
struct Parzen {
  std::vector<double> mu, sigma, mass;  // mass: each kernel's share inside [lo, hi]
  double lo = 0, hi = 0;

  Parzen(std::vector<double> points, double lo_in, double hi_in) : lo(lo_in), hi(hi_in) {
    const double width = hi - lo;
    points.push_back(0.5 * (lo + hi));  // the prior
    std::vector<double> sorted = points;
    std::sort(sorted.begin(), sorted.end());
    const double min_sigma = width / std::min(100.0, 1.0 + static_cast<double>(points.size()));
    for (size_t i = 0; i + 1 < points.size(); ++i) {
      const double x = points[i];
      const auto it = std::lower_bound(sorted.begin(), sorted.end(), x);
      const double left = it == sorted.begin() ? x - lo : x - *std::prev(it);
      const auto up = std::upper_bound(sorted.begin(), sorted.end(), x);
      const double right = up == sorted.end() ? hi - x : *up - x;
      mu.push_back(x);
      sigma.push_back(std::clamp(std::max(left, right), min_sigma, width));
    }
    mu.push_back(points.back());
    sigma.push_back(width);
    for (size_t i = 0; i < mu.size(); ++i) mass.push_back(std::max(1e-12, Cdf(hi, i) - Cdf(lo, i)));
  }
  double Cdf(double x, size_t i) const {
    return 0.5 * (1 + std::erf((x - mu[i]) / (sigma[i] * kSqrt2)));
  }
  double LogPdf(double x) const {
    double p = 0;
    for (size_t i = 0; i < mu.size(); ++i) {
      const double z = (x - mu[i]) / sigma[i];
      p += std::exp(-0.5 * z * z) / (sigma[i] * std::sqrt(2 * kPi) * mass[i]);
    }
    return std::log(std::max(p / static_cast<double>(mu.size()), 1e-300));
  }
  double Sample(std::mt19937_64& rng) const {
    std::uniform_int_distribution<size_t> pick(0, mu.size() - 1);
    const size_t i = pick(rng);
    std::normal_distribution<double> d(mu[i], sigma[i]);
    for (int tries = 0; tries < 100; ++tries) {
      const double x = d(rng);
      if (x >= lo && x <= hi) return x;
    }
    return std::clamp(mu[i], lo, hi);
  }
};

}  // namespace

Assignment SampleRandom(const std::vector<Param>& space, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Assignment a;
  for (const Param& p : space) a[p.name] = SampleOne(p, rng);
  return a;
}

Assignment SampleTpe(const std::vector<Param>& space, const std::vector<Observation>& history,
                     int startup, uint64_t seed, const TpeOptions& options) {
  if (history.size() < static_cast<size_t>(std::max(startup, 2))) return SampleRandom(space, seed);
  std::vector<const Observation*> order;
  for (const Observation& o : history) order.push_back(&o);
  std::stable_sort(order.begin(), order.end(), [](const Observation* a, const Observation* b) {
    if (a->pruned != b->pruned) return !a->pruned;
    if (a->pruned && a->last_step != b->last_step) return a->last_step > b->last_step;
    return a->rank_value < b->rank_value;
  });
  const size_t n_good = std::clamp<size_t>(
      static_cast<size_t>(std::ceil(options.gamma * static_cast<double>(order.size()))), 1,
      order.size() - 1);
  std::mt19937_64 rng(seed);
  Assignment out;
  for (const Param& p : space) {
    std::vector<std::string> good, bad;
    for (size_t i = 0; i < order.size(); ++i) {
      const auto it = order[i]->values.find(p.name);
      if (it == order[i]->values.end()) continue;
      (i < n_good ? good : bad).push_back(it->second);
    }
    if (p.kind == Param::Kind::kChoice) {
      // Smoothed counts: (n_c + 1) / (n + K) on each side.
      const auto weight = [&](const std::vector<std::string>& side, const std::string& c) {
        const double n = static_cast<double>(std::count(side.begin(), side.end(), c));
        return (n + 1) / (static_cast<double>(side.size()) + static_cast<double>(p.choices.size()));
      };
      std::vector<double> lw;
      for (const std::string& c : p.choices) lw.push_back(weight(good, c));
      std::discrete_distribution<size_t> draw(lw.begin(), lw.end());
      double best = -std::numeric_limits<double>::infinity();
      std::string chosen = p.choices.front();
      for (int k = 0; k < options.candidates; ++k) {
        const std::string& c = p.choices[draw(rng)];
        const double score = std::log(weight(good, c)) - std::log(weight(bad, c));
        if (score > best) best = score, chosen = c;
      }
      out[p.name] = chosen;
      continue;
    }
    const auto [lo, hi] = Range(p);
    const auto internal = [&](const std::vector<std::string>& side) {
      std::vector<double> xs;
      for (const std::string& s : side) {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end != s.c_str() && std::isfinite(v) && (!IsLog(p) || v > 0))
          xs.push_back(std::clamp(ToInternal(p, v), lo, hi));
      }
      return xs;
    };
    const Parzen l(internal(good), lo, hi), g(internal(bad), lo, hi);
    double best = -std::numeric_limits<double>::infinity(), chosen = 0.5 * (lo + hi);
    for (int k = 0; k < options.candidates; ++k) {
      const double x = l.Sample(rng);
      const double score = l.LogPdf(x) - g.LogPdf(x);
      if (score > best) best = score, chosen = x;
    }
    out[p.name] = FormatValue(p, FromInternal(p, chosen));
  }
  return out;
}

}  // namespace medscribe::tune
