#include "model/llama.h"

#include "model/activation_checkpoint.h"
#include "model/tensor_parallel.h"

#include <cmath>

namespace medscribe::model {
namespace F = torch::nn::functional;

RmsNormImpl::RmsNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  const torch::Tensor xf = x.to(torch::kFloat32);
  const torch::Tensor y = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * y.to(x.scalar_type());
}

RopeTables MakeRope(int64_t max_positions, int64_t head_dim, double theta) {
  const torch::Tensor idx =
      torch::arange(0, head_dim, 2, torch::kFloat64) / static_cast<double>(head_dim);
  const torch::Tensor inv_freq = 1.0 / torch::pow(theta, idx);
  const torch::Tensor pos = torch::arange(max_positions, torch::kFloat64);
  const torch::Tensor freqs = torch::outer(pos, inv_freq);
  const torch::Tensor emb = torch::cat({freqs, freqs}, -1);
  return {emb.cos().to(torch::kFloat32), emb.sin().to(torch::kFloat32)};
}

torch::Tensor ApplyRope(const torch::Tensor& x, const RopeTables& rope,
                        const torch::Tensor& positions) {
  torch::Tensor cos = rope.cos.to(x.device()).index_select(0, positions.reshape({-1}));
  torch::Tensor sin = rope.sin.to(x.device()).index_select(0, positions.reshape({-1}));
  const int64_t d = x.size(-1);
  if (positions.dim() == 2) {  // [B, T] -> [B, 1, T, D]
    cos = cos.view({positions.size(0), 1, positions.size(1), d});
    sin = sin.view({positions.size(0), 1, positions.size(1), d});
  } else {  // [T] -> [1, 1, T, D]
    cos = cos.view({1, 1, positions.size(0), d});
    sin = sin.view({1, 1, positions.size(0), d});
  }
  const torch::Tensor x1 = x.narrow(-1, 0, d / 2);
  const torch::Tensor x2 = x.narrow(-1, d / 2, d / 2);
  const torch::Tensor rotated = torch::cat({-x2, x1}, -1);
  return x * cos.to(x.scalar_type()) + rotated * sin.to(x.scalar_type());
}

LlamaAttentionImpl::LlamaAttentionImpl(const DecoderConfig& c)
    : heads(c.num_attention_heads), kv_heads(c.num_key_value_heads), head_dim(c.head_dim()) {
  auto lin = [](int64_t in, int64_t out) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
  };
  q_proj = register_module("q_proj", lin(c.hidden_size, heads * head_dim));
  k_proj = register_module("k_proj", lin(c.hidden_size, kv_heads * head_dim));
  v_proj = register_module("v_proj", lin(c.hidden_size, kv_heads * head_dim));
  o_proj = register_module("o_proj", lin(heads * head_dim, c.hidden_size));
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x, const RopeTables& rope,
                                          const torch::Tensor& positions, const torch::Tensor& mask,
                                          torch::Tensor* cache_k, torch::Tensor* cache_v) {
  const int64_t b = x.size(0), t = x.size(1);
  const torch::Tensor in = tp ? CopyToTensorParallel(x, tp) : x;
  torch::Tensor q = q_proj(in).view({b, t, heads, head_dim}).transpose(1, 2);
  torch::Tensor k = k_proj(in).view({b, t, kv_heads, head_dim}).transpose(1, 2);
  torch::Tensor v = v_proj(in).view({b, t, kv_heads, head_dim}).transpose(1, 2);
  q = ApplyRope(q, rope, positions);
  k = ApplyRope(k, rope, positions);
  if (cache_k) {
    if (cache_k->defined()) {
      k = torch::cat({*cache_k, k}, 2);
      v = torch::cat({*cache_v, v}, 2);
    }
    *cache_k = k;
    *cache_v = v;
  }
  if (kv_heads != heads) {  // head h reads key/value head h / (heads / kv_heads)
    k = k.repeat_interleave(heads / kv_heads, 1);
    v = v.repeat_interleave(heads / kv_heads, 1);
  }
  torch::Tensor scores =
      torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(head_dim));
  scores = scores + mask;
  const torch::Tensor probs =
      F::softmax(scores.to(torch::kFloat32), F::SoftmaxFuncOptions(-1)).to(q.scalar_type());
  const torch::Tensor out =
      torch::matmul(probs, v).transpose(1, 2).reshape({b, t, heads * head_dim});
  return tp ? ReduceFromTensorParallel(o_proj(out), tp) : o_proj(out);
}

