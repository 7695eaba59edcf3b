// The decoder over the paged KV cache: computes a chunk of a sequence's tokens with the keys and
// values of its earlier tokens read from, and its new ones written to, the blocks its block table
// names (kv_cache.h). This is the LibTorch reference path of the engine (one chunk at a time);
// the fused CPU kernels and the CUDA paged-attention kernel are checked against it.
//
// Thread safety: not thread-safe; the engine thread owns it.
#pragma once

#include <cstdint>
#include <span>

#include <torch/torch.h>

#include "common/status.h"
#include "engine/block_pool.h"
#include "engine/kv_cache.h"
#include "model/llama.h"

namespace medscribe::engine {

// Embeddings that replace the token embeddings of positions [at, at + embeds.size(0)): the
// projected image patches of a multimodal prompt, whose tokens there are placeholders.
struct ImageSpan {
  int64_t at = 0;
  torch::Tensor embeds;  // [N, hidden], the decoder's dtype and device
};

class PagedDecoder {
 public:
  // Cache tensors for `num_blocks` blocks of `block_size` slots per layer, in the decoder's
  // dtype and device. REQUIRES: the decoder outlives this object.
  PagedDecoder(model::LlamaForCausalLM decoder, int num_blocks, int block_size);

  // Computes tokens [start, start + count) of a sequence: `tokens` holds at least its first
  // start + count tokens, `blocks` its block table. Keys and values of positions < start must be
  // in the cache. Returns the logits of the chunk's last token [vocab] (float32, CPU).
  // InvalidArgument when the chunk lies outside the tokens, the block table or the context.
  StatusOr<torch::Tensor> Forward(std::span<const BlockId> blocks, std::span<const int32_t> tokens,
                                  int64_t start, int64_t count, const ImageSpan* image = nullptr);

  // Copy-on-write: the keys and values of block `c.from` into block `c.to`, every layer.
  void Copy(const BlockCopy& c);

  int64_t cache_bytes() const;

 private:
  torch::Tensor Slots(std::span<const BlockId> blocks, int64_t from, int64_t to) const;

  model::LlamaForCausalLM decoder_;
  int block_size_;
  std::vector<torch::Tensor> k_, v_;  // per layer: [num_blocks * block_size, kv_heads, head_dim]
};

}  // namespace medscribe::engine
