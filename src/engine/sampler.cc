#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace medscribe::engine {

Status Validate(const SamplingParams& p) {
  if (!(p.temperature >= 0) || p.temperature > 100)
    return InvalidArgumentError("temperature must be in [0, 100] (0 is greedy)");
  if (!(p.top_p > 0 && p.top_p <= 1)) return InvalidArgumentError("top_p must be in (0, 1]");
  if (p.top_k < 0) return InvalidArgumentError("top_k must be >= 0 (0: no limit)");
  if (!(p.repetition_penalty >= 1) || p.repetition_penalty > 10)
    return InvalidArgumentError("repetition_penalty must be in [1, 10]");
  if (p.max_tokens < 1) return InvalidArgumentError("max_tokens must be at least 1");
  if (p.stop.size() > 16) return InvalidArgumentError("at most 16 stop sequences");
  for (const std::string& s : p.stop)
    if (s.empty() || s.size() > 256)
      return InvalidArgumentError("a stop sequence must have 1 to 256 bytes");
  if (p.banned.size() > 4096) return InvalidArgumentError("at most 4096 banned tokens");
  if (p.redirect.size() > 4096) return InvalidArgumentError("at most 4096 redirect tokens");
  return OkStatus();
}

void ApplyBans(const SamplingParams& p, std::span<float> logits) {
  if (p.banned.empty() || logits.empty()) return;
  const int32_t v = static_cast<int32_t>(logits.size());
  const auto in = [v](int32_t t) { return t >= 0 && t < v; };
  const auto top =
      static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  const bool top_banned = std::find(p.banned.begin(), p.banned.end(), top) != p.banned.end();
  constexpr float kNever = -std::numeric_limits<float>::infinity();
  for (const int32_t t : p.banned)
    if (in(t)) logits[static_cast<size_t>(t)] = kNever;
  if (!top_banned || p.redirect.empty()) return;
  const bool any = std::any_of(p.redirect.begin(), p.redirect.end(), [&](int32_t t) {
    return in(t) && logits[static_cast<size_t>(t)] != kNever;
  });
  if (!any) return;
  std::vector<float> keep;
  keep.reserve(p.redirect.size());
  for (const int32_t t : p.redirect)
    keep.push_back(in(t) ? logits[static_cast<size_t>(t)] : kNever);
  std::fill(logits.begin(), logits.end(), kNever);
  for (size_t i = 0; i < p.redirect.size(); ++i)
    if (in(p.redirect[i])) logits[static_cast<size_t>(p.redirect[i])] = keep[i];
}

Sampler::Sampler(SamplingParams p) : p_(std::move(p)), rng_(p_.seed) {}

int32_t Sampler::Next(std::span<float> logits, std::span<const int32_t> history) {
  const int32_t v = static_cast<int32_t>(logits.size());
  ApplyBans(p_, logits);
  if (p_.repetition_penalty > 1) {
    // Each distinct token once, however often it occurred.
    std::vector<int32_t> seen(history.begin(), history.end());
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    const float r = static_cast<float>(p_.repetition_penalty);
    for (int32_t t : seen) {
      if (t < 0 || t >= v) continue;
      float& l = logits[static_cast<size_t>(t)];
      l = l > 0 ? l / r : l * r;
    }
  }
  if (p_.temperature == 0) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  // Candidates by descending logit (ties: lower id first, so results are portable).
  order_.resize(static_cast<size_t>(v));
  std::iota(order_.begin(), order_.end(), 0);
  const size_t k =
      p_.top_k > 0 ? std::min<size_t>(static_cast<size_t>(p_.top_k), order_.size()) : order_.size();
  auto by_logit = [&](int32_t a, int32_t b) {
    const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
    return la > lb || (la == lb && a < b);
  };
  std::partial_sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(k), order_.end(),
                    by_logit);
  order_.resize(k);
  // Softmax at the temperature, in double.
  std::vector<double> prob(k);
  const double top = logits[static_cast<size_t>(order_[0])];
  double sum = 0;
  for (size_t i = 0; i < k; ++i) {
    prob[i] = std::exp((logits[static_cast<size_t>(order_[i])] - top) / p_.temperature);
    sum += prob[i];
  }
  // Nucleus: the smallest prefix whose mass reaches top_p.
  size_t n = k;
  if (p_.top_p < 1) {
    double mass = 0;
    for (size_t i = 0; i < k; ++i) {
      mass += prob[i] / sum;
      if (mass >= p_.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  double total = 0;
  for (size_t i = 0; i < n; ++i) total += prob[i];
  // One uniform draw per token from the request's own stream.
  const double u = std::uniform_real_distribution<double>(0, total)(rng_);
  double acc = 0;
  for (size_t i = 0; i < n; ++i) {
    acc += prob[i];
    if (u < acc) return order_[i];
  }
  return order_[n - 1];
}

bool StopChecker::Done(int32_t token, int generated, const std::string& text, size_t* cut) const {
  *cut = text.size();
  for (const std::string& s : p_.stop) {
    const size_t at = text.find(s);
    if (at != std::string::npos) {
      *cut = std::min(*cut, at);
    }
  }
  if (*cut < text.size()) return true;
  return token == eos_ || generated >= p_.max_tokens;
}

}  // namespace medscribe::engine