LlamaMlpImpl::LlamaMlpImpl(const DecoderConfig& c) {
  auto lin = [](int64_t in, int64_t out) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
  };
  gate_proj = register_module("gate_proj", lin(c.hidden_size, c.intermediate_size));
  up_proj = register_module("up_proj", lin(c.hidden_size, c.intermediate_size));
  down_proj = register_module("down_proj", lin(c.intermediate_size, c.hidden_size));
}

torch::Tensor LlamaMlpImpl::forward(const torch::Tensor& x) {
  if (!tp) return down_proj(F::silu(gate_proj(x)) * up_proj(x));
  const torch::Tensor in = CopyToTensorParallel(x, tp);
  return ReduceFromTensorParallel(down_proj(F::silu(gate_proj(in)) * up_proj(in)), tp);
}

LlamaLayerImpl::LlamaLayerImpl(const DecoderConfig& c) {
  self_attn = register_module("self_attn", LlamaAttention(c));
  mlp = register_module("mlp", LlamaMlp(c));
  input_layernorm = register_module("input_layernorm", RmsNorm(c.hidden_size, c.rms_norm_eps));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RmsNorm(c.hidden_size, c.rms_norm_eps));
}

torch::Tensor LlamaLayerImpl::forward(const torch::Tensor& x, const RopeTables& rope,
                                      const torch::Tensor& positions, const torch::Tensor& mask,
                                      torch::Tensor* cache_k, torch::Tensor* cache_v) {
  const torch::Tensor h =
      x + self_attn->forward(input_layernorm(x), rope, positions, mask, cache_k, cache_v);
  return h + mlp(post_attention_layernorm(h));
}

LlamaBodyImpl::LlamaBodyImpl(const DecoderConfig& c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  for (int i = 0; i < c.num_hidden_layers; ++i) layers->push_back(LlamaLayer(c));
  register_module("layers", layers);
  norm = register_module("norm", RmsNorm(c.hidden_size, c.rms_norm_eps));
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const DecoderConfig& c) : config(c) {
  model = register_module("model", LlamaBody(c));
  if (!c.tie_word_embeddings) {
    lm_head = register_module(
        "lm_head",
        torch::nn::Linear(torch::nn::LinearOptions(c.hidden_size, c.vocab_size).bias(false)));
  }
  rope = MakeRope(c.max_position_embeddings, c.head_dim(), c.rope_theta);
  // LLaMA's initialization: normal(0, 0.02) for every matrix.
  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) {
    if (p.dim() == 2) p.normal_(0.0, 0.02);
  }
}

torch::Tensor CausalMask(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
  const int64_t t = attention_mask.size(1);
  const auto opts = torch::TensorOptions().dtype(torch::kBool).device(attention_mask.device());
  const torch::Tensor causal = torch::ones({t, t}, opts).tril();                   // [T, T]
  const torch::Tensor keys = attention_mask.to(torch::kBool).view({-1, 1, 1, t});  // [B,1,1,T]
  const torch::Tensor keep = causal.view({1, 1, t, t}).logical_and(keys);          // [B,1,T,T]
  const double neg = dtype == torch::kFloat16 ? -6.0e4 : -1.0e9;
  return torch::zeros(keep.sizes(),
                      torch::TensorOptions().dtype(dtype).device(attention_mask.device()))
      .masked_fill(keep.logical_not(), neg);
}

torch::Tensor LlamaForCausalLMImpl::forward_embeds(const torch::Tensor& embeds,
                                                   const torch::Tensor& attention_mask) {
  return logits(forward_hidden(embeds, attention_mask));
}

