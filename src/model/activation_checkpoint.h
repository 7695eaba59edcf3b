// Activation checkpointing: a block whose activations are not kept for backward but recomputed
// when its gradient is needed, trading compute (one more forward per block) for memory.
#pragma once

#include <functional>

#include <torch/torch.h>

namespace medscribe::model {

// Returns fn(x). When grad mode is on and x requires grad, fn runs without recording and only x
// is kept; backward runs fn again with recording and back-propagates through it, which also
// accumulates the gradients of the parameters fn uses. REQUIRES: fn is deterministic (no
// dropout), takes everything but x from its captures, and those captures live until backward.
torch::Tensor Checkpointed(std::function<torch::Tensor(const torch::Tensor&)> fn,
                           const torch::Tensor& x);

// Hooks around a checkpointed block whose weights are not always present (fully sharded
// training): `gather` runs before each run of fn (forward, and the recomputation in backward),
// `release` after the forward run, and `after_backward` once the recomputation's backward has
// accumulated the weights' gradients (it reduces and releases them). A hook may throw c10::Error
// to fail the pass. Without grad mode: gather, fn, release.
struct CheckpointHooks {
  std::function<void()> gather, release, after_backward;
};
torch::Tensor Checkpointed(std::function<torch::Tensor(const torch::Tensor&)> fn,
                           const torch::Tensor& x, CheckpointHooks hooks);

}  // namespace medscribe::model
