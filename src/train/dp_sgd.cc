#include "train/dp_sgd.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "train/privacy_accountant.h"

namespace medscribe::train {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A uniform draw in [0, 1) from a fixed hash of three words (SplitMix64's finalizer).
double Uniform01(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t h = (a + 0x9E3779B97F4A7C15ULL) * 0xBF58476D1CE4E5B9ULL;
  h ^= (b + 0x632BE59BD9B4E019ULL) * 0x94D049BB133111EBULL;
  h ^= h >> 31;
  h += c * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);
}

}  // namespace

StatusOr<DpSgdPlan> PlanDpSgd(const DpSgdOptions& o, int64_t train_examples, int64_t expected_batch,
                              int64_t max_steps) {
  if (!(o.max_grad_norm > 0) || !std::isfinite(o.max_grad_norm))
    return InvalidArgumentError("--dp-max-grad-norm must be a positive number");
  if (!(o.noise_multiplier >= 0) || !std::isfinite(o.noise_multiplier))
    return InvalidArgumentError("--dp-noise must be a non-negative number");
  if (!(o.epsilon >= 0) || !std::isfinite(o.epsilon))
    return InvalidArgumentError("--dp-epsilon must be a positive number");
  if (!(o.delta > 0 && o.delta < 1))
    return InvalidArgumentError("--dp-delta must lie strictly between 0 and 1");
  if (train_examples < 1) return InvalidArgumentError("DP-SGD needs training examples");
  if (max_steps < 1) return InvalidArgumentError("--max-steps must be at least 1");
  if (o.delta * static_cast<double>(train_examples) >= 1)
    return InvalidArgumentError(
        "--dp-delta " + Num(o.delta) +
        " is not below 1/N for the N = " + std::to_string(train_examples) +
        " training examples: a delta that large allows one example to be released whole; "
        "use at most " +
        Num(0.1 / static_cast<double>(train_examples)));
  if (expected_batch > train_examples)
    return InvalidArgumentError(
        "DP-SGD samples each example with probability (global batch) / (training examples), "
        "but the global batch of " +
        std::to_string(expected_batch) + " exceeds the " + std::to_string(train_examples) +
        " training examples; lower --batch-size");
  if (o.noise_multiplier == 0 && o.epsilon == 0)
    return InvalidArgumentError(
        "DP-SGD needs a privacy budget (--dp-epsilon E) or a noise multiplier (--dp-noise SIGMA)");
  DpSgdPlan p;
  p.sample_rate = static_cast<double>(expected_batch) / static_cast<double>(train_examples);
  p.max_grad_norm = o.max_grad_norm;
  p.delta = o.delta;
  p.steps = max_steps;
  if (o.noise_multiplier > 0) {
    p.noise_multiplier = o.noise_multiplier;
  } else {
    ASSIGN_OR_RETURN(p.noise_multiplier,
                     NoiseForEpsilon(p.sample_rate, max_steps, o.epsilon, o.delta));
  }
  ASSIGN_OR_RETURN(PrivacySpent spent,
                   DpSgdEpsilon(p.sample_rate, p.noise_multiplier, max_steps, o.delta));
  if (o.epsilon > 0 && spent.epsilon > o.epsilon) {
    // The most steps within the budget (epsilon grows with the steps).
    int64_t lo = 0, hi = max_steps;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo + 1) / 2;
      ASSIGN_OR_RETURN(const PrivacySpent s,
                       DpSgdEpsilon(p.sample_rate, p.noise_multiplier, mid, o.delta));
      if (s.epsilon <= o.epsilon)
        lo = mid;
      else
        hi = mid - 1;
    }
    if (lo == 0)
      return InvalidArgumentError("one step with noise " + Num(p.noise_multiplier) +
                                  " already spends more than --dp-epsilon " + Num(o.epsilon) +
                                  "; raise --dp-noise or the budget");
    p.steps = lo;
    ASSIGN_OR_RETURN(spent, DpSgdEpsilon(p.sample_rate, p.noise_multiplier, lo, o.delta));
  }
  p.epsilon = spent.epsilon;
  p.order = spent.order;
  return p;
}

std::vector<size_t> PoissonSample(size_t n, double q, uint64_t seed, uint64_t step) {
  std::vector<size_t> out;
  for (size_t i = 0; i < n; ++i)
    if (Uniform01(seed, step, i) < q) out.push_back(i);
  return out;
}

uint64_t DpNoiseSeed(uint64_t seed, int64_t step) {
  return static_cast<uint64_t>(Uniform01(seed ^ 0x5DEECE66DULL, static_cast<uint64_t>(step), 7) *
                               static_cast<double>(1ULL << 53));
}

PerExampleClipper::PerExampleClipper(std::vector<torch::Tensor> params, double max_norm)
    : params_(std::move(params)), max_norm_(max_norm) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : params_) sum_.push_back(torch::zeros_like(p));
}

double PerExampleClipper::AddExample() {
  torch::NoGradGuard no_grad;
  double squared = 0;
  for (const torch::Tensor& p : params_)
    if (p.grad().defined()) squared += p.grad().to(torch::kFloat64).pow(2).sum().item<double>();
  const double norm = std::sqrt(squared);
  const double scale = norm > max_norm_ ? max_norm_ / norm : 1.0;
  for (size_t k = 0; k < params_.size(); ++k) {
    torch::Tensor& g = params_[k].mutable_grad();
    if (!g.defined()) continue;
    sum_[k].add_(g, scale);
    g = torch::Tensor();
  }
  ++examples_;
  if (scale < 1) ++clipped_;
  return norm;
}

void PerExampleClipper::Finish(double noise_std, double denominator, uint64_t noise_seed) {
  torch::NoGradGuard no_grad;
  torch::Generator gen = at::detail::createCPUGenerator(noise_seed);
  for (size_t k = 0; k < params_.size(); ++k) {
    torch::Tensor g = sum_[k].clone();
    if (noise_std > 0) {
      const torch::Tensor noise =
          torch::randn(g.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat32));
      g.add_(noise.to(g.device(), g.scalar_type()), noise_std);
    }
    params_[k].mutable_grad() = g.div_(denominator);
    sum_[k].zero_();
  }
}

}  // namespace medscribe::train