torch::Tensor LlamaForCausalLMImpl::logits(const torch::Tensor& hidden) {
  TORCH_CHECK(!tp, "the logits of a tensor-parallel decoder are sharded; use TargetLossSum");
  return F::linear(hidden, output_rows());
}

const torch::Tensor& LlamaForCausalLMImpl::output_rows() const {
  return lm_head ? lm_head->weight : model->embed_tokens->weight;
}

torch::Tensor LlamaForCausalLMImpl::embed(const torch::Tensor& input_ids) {
  if (!tp) return model->embed_tokens(input_ids);
  const auto [first, count] = VocabRange(config.vocab_size, tp->rank(), tp->size());
  torch::Tensor local = input_ids - first;
  const torch::Tensor elsewhere = local.lt(0).logical_or(local.ge(count));
  local = local.masked_fill(elsewhere, 0);
  const torch::Tensor e =
      F::embedding(local, model->embed_tokens->weight).masked_fill(elsewhere.unsqueeze(-1), 0);
  return ReduceFromTensorParallel(e, tp);
}

torch::Tensor LlamaForCausalLMImpl::forward_hidden(const torch::Tensor& embeds,
                                                   const torch::Tensor& attention_mask) {
  return forward_layers(embeds, attention_mask, 0, model->layers->size(), true);
}

torch::Tensor LlamaForCausalLMImpl::forward_layers(const torch::Tensor& embeds,
                                                   const torch::Tensor& attention_mask,
                                                   size_t first, size_t last, bool final_norm) {
  const int64_t t = embeds.size(1);
  TORCH_CHECK(t <= config.max_position_embeddings, "sequence of ", t,
              " tokens exceeds max_position_embeddings ", config.max_position_embeddings);
  const torch::Tensor positions =
      torch::arange(t, torch::TensorOptions().dtype(torch::kLong).device(embeds.device()));
  const torch::Tensor mask = CausalMask(attention_mask, embeds.scalar_type());
  torch::Tensor h = embeds;
  for (size_t index = first; index < last; ++index) {
    LlamaLayerImpl* l = model->layers[index]->as<LlamaLayer>();
    if (layer_runner) {
      h = layer_runner(
          index,
          [l, this, positions, mask](const torch::Tensor& x) {
            return l->forward(x, rope, positions, mask);
          },
          h);
    } else if (checkpoint_layers) {
      h = Checkpointed([l, this, positions, mask](
                           const torch::Tensor& x) { return l->forward(x, rope, positions, mask); },
                       h);
    } else {
      h = l->forward(h, rope, positions, mask);
    }
  }
  return final_norm ? model->norm(h) : h;
}

torch::Tensor LlamaForCausalLMImpl::forward_cached(const torch::Tensor& embeds, KvCache& cache) {
  const int64_t t = embeds.size(1), past = cache.length, total = past + t;
  TORCH_CHECK(total <= config.max_position_embeddings, "sequence of ", total,
              " tokens exceeds max_position_embeddings ", config.max_position_embeddings);
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(embeds.device());
  const torch::Tensor positions = torch::arange(past, total, long_opts);
  // New query i (position past + i) sees keys 0 .. past + i.
  const torch::Tensor keep =
      torch::arange(total, long_opts).view({1, total}).le(positions.view({t, 1}));
  const double neg = embeds.scalar_type() == torch::kFloat16 ? -6.0e4 : -1.0e9;
  const torch::Tensor mask = torch::zeros({1, 1, t, total}, embeds.options())
                                 .masked_fill(keep.logical_not().view({1, 1, t, total}), neg);
  const size_t n = model->layers->size();
  cache.k.resize(n);
  cache.v.resize(n);
  torch::Tensor h = embeds;
  for (size_t i = 0; i < n; ++i) {
    h = model->layers[i]->as<LlamaLayer>()->forward(h, rope, positions, mask, &cache.k[i],
                                                    &cache.v[i]);
  }
  cache.length = total;
  return logits(model->norm(h));
}

}  // namespace medscribe::model
