// Tensor parallelism of the decoder (Megatron-LM, Shoeybi et al. 2019): every rank of a group of
// size T holds 1/T of each block's matrices and computes 1/T of its work.
//
//   q/k/v, gate/up   column-parallel: each rank holds the output rows of its attention heads
//                    (heads / T query heads and kv_heads / T key/value heads, so grouped-query
//                    attention stays within a rank) or its slice of the MLP's width;
//   o, down          row-parallel: each rank holds the matching input columns, and the partial
//                    outputs are summed over the group (one all-reduce per attention and one per
//                    MLP in forward, the same in backward);
//   embeddings       vocabulary-parallel: each rank holds a contiguous range of token rows (the
//                    last range may be shorter); a lookup of a token another rank holds gives
//                    zeros and the sum over the group completes it. With tied embeddings the
//                    same rows are the output head, and the cross-entropy is computed from the
//                    shards' logits without gathering them (TensorParallelTargetLossSum).
//
// Norms, the vision encoder, projector and finding head are replicated: every rank of the group
// sees the same batch, and their gradients come out equal on every rank because the operators
// below make the residual stream's gradient complete before it reaches them.
//
// The two operators: CopyToTensorParallel is the identity forward and sums the gradient over the
// group backward (before a column-parallel layer); ReduceFromTensorParallel sums over the group
// forward and is the identity backward (after a row-parallel layer).
//
// Thread safety: a group is used from the thread that runs forward and backward (on CPU, autograd
// runs backward on the calling thread).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <torch/torch.h>

#include "common/status.h"
#include "model/config.h"
#include "model/llama.h"
#include "model/safetensors.h"

namespace medscribe::model {

// The collectives tensor parallelism needs, implemented by the trainer over its process group.
class TensorParallelGroup {
 public:
  virtual ~TensorParallelGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Replaces `t` (contiguous) by its sum over the group, in place. Throws c10::Error when the
  // collective fails (it runs inside autograd; the trainer turns it into a Status).
  virtual void AllReduceSum(torch::Tensor& t) = 0;
};

// The token rows [first, first + count) of a vocabulary of `vocab` held by `rank` of `size`:
// ceil(vocab / size) rows each, the last rank the rest.
std::pair<int64_t, int64_t> VocabRange(int64_t vocab, int rank, int size);

// OK when the decoder can be split over `size` ranks; otherwise InvalidArgument naming what does
// not divide (attention heads, key/value heads, MLP width) or a vocabulary smaller than `size`.
Status CheckTensorParallel(const DecoderConfig& c, int size);

// Cuts the decoder's parameters down to `group`'s rank's shards (in place: the parameter tensors
// keep their identity, so an optimizer may be built before or after) and makes its forward pass
// use `group`. REQUIRES: CheckTensorParallel(d->config, group->size()) is OK; `group` outlives
// the decoder; the weights are the full ones, equal on every rank of the group.
void ShardDecoder(LlamaForCausalLM& d, TensorParallelGroup* group);

// How parameter `name` (a decoder name without prefix, e.g. "model.layers.0.mlp.up_proj.weight")
// is split: the dimension cut (0 rows, 1 columns) or -1 when replicated.
int ShardDimension(const std::string& name);

// The shard of `full` that `rank` of `size` holds for parameter `name` (the tensor itself when
// replicated). REQUIRES: the shapes of a decoder that passes CheckTensorParallel.
torch::Tensor ShardOf(const std::string& name, const torch::Tensor& full, const DecoderConfig& c,
                      int rank, int size);

// The full tensor of parameter `name` from this rank's `shard`. Collective: REQUIRES every rank
// of the group to call it for the same name.
torch::Tensor GatherShard(const std::string& name, const torch::Tensor& shard,
                          const DecoderConfig& c, TensorParallelGroup* group);

torch::Tensor CopyToTensorParallel(const torch::Tensor& x, TensorParallelGroup* group);
torch::Tensor ReduceFromTensorParallel(const torch::Tensor& x, TensorParallelGroup* group);

// The summed next-token loss of TargetLossSum for a sharded decoder: hidden [N, hidden] at the
// target positions, `wanted` [N] their token ids, `rows` this rank's output rows [V_local,
// hidden]. Each rank computes its logits only; the log-sum-exp and the target's logit are
// completed over the group. Equal on every rank of the group.
torch::Tensor TensorParallelCrossEntropySum(const torch::Tensor& hidden,
                                            const torch::Tensor& wanted, const torch::Tensor& rows,
                                            int64_t vocab, TensorParallelGroup* group,
                                            const torch::Tensor& token_weights = {});

}  // namespace medscribe::model
