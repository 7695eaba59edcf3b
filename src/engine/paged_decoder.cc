#include "engine/paged_decoder.h"

#include <algorithm>
#include <cmath>

namespace medscribe::engine {
namespace F = torch::nn::functional;

PagedDecoder::PagedDecoder(model::LlamaForCausalLM decoder, int num_blocks, int block_size)
    : decoder_(std::move(decoder)), block_size_(block_size) {
  const model::DecoderConfig& c = decoder_->config;
  const torch::Tensor w = decoder_->model->embed_tokens->weight;
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const auto opts = w.options().requires_grad(false);
    k_.push_back(torch::zeros(
        {static_cast<int64_t>(num_blocks) * block_size, c.num_key_value_heads, c.head_dim()},
        opts));
    v_.push_back(torch::zeros_like(k_.back()));
  }
}

int64_t PagedDecoder::cache_bytes() const {
  int64_t n = 0;
  for (size_t l = 0; l < k_.size(); ++l)
    n += (k_[l].numel() + v_[l].numel()) * static_cast<int64_t>(k_[l].element_size());
  return n;
}

torch::Tensor PagedDecoder::Slots(std::span<const BlockId> blocks, int64_t from, int64_t to) const {
  std::vector<int64_t> slots;
  slots.reserve(static_cast<size_t>(to - from));
  for (int64_t p = from; p < to; ++p)
    slots.push_back(static_cast<int64_t>(blocks[static_cast<size_t>(p / block_size_)]) *
                        block_size_ +
                    p % block_size_);
  return torch::tensor(slots, torch::kLong).to(k_[0].device());
}

void PagedDecoder::Copy(const BlockCopy& c) {
  torch::NoGradGuard no_grad;
  for (size_t l = 0; l < k_.size(); ++l) {
    k_[l]
        .narrow(0, int64_t{c.to} * block_size_, block_size_)
        .copy_(k_[l].narrow(0, int64_t{c.from} * block_size_, block_size_));
    v_[l]
        .narrow(0, int64_t{c.to} * block_size_, block_size_)
        .copy_(v_[l].narrow(0, int64_t{c.from} * block_size_, block_size_));
  }
}

StatusOr<torch::Tensor> PagedDecoder::Forward(std::span<const BlockId> blocks,
                                              std::span<const int32_t> tokens, int64_t start,
                                              int64_t count, const ImageSpan* image) {
  const model::DecoderConfig& c = decoder_->config;
  const int64_t end = start + count;
  if (start < 0 || count < 1 || end > static_cast<int64_t>(tokens.size()))
    return InvalidArgumentError("chunk outside the sequence's tokens");
  if (end > static_cast<int64_t>(blocks.size()) * block_size_)
    return InvalidArgumentError("chunk outside the sequence's blocks");
  if (end > c.max_position_embeddings)
    return InvalidArgumentError("sequence longer than the model's context");
  torch::NoGradGuard no_grad;
  const auto device = k_[0].device();
  std::vector<int64_t> ids(tokens.begin() + start, tokens.begin() + end);
  torch::Tensor x = decoder_->embed(torch::tensor(ids, torch::kLong).to(device).view({1, count}));
  if (image && image->embeds.defined()) {
    const int64_t lo = std::max(start, image->at);
    const int64_t hi = std::min(end, image->at + image->embeds.size(0));
    if (lo < hi)
      x[0].narrow(0, lo - start, hi - lo).copy_(image->embeds.narrow(0, lo - image->at, hi - lo));
  }
  const torch::Tensor positions =
      torch::arange(start, end, torch::TensorOptions().dtype(torch::kLong).device(device));
  const torch::Tensor new_slots = Slots(blocks, start, end);
  const torch::Tensor all_slots = Slots(blocks, 0, end);
  // Query i (position start + i) sees keys 0 .. start + i.
  const torch::Tensor keep =
      torch::arange(end, positions.options()).view({1, end}).le(positions.view({count, 1}));
  const torch::Tensor mask =
      torch::zeros({count, end}, x.options()).masked_fill(keep.logical_not(), -1.0e9);
  const int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads, hd = c.head_dim();
  size_t l = 0;
  for (const auto& module : *decoder_->model->layers) {
    auto* layer = module->as<model::LlamaLayer>();
    auto& attn = layer->self_attn;
    const torch::Tensor h = layer->input_layernorm(x);
    torch::Tensor q = attn->q_proj(h).view({1, count, heads, hd}).transpose(1, 2);
    torch::Tensor k = attn->k_proj(h).view({1, count, kv_heads, hd}).transpose(1, 2);
    const torch::Tensor v = attn->v_proj(h).view({1, count, kv_heads, hd}).transpose(1, 2);
    q = model::ApplyRope(q, decoder_->rope, positions);
    k = model::ApplyRope(k, decoder_->rope, positions);
    k_[l].index_copy_(0, new_slots, k[0].transpose(0, 1));
    v_[l].index_copy_(0, new_slots, v[0].transpose(0, 1));
    torch::Tensor keys = k_[l].index_select(0, all_slots).transpose(0, 1).unsqueeze(0);
    torch::Tensor values = v_[l].index_select(0, all_slots).transpose(0, 1).unsqueeze(0);
    if (kv_heads != heads) {
      keys = keys.repeat_interleave(heads / kv_heads, 1);
      values = values.repeat_interleave(heads / kv_heads, 1);
    }
    const torch::Tensor scores =
        torch::matmul(q, keys.transpose(-2, -1)) / std::sqrt(static_cast<double>(hd)) + mask;
    const torch::Tensor probs =
        F::softmax(scores.to(torch::kFloat32), F::SoftmaxFuncOptions(-1)).to(q.scalar_type());
    const torch::Tensor out =
        torch::matmul(probs, values).transpose(1, 2).reshape({1, count, heads * hd});
    x = x + attn->o_proj(out);
    x = x + layer->mlp(layer->post_attention_layernorm(x));
    ++l;
  }
  const torch::Tensor last = decoder_->model->norm(x.select(1, count - 1));
  const torch::Tensor logits = decoder_->lm_head
                                   ? decoder_->lm_head(last)
                                   : F::linear(last, decoder_->model->embed_tokens->weight);
  return logits[0].to(torch::kFloat32).cpu();
}

}  // namespace medscribe::engine
