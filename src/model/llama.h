// The LLaMA-style decoder: RMSNorm, rotary position embeddings (RoPE, the rotate-half convention
// of Hugging Face), grouped-query attention, SwiGLU MLP, tied or untied output head.
//
// Parameter names follow Hugging Face's LlamaForCausalLM exactly ("model.embed_tokens.weight",
// "model.layers.0.self_attn.q_proj.weight", ..., "model.norm.weight", "lm_head.weight"), so the
// state dict can be written to and read from HF safetensors without renaming. With tied
// embeddings there is no lm_head parameter: the head multiplies by the embedding matrix.
//
// Thread safety: a module is not thread-safe; forward passes on distinct modules are independent.
#pragma once

#include <functional>

#include <torch/torch.h>

#include "model/config.h"

namespace medscribe::model {

class TensorParallelGroup;  // model/tensor_parallel.h

struct RmsNormImpl : torch::nn::Module {
  RmsNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RmsNorm);

// cos and sin tables for positions [0, max_positions): each [max_positions, head_dim].
struct RopeTables {
  torch::Tensor cos, sin;
};
RopeTables MakeRope(int64_t max_positions, int64_t head_dim, double theta);
// Rotates x [B, heads, T, head_dim] whose positions are `positions` [T] (or [B, T]).
torch::Tensor ApplyRope(const torch::Tensor& x, const RopeTables& rope,
                        const torch::Tensor& positions);

// Keys and values of the tokens seen so far, per layer: [B, kv_heads, T, head_dim] each (a
// contiguous cache for one batch of sequences decoded together; the serving engine has its own
// paged cache).
struct KvCache {
  std::vector<torch::Tensor> k, v;
  int64_t length = 0;
};

struct LlamaAttentionImpl : torch::nn::Module {
  explicit LlamaAttentionImpl(const DecoderConfig& c);
  // x [B, T, hidden]; mask additive [B, 1, T, T_keys] (0 keep, large negative drop). With
  // `cache_k`/`cache_v` (may be undefined tensors at first), the new keys and values are appended
  // to them and attention covers the cached tokens too.
  torch::Tensor forward(const torch::Tensor& x, const RopeTables& rope,
                        const torch::Tensor& positions, const torch::Tensor& mask,
                        torch::Tensor* cache_k = nullptr, torch::Tensor* cache_v = nullptr);
  int64_t heads, kv_heads, head_dim;  // this rank's heads under tensor parallelism
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  TensorParallelGroup* tp = nullptr;  // set by ShardDecoder (model/tensor_parallel.h)
};
TORCH_MODULE(LlamaAttention);

struct LlamaMlpImpl : torch::nn::Module {
  explicit LlamaMlpImpl(const DecoderConfig& c);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  TensorParallelGroup* tp = nullptr;  // set by ShardDecoder (model/tensor_parallel.h)
};
TORCH_MODULE(LlamaMlp);

struct LlamaLayerImpl : torch::nn::Module {
  explicit LlamaLayerImpl(const DecoderConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const RopeTables& rope,
                        const torch::Tensor& positions, const torch::Tensor& mask,
                        torch::Tensor* cache_k = nullptr, torch::Tensor* cache_v = nullptr);
  RmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  LlamaAttention self_attn{nullptr};
  LlamaMlp mlp{nullptr};
};
TORCH_MODULE(LlamaLayer);

// "model" in HF naming.
struct LlamaBodyImpl : torch::nn::Module {
  explicit LlamaBodyImpl(const DecoderConfig& c);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers;
  RmsNorm norm{nullptr};
};
TORCH_MODULE(LlamaBody);

struct LlamaForCausalLMImpl : torch::nn::Module {
  explicit LlamaForCausalLMImpl(const DecoderConfig& c);
  // embeds [B, T, hidden] (token embeddings, possibly with image embeddings spliced in);
  // attention_mask [B, T] of 1 (token) and 0 (padding, at the end). Returns logits [B, T, vocab].
  torch::Tensor forward_embeds(const torch::Tensor& embeds, const torch::Tensor& attention_mask);
  // The same up to the final norm: hidden states [B, T, hidden] (training computes logits only
  // where a target is, see multimodal.h TargetLossSum).
  torch::Tensor forward_hidden(const torch::Tensor& embeds, const torch::Tensor& attention_mask);
  // Layers [first, last) on hidden states h [B, T, hidden] (a pipeline stage's part), then the
  // final norm when `final_norm`. forward_hidden is forward_layers(embeds, mask, 0, n, true).
  torch::Tensor forward_layers(const torch::Tensor& h, const torch::Tensor& attention_mask,
                               size_t first, size_t last, bool final_norm);
  // Hidden states [..., hidden] -> logits [..., vocab] (lm_head, or the tied embeddings).
  // REQUIRES: not sharded (tp null); a sharded decoder's loss is TargetLossSum's.
  torch::Tensor logits(const torch::Tensor& hidden);
  // The output head's rows: lm_head's weight, or the tied embeddings (this rank's under tensor
  // parallelism).
  const torch::Tensor& output_rows() const;
  // Token embeddings [B, T, hidden] (completed over the group when sharded).
  torch::Tensor embed(const torch::Tensor& input_ids);
  // Incremental decoding without padding: embeds [B, T_new, hidden] follow the cache's tokens;
  // the cache grows by T_new. Returns logits [B, T_new, vocab].
  torch::Tensor forward_cached(const torch::Tensor& embeds, KvCache& cache);
  DecoderConfig config;
  LlamaBody model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when embeddings are tied
  RopeTables rope;
  // Training option: recompute each layer in backward instead of keeping its activations.
  bool checkpoint_layers = false;
  // Training option: each layer of forward_hidden runs as runner(i, layer_fn, x) instead of
  // layer_fn(x) (fully sharded training gathers the layer's weights around it); it replaces
  // checkpoint_layers. Null: layers run directly.
  std::function<torch::Tensor(size_t, const std::function<torch::Tensor(const torch::Tensor&)>&,
                              const torch::Tensor&)>
      layer_runner;
  // Tensor parallelism (model/tensor_parallel.h ShardDecoder): null when the decoder is whole.
  TensorParallelGroup* tp = nullptr;
};
TORCH_MODULE(LlamaForCausalLM);

// The additive attention mask [B, 1, T, T]: causal, and padding keys dropped.
torch::Tensor CausalMask(const torch::Tensor& attention_mask, torch::ScalarType dtype);

}  // namespace medscribe::model
