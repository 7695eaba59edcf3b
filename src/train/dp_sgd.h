// DP-SGD (Abadi et al., 2016): differentially private training of the report model.
//
// Each step draws its batch by Poisson sampling (every training example independently, with
// probability q), clips each example's gradient to L2 norm C, sums the clipped gradients, adds
// Gaussian noise of standard deviation sigma x C to the sum once per global step, and divides by
// the expected batch size q x N. The privacy spent is accounted with train/privacy_accountant.h.
//
// Per-example gradients come from one backward pass per example (micro-batching): LibTorch's C++
// API has no vectorized per-sample gradients (functorch's vmap) common to 1.13 and 2.x. The
// model must not mix examples in its forward pass (no batch norm in training mode).
//
// Pure functions and a single-threaded accumulator; not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "common/status.h"

namespace medscribe::train {

// What the user asks for. Enabled when max_grad_norm > 0. Give a noise multiplier, a privacy
// budget (epsilon), or both: the budget alone sets the smallest multiplier that spends it in the
// run's steps; with both, the run stops at the last step within the budget.
struct DpSgdOptions {
  double max_grad_norm = 0;     // C: each example's gradient is clipped to this L2 norm
  double noise_multiplier = 0;  // sigma; 0: derived from epsilon
  double epsilon = 0;           // the budget; 0: none (then noise_multiplier is required)
  double delta = 1e-5;
  bool enabled() const { return max_grad_norm > 0; }
};

// The run's privacy, fixed before its first step.
struct DpSgdPlan {
  double sample_rate = 0;  // q = expected batch / train examples
  double noise_multiplier = 0;
  double max_grad_norm = 0;
  double delta = 0;
  int64_t steps = 0;   // the steps the run may take (fewer than asked when the budget ends)
  double epsilon = 0;  // spent by those steps
  double order = 0;    // the RDP order that gave epsilon
};

// Plans a run of `max_steps` steps over `train_examples` examples with `expected_batch`
// examples per step on average (the global batch). InvalidArgument, naming the flag, when an
// option is out of range, q > 1, neither noise nor budget is given, or not even one step fits
// the budget.
StatusOr<DpSgdPlan> PlanDpSgd(const DpSgdOptions& o, int64_t train_examples, int64_t expected_batch,
                              int64_t max_steps);

// The examples of step `step`'s Poisson sample out of `n`: each index in [0, n) independently
// with probability q, from a fixed hash of (seed, step, index), in increasing order.
// Reproducible across runs, ranks and resumption.
std::vector<size_t> PoissonSample(size_t n, double q, uint64_t seed, uint64_t step);

// Accumulates clipped per-example gradients of `params` (the trainable leaf tensors) over one
// step and turns them into the step's noisy mean gradient.
class PerExampleClipper {
 public:
  // REQUIRES: max_norm > 0; params outlive this object.
  PerExampleClipper(std::vector<torch::Tensor> params, double max_norm);

  // After one example's backward: scales its gradient (the params' .grad) to norm at most
  // max_norm, adds it to the step's sum and clears .grad. Returns the norm before clipping.
  double AddExample();

  // Writes (sum + N(0, noise_std^2)) / denominator into every param's .grad (noise from a
  // generator seeded with `noise_seed`; noise_std 0 adds none) and starts a new step.
  // REQUIRES: denominator > 0.
  void Finish(double noise_std, double denominator, uint64_t noise_seed);

  // Examples since construction and how many of them were clipped (norm above max_norm).
  int64_t examples() const { return examples_; }
  int64_t clipped() const { return clipped_; }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> sum_;
  double max_norm_;
  int64_t examples_ = 0, clipped_ = 0;
};

// The seed of step `step`'s noise in a run seeded `seed`.
uint64_t DpNoiseSeed(uint64_t seed, int64_t step);

}  // namespace medscribe::train
