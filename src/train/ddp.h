// Data-parallel gradient reduction with communication overlapped with backward, as PyTorch's
// DistributedDataParallel does it: parameters are packed into buckets (about `bucket_bytes`
// each) in reverse registration order, which is roughly the order backward produces their
// gradients; a hook on every parameter copies its gradient into its bucket, and the moment a
// bucket is complete its all-reduce starts while backward goes on computing earlier layers.
// Buckets are launched strictly in order, so every rank issues the same collectives in the same
// order. Finish() waits for the rest and writes the reduced gradients back.
//
// Gradients are summed over ranks (the trainer divides the loss by the global token count, so
// the sum is the gradient of the global mean). Micro-steps of gradient accumulation that are not
// the last call Prepare(false): the hooks stand aside, gradients accumulate locally, and nothing
// is sent.
//
// Thread safety: used from the training thread; the hooks run on the autograd thread, which on
// CPU is the thread that called backward().
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "common/status.h"
#include "train/distributed.h"

namespace medscribe::train {

class GradientReducer {
 public:
  // REQUIRES: `comm` outlives this object; `params` are the model's trainable leaf tensors in
  // registration order, identical in shape and order on every rank. `overlap` false: nothing is
  // sent during backward and every bucket is reduced in Finish() (the baseline).
  GradientReducer(std::vector<torch::Tensor> params, Communicator* comm, int64_t bucket_bytes,
                  bool overlap = true);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Arms the reducer for the next backward. `sync` false: a micro-step whose gradients only
  // accumulate.
  void Prepare(bool sync);

  // After the last micro-step's backward: reduces every bucket not yet sent (a parameter that
  // received no gradient contributes zeros), waits, and stores the sums in each parameter's
  // grad(). Unavailable when a collective fails.
  Status Finish();

  size_t num_buckets() const { return buckets_.size(); }
  // Buckets whose all-reduce started during backward in the last Finish()ed step.
  size_t launched_during_backward() const { return launched_early_; }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offsets;
    torch::Tensor flat;
    size_t ready = 0;
    std::unique_ptr<PendingCollective> pending;
  };
  void OnGradient(size_t param, const torch::Tensor& grad);
  void LaunchReady();

  std::vector<torch::Tensor> params_;
  Communicator* comm_;
  bool overlap_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_, slot_of_;
  std::vector<bool> ready_;
  std::vector<unsigned> hooks_;
  size_t next_launch_ = 0;
  size_t launched_early_ = 0;
  bool armed_ = false;
};

}  // namespace medscribe::train
