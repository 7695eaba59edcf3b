// AdamW whose state can be sharded across data-parallel ranks (ZeRO, Rajbhandari et al. 2020):
//
//   stage 0  every rank holds the whole optimizer state and updates every parameter;
//   stage 1  each parameter is owned by one rank, which alone holds its AdamW moments and
//            updates it; gradients are still all-reduced (train/ddp.h), and after the step every
//            owner broadcasts its updated parameters;
//   stage 2  as stage 1, and gradients are only reduced to their owner (ReduceGradients()); the
//            other ranks drop them, so gradient memory after backward shrinks as well;
//   stage 3  as stage 2, and the parameters of the sharded units (SetShardedUnits) are held by
//            their owner alone: a unit is gathered from the owners when it is needed (the
//            trainer's decoder blocks just before each runs, forward and again for its
//            recomputation in backward, model/activation_checkpoint.h; the rest for a step's
//            forward and backward), released after, and its gradients are reduced to their
//            owners as soon as its backward is done.
//
// Parameters are assigned whole, largest first, to the rank with the fewest bytes so far (the
// same partition on every rank), so the optimizer-state bytes per rank fall by about the world
// size. Gradient clipping uses the global norm in every stage.
//
// Checkpoints: stage 0 writes one optimizer.pt (rank 0); stages 1 and 2 write one shard per rank,
// optimizer.rank-R-of-W.pt, each written and flushed by its own rank. Resuming needs the same
// stage and world size (Load says so otherwise).
//
// Thread safety: used from the training thread. REQUIRES: every rank calls the collective
// methods (ReduceGradients, ClipGradNorm, Step) in the same order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "model/activation_checkpoint.h"
#include "train/distributed.h"

namespace medscribe::train {

// Owner rank of each parameter.
std::vector<int> PartitionParameters(const std::vector<torch::Tensor>& params, int world);

class ZeroOptimizer {
 public:
  // REQUIRES: 0 <= stage <= 3; `comm` outlives this object.
  ZeroOptimizer(std::vector<torch::Tensor> params, Communicator* comm, int stage,
                const torch::optim::AdamWOptions& options);

  int stage() const { return stage_; }
  void ZeroGrad();
  void SetLearningRate(double lr);
  // Stage 2: sums each parameter's gradient into its owner and frees it elsewhere. Other
  // stages: nothing to do (the gradients were all-reduced already).
  Status ReduceGradients();
  // Scales the gradients so that their global L2 norm is at most `max_norm` (as
  // torch::nn::utils::clip_grad_norm_); returns the norm before clipping.
  StatusOr<double> ClipGradNorm(double max_norm);
  // One AdamW step on the owned parameters, then every owner broadcasts its parameters.
  Status Step();

  // Stage 3: the parameters (indices into the constructor's list) of each sharded unit. Every
  // rank then releases the ones it does not own. REQUIRES: stage 3, called once, with the same
  // units on every rank, while every parameter is whole.
  void SetShardedUnits(std::vector<std::vector<size_t>> units);
  // Hooks that gather unit `u` around each run and reduce its gradients after its backward
  // (model::Checkpointed); they throw c10::Error when a collective fails.
  model::CheckpointHooks HooksFor(size_t u);
  // Every sharded unit whole (for a checkpoint, validation of the weights or the final model),
  // and released again. Collective.
  Status GatherAll();
  void ReleaseAll();
  // One unit whole (collective), released; its gradients reduced to their owners, then released
  // (collective).
  Status GatherUnit(size_t u) { return Gather(u); }
  void ReleaseUnit(size_t u) { Release(u); }
  Status ReduceUnitGradients(size_t u);

  // Tensor parallelism (stages 0 to 2): `sharded[k]` says parameter k is this rank's shard of a
  // tensor split over `tp`, whose squared gradient norm ClipGradNorm then sums over `tp`.
  // REQUIRES: `tp` outlives this object; sharded.size() is the number of parameters.
  void SetTensorParallel(Communicator* tp, std::vector<bool> sharded);
  // Pipeline parallelism: the stages of `pp` hold different parameters, so ClipGradNorm sums the
  // squared norms over `pp`, leaving out parameter k where !counted[k] (the last stage's copy of
  // tied embeddings). Checkpoint files are named for `stage` of `stages`.
  // REQUIRES: `pp` outlives this object; counted.size() is the number of parameters.
  void SetPipeline(Communicator* pp, std::vector<bool> counted, int stage, int stages);
  // The general form: the ranks of `group` hold different parameters (pipeline stages,
  // parameter servers); checkpoint files carry `file_tag` (".stage-0-of-2", ".server-1-of-2").
  void SetPartitioned(Communicator* group, std::vector<bool> counted, std::string file_tag);
  // The state lives on other ranks (parameter servers, train/parameter_server.h): this rank
  // holds none, Save writes nothing and Load reads nothing.
  void SetRemote() { remote_ = true; }
  // Replaces the AdamW moments of every parameter that has them by fn(k, moment), k the
  // parameter's index, keeping the step counts (to cut loaded moments into shards, or to gather
  // them whole for a checkpoint). fn may be collective: it is called in parameter order.
  void TransformState(const std::function<torch::Tensor(size_t, const torch::Tensor&)>& fn);

  // Bytes of AdamW moments held by this rank.
  int64_t state_bytes() const;

  // Files of this rank in a checkpoint directory ("" when this rank writes none).
  std::string ShardName() const;
  // `write` false: this rank's file is written by another (a tensor-parallel peer).
  Status Save(const std::string& checkpoint_dir, bool write = true) const;
  Status Load(const std::string& checkpoint_dir);

 private:
  std::vector<torch::Tensor> params_;
  Communicator* comm_;
  int stage_;
  std::vector<int> owner_;
  std::vector<torch::Tensor> owned_;
  std::unique_ptr<torch::optim::AdamW> adamw_;
  Status Gather(size_t u);
  void Release(size_t u);

  Communicator* tp_ = nullptr;
  std::vector<bool> sharded_;
  Communicator* pp_ = nullptr;  // the group whose ranks hold different parameters
  std::vector<bool> counted_;
  std::string file_tag_;  // ".stage-S-of-P" or ".server-S-of-K" (SetPartitioned)
  bool remote_ = false;
  std::vector<std::vector<size_t>> units_;  // stage 3
  std::vector<bool> in_unit_;
  std::vector<std::vector<int64_t>> shapes_;
};

}  // namespace medscribe::train
