#include "train/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace medscribe::train {
namespace {

// The autocast switches moved to device-type arguments in LibTorch 2.4.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool Enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void Enable(bool cuda, bool on, at::ScalarType t) {
  const at::DeviceType d = cuda ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_dtype(d, t);
  at::autocast::set_autocast_enabled(d, on);
}
#else
bool Enabled(bool cuda) {
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void Enable(bool cuda, bool on, at::ScalarType t) {
  if (cuda) {
    at::autocast::set_autocast_gpu_dtype(t);
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_autocast_cpu_dtype(t);
    at::autocast::set_cpu_enabled(on);
  }
}
#endif

}  // namespace

StatusOr<Precision> ParsePrecision(const std::string& name, const torch::Device& device) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "fp16") {
    if (!device.is_cuda()) {
      return InvalidArgumentError(
          "--precision fp16 needs a CUDA device (dynamic loss scaling on GPUs); on a CPU use "
          "--precision bf16");
    }
    return Precision::kFp16;
  }
  return InvalidArgumentError("--precision must be fp32, bf16 or fp16, not '" + name + "'");
}

const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kFp32:
      return "fp32";
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp16:
      return "fp16";
  }
  return "?";
}

AutocastScope::AutocastScope(Precision p, const torch::Device& device) {
  if (p == Precision::kFp32) return;
  cuda_ = device.is_cuda();
  was_enabled_ = Enabled(cuda_);
  Enable(cuda_, true, p == Precision::kBf16 ? at::kBFloat16 : at::kHalf);
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  Enable(cuda_, was_enabled_, cuda_ ? at::kHalf : at::kBFloat16);
  if (!was_enabled_) at::autocast::clear_cache();
}

LossScaler::LossScaler(bool enabled, double initial_scale, int growth_interval)
    : enabled_(enabled), scale_(enabled ? initial_scale : 1.0), growth_interval_(growth_interval) {}

bool LossScaler::Unscale(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  bool finite = true;
  for (const torch::Tensor& p : params) {
    if (!p.grad().defined()) continue;
    torch::Tensor g = p.grad();
    if (enabled_) g.mul_(1.0 / scale_);
    finite = finite && torch::isfinite(g).all().item<bool>();
  }
  return finite;
}

void LossScaler::Update(bool finite) {
  if (!finite) {
    ++skipped_;
    good_steps_ = 0;
    if (enabled_) scale_ = std::max(1.0, scale_ / 2);
    return;
  }
  if (enabled_ && ++good_steps_ >= growth_interval_) {
    scale_ *= 2;
    good_steps_ = 0;
  }
}

}  // namespace medscribe::train
