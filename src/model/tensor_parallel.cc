#include "model/tensor_parallel.h"

#include <torch/torch.h>

namespace medscribe::model {
namespace F = torch::nn::functional;
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

TensorParallelGroup* GroupOf(AutogradContext* ctx) {
  return reinterpret_cast<TensorParallelGroup*>(ctx->saved_data["group"].toInt());
}

int64_t Handle(TensorParallelGroup* g) { return reinterpret_cast<int64_t>(g); }

// f: identity forward, sum of the gradient over the group backward.
struct CopyTo : torch::autograd::Function<CopyTo> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, int64_t group) {
    ctx->saved_data["group"] = group;
    return x.view_as(x);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    torch::Tensor g = grad[0].contiguous().clone();
    GroupOf(ctx)->AllReduceSum(g);
    return {g, torch::Tensor()};
  }
};

// g: sum over the group forward, identity backward.
struct ReduceFrom : torch::autograd::Function<ReduceFrom> {
  static torch::Tensor forward(AutogradContext*, const torch::Tensor& x, int64_t group) {
    torch::Tensor s = x.contiguous().clone();
    reinterpret_cast<TensorParallelGroup*>(group)->AllReduceSum(s);
    return s;
  }
  static variable_list backward(AutogradContext*, variable_list grad) {
    return {grad[0], torch::Tensor()};
  }
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool VocabSharded(const std::string& name) {
  return name == "model.embed_tokens.weight" || name == "lm_head.weight";
}

// [first, count) of dimension `dim` of `full_size` held by `rank`.
std::pair<int64_t, int64_t> Range(const std::string& name, int64_t full_size, int rank, int size) {
  if (VocabSharded(name)) return VocabRange(full_size, rank, size);
  const int64_t part = full_size / size;
  return {part * rank, part};
}

}  // namespace

std::pair<int64_t, int64_t> VocabRange(int64_t vocab, int rank, int size) {
  const int64_t part = (vocab + size - 1) / size;
  const int64_t first = std::min<int64_t>(vocab, part * rank);
  return {first, std::min<int64_t>(part, vocab - first)};
}

Status CheckTensorParallel(const DecoderConfig& c, int size) {
  if (size < 1) return InvalidArgumentError("--tp must be at least 1");
  if (size == 1) return OkStatus();
  const std::string t = std::to_string(size);
  if (c.num_attention_heads % size != 0)
    return InvalidArgumentError("--tp " + t + " does not divide the decoder's " +
                                std::to_string(c.num_attention_heads) +
                                " attention heads; choose a divisor of the head count");
  if (c.num_key_value_heads % size != 0)
    return InvalidArgumentError("--tp " + t + " does not divide the decoder's " +
                                std::to_string(c.num_key_value_heads) +
                                " key/value heads (grouped-query attention keeps a key/value head "
                                "with its query heads); choose a divisor of the key/value heads");
  if (c.intermediate_size % size != 0)
    return InvalidArgumentError("--tp " + t + " does not divide the decoder's MLP width " +
                                std::to_string(c.intermediate_size));
  if (c.vocab_size < size * 2)
    return InvalidArgumentError("--tp " + t + " is too many ranks for a vocabulary of " +
                                std::to_string(c.vocab_size));
  return OkStatus();
}

int ShardDimension(const std::string& name) {
  if (VocabSharded(name)) return 0;
  for (const char* col :
       {"q_proj.weight", "k_proj.weight", "v_proj.weight", "gate_proj.weight", "up_proj.weight"})
    if (EndsWith(name, col)) return 0;
  for (const char* row : {"o_proj.weight", "down_proj.weight"})
    if (EndsWith(name, row)) return 1;
  return -1;
}

torch::Tensor ShardOf(const std::string& name, const torch::Tensor& full, const DecoderConfig&,
                      int rank, int size) {
  const int dim = ShardDimension(name);
  if (dim < 0 || size == 1) return full;
  const auto [first, count] = Range(name, full.size(dim), rank, size);
  return full.narrow(dim, first, count);
}

torch::Tensor GatherShard(const std::string& name, const torch::Tensor& shard,
                          const DecoderConfig& c, TensorParallelGroup* group) {
  const int dim = ShardDimension(name);
  if (dim < 0 || group->size() == 1) return shard;
  torch::NoGradGuard no_grad;
  std::vector<int64_t> sizes = shard.sizes().vec();
  sizes[static_cast<size_t>(dim)] =
      VocabSharded(name) ? c.vocab_size : shard.size(dim) * group->size();
  torch::Tensor full = torch::zeros(sizes, shard.options());
  const auto [first, count] =
      Range(name, sizes[static_cast<size_t>(dim)], group->rank(), group->size());
  full.narrow(dim, first, count).copy_(shard);
  group->AllReduceSum(full);
  return full;
}

void ShardDecoder(LlamaForCausalLM& d, TensorParallelGroup* group) {
  const int r = group->rank(), n = group->size();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : d->named_parameters()) {
      torch::Tensor t = p.value();
      if (ShardDimension(p.key()) < 0) continue;
      t.set_data(ShardOf(p.key(), t, d->config, r, n).contiguous().clone());
    }
  }
  for (const auto& layer : *d->model->layers) {
    LlamaLayerImpl* l = layer->as<LlamaLayer>();
    l->self_attn->heads /= n;
    l->self_attn->kv_heads /= n;
    l->self_attn->tp = group;
    l->mlp->tp = group;
  }
  d->tp = group;
}

torch::Tensor CopyToTensorParallel(const torch::Tensor& x, TensorParallelGroup* group) {
  return CopyTo::apply(x, Handle(group));
}

torch::Tensor ReduceFromTensorParallel(const torch::Tensor& x, TensorParallelGroup* group) {
  return ReduceFrom::apply(x, Handle(group));
}

torch::Tensor TensorParallelCrossEntropySum(const torch::Tensor& hidden,
                                            const torch::Tensor& wanted, const torch::Tensor& rows,
                                            int64_t vocab, TensorParallelGroup* group,
                                            const torch::Tensor& token_weights) {
  const int r = group->rank(), n = group->size();
  const auto [first, count] = VocabRange(vocab, r, n);
  const torch::Tensor logits =
      F::linear(CopyToTensorParallel(hidden, group), rows).to(torch::kFloat32);  // [N, V_r]
  const int64_t rows_n = logits.size(0);
  // Each rank's log-sum-exp in its own row, the rows completed by the group's sum; their
  // log-sum-exp is the whole vocabulary's (and its gradient the global softmax).
  const torch::Tensor mine = torch::logsumexp(logits, -1);  // [N]
  std::vector<torch::Tensor> slots(static_cast<size_t>(n),
                                   torch::zeros({rows_n}, logits.options()));
  slots[static_cast<size_t>(r)] = mine;
  const torch::Tensor lse =
      torch::logsumexp(ReduceFromTensorParallel(torch::stack(slots), group), 0);  // [N]
  // The target's logit, from the rank that holds its row.
  const torch::Tensor local = wanted - first;
  const torch::Tensor held = local.ge(0).logical_and(local.lt(count));
  const torch::Tensor picked =
      logits.gather(1, local.clamp(0, std::max<int64_t>(0, count - 1)).unsqueeze(1)).squeeze(1);
  const torch::Tensor target =
      ReduceFromTensorParallel(torch::where(held, picked, torch::zeros_like(picked)), group);
  const torch::Tensor each = lse - target;
  if (!token_weights.defined()) return each.sum();
  return (each * token_weights.to(each.device()).index_select(0, wanted)).sum();
}

}  // namespace medscribe::model
