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

}  // namespace medscribe::model
