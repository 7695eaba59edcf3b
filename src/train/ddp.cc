#include "train/ddp.h"

#include <torch/torch.h>

namespace medscribe::train {

GradientReducer::GradientReducer(std::vector<torch::Tensor> params, Communicator* comm,
                                 int64_t bucket_bytes, bool overlap)
    : params_(std::move(params)), comm_(comm), overlap_(overlap) {
  bucket_of_.resize(params_.size());
  slot_of_.resize(params_.size());
  ready_.assign(params_.size(), false);
  // Reverse registration order: the last layers' gradients come first in backward.
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const torch::Tensor& p = params_[k];
    const int64_t size = p.numel() * static_cast<int64_t>(p.element_size());
    if (buckets_.empty() || (bytes > 0 && bytes + size > bucket_bytes)) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    slot_of_[k] = b.params.size();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + params_[b.params.back()].numel());
    b.params.push_back(k);
    bytes += size;
  }
  for (Bucket& b : buckets_) {
    const int64_t n = b.offsets.back() + params_[b.params.back()].numel();
    b.flat = torch::zeros({n}, params_[b.params.front()].options());
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    hooks_.push_back(params_[k].register_hook([this, k](torch::Tensor grad) {
      OnGradient(k, grad);
      return torch::Tensor();  // the gradient itself is left as it is
    }));
  }
}

GradientReducer::~GradientReducer() {
  for (size_t k = 0; k < params_.size(); ++k) params_[k].remove_hook(hooks_[k]);
  for (Bucket& b : buckets_)
    if (b.pending) (void)b.pending->Wait();
}

void GradientReducer::Prepare(bool sync) {
  armed_ = sync && overlap_;
  next_launch_ = 0;
  launched_early_ = 0;
  ready_.assign(params_.size(), false);
  for (Bucket& b : buckets_) b.ready = 0;
}

void GradientReducer::OnGradient(size_t k, const torch::Tensor& grad) {
  if (!armed_ || ready_[k]) return;
  Bucket& b = buckets_[bucket_of_[k]];
  torch::NoGradGuard no_grad;
  torch::Tensor slot = b.flat.narrow(0, b.offsets[slot_of_[k]], params_[k].numel());
  // What .grad will hold once this gradient is accumulated: earlier micro-steps plus this one.
  const torch::Tensor& earlier = params_[k].grad();
  if (earlier.defined()) {
    torch::add_out(slot, earlier.reshape({-1}), grad.reshape({-1}));
  } else {
    slot.copy_(grad.reshape({-1}));
  }
  ready_[k] = true;
  ++b.ready;
  LaunchReady();
}

void GradientReducer::LaunchReady() {
  while (next_launch_ < buckets_.size() &&
         buckets_[next_launch_].ready == buckets_[next_launch_].params.size()) {
    Bucket& b = buckets_[next_launch_++];
    b.pending = comm_->AllReduceSumAsync(b.flat);
    ++launched_early_;
  }
}

Status GradientReducer::Finish() {
  armed_ = false;
  torch::NoGradGuard no_grad;
  // Whatever did not arrive through a hook (overlap off, unused parameters) is taken from grad().
  for (size_t i = next_launch_; i < buckets_.size(); ++i) {
    Bucket& b = buckets_[i];
    for (size_t s = 0; s < b.params.size(); ++s) {
      const size_t k = b.params[s];
      if (ready_[k]) continue;
      torch::Tensor slot = b.flat.narrow(0, b.offsets[s], params_[k].numel());
      const torch::Tensor& g = params_[k].grad();
      if (g.defined())
        slot.copy_(g.reshape({-1}));
      else
        slot.zero_();
    }
    b.pending = comm_->AllReduceSumAsync(b.flat);
  }
  next_launch_ = buckets_.size();
  Status status = OkStatus();
  for (Bucket& b : buckets_) {
    if (Status s = b.pending->Wait(); !s.ok() && status.ok()) status = s;
    b.pending.reset();
  }
  RETURN_IF_ERROR(status);
  for (Bucket& b : buckets_) {
    for (size_t s = 0; s < b.params.size(); ++s) {
      torch::Tensor& p = params_[b.params[s]];
      const torch::Tensor reduced = b.flat.narrow(0, b.offsets[s], p.numel()).view_as(p);
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      p.mutable_grad().copy_(reduced);
    }
  }
  return OkStatus();
}

}  // namespace medscribe::train
