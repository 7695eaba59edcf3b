// Mixed precision for training: autocast (bf16 on CPU or CUDA, fp16 on CUDA) around the forward
// pass while the weights and optimizer state stay fp32 ("master weights"), and dynamic loss
// scaling for fp16, whose narrow exponent range would flush small gradients to zero.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "common/status.h"

namespace medscribe::train {

enum class Precision { kFp32, kBf16, kFp16 };

// "fp32", "bf16" or "fp16"; InvalidArgument otherwise, and for fp16 on a CPU device.
StatusOr<Precision> ParsePrecision(const std::string& name, const torch::Device& device);
const char* PrecisionName(Precision p);

// Autocast on `device` with the precision's type while alive (nothing for fp32); restores the
// previous state. Thread safety: autocast state is per thread; use on the training thread.
class AutocastScope {
 public:
  AutocastScope(Precision p, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false, was_enabled_ = false, cuda_ = false;
};

// Dynamic loss scaling (as torch.cuda.amp.GradScaler): the loss is multiplied by scale() before
// backward; Unscale() divides the gradients back and reports whether all are finite. A step with
// non-finite gradients is skipped and the scale halves; after `growth_interval` good steps in a
// row it doubles. Disabled, scale() is 1 and Unscale() only checks.
class LossScaler {
 public:
  explicit LossScaler(bool enabled, double initial_scale = 65536.0, int growth_interval = 2000);
  double scale() const { return scale_; }
  // True when every defined gradient is finite after unscaling.
  bool Unscale(const std::vector<torch::Tensor>& params);
  // Records the outcome of a step (`finite` from Unscale, agreed over all ranks).
  void Update(bool finite);
  int64_t skipped_steps() const { return skipped_; }

 private:
  bool enabled_;
  double scale_;
  int growth_interval_, good_steps_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace medscribe::train
