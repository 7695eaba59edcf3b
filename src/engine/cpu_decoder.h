// The engine's CPU decoder: the LLaMA decoder with packed weights (kernels.h) over the paged KV
// cache, computing one step of the continuous batch in a single pass: the chunks of all
// sequences (prefill chunks of many tokens and decode chunks of one, or of a few for speculative
// verification) are stacked into one activation matrix, so every weight is read once per step
// whatever the batch size; attention reads each sequence's own blocks.
//
// Thread safety: a CpuDecoder is not thread-safe (one engine thread); DecoderWeights are
// immutable and may be shared by decoders.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "engine/block_pool.h"
#include "engine/kernels.h"
#include "engine/kv_cache.h"
#include "model/llama.h"
#include "model/safetensors.h"

namespace medscribe::engine {

struct DecoderWeights {
  model::DecoderConfig config;
  WeightFormat format = WeightFormat::kF32;
  std::vector<float> embed;  // [vocab, hidden], float32 (one row read per token)
  struct Layer {
    std::vector<float> attn_norm, mlp_norm;
    PackedWeight qkv;      // [(heads + 2 kv_heads) * head_dim, hidden]: q, k, v stacked
    PackedWeight o;        // [hidden, heads * head_dim]
    PackedWeight gate_up;  // [2 * intermediate, hidden]: gate, up stacked
    PackedWeight down;     // [hidden, intermediate]
  };
  std::vector<Layer> layers;
  std::vector<float> norm;
  PackedWeight head;                      // [vocab, hidden]
  std::vector<float> rope_cos, rope_sin;  // [max_positions, head_dim]
  // Bytes of weights read per decode step (the memory-bandwidth bound's numerator).
  int64_t streamed_bytes() const;
};

// Packs a decoder's weights. The output head of an int4 model is packed as int8 (the head is
// the most sensitive matrix; llama.cpp's 4-bit mixes make the same choice).
StatusOr<std::shared_ptr<const DecoderWeights>> PackDecoder(const model::LlamaForCausalLM& d,
                                                            WeightFormat format);
// A model file's float decoder tensors ("decoder.*") converted to the stored form of `format`
// (matrices other than the embedding packed, with ".scales" companions); other tensors are
// passed through. InvalidArgument when a matrix cannot take the format (int4 needs input sizes
// that are multiples of 32).
StatusOr<model::Safetensors> QuantizeTensors(const model::Safetensors& f32, WeightFormat format);
// A packed decoder as model-file tensors (names under "decoder.", quantized ones with
// ".scales"), and back. FromTensors checks every tensor against the config (DataLoss naming it).
model::NamedTensors DecoderTensors(const DecoderWeights& w);
StatusOr<std::shared_ptr<const DecoderWeights>> DecoderFromTensors(const model::DecoderConfig& c,
                                                                   WeightFormat format,
                                                                   const model::Safetensors& st);

// One sequence's part of a step: tokens [start, start + count) of `tokens`, with the keys and
// values of positions < start already in its blocks. `logits`: none, the chunk's last token, or
// every token of the chunk (speculative verification).
struct SeqChunk {
  std::span<const BlockId> blocks;
  std::span<const int32_t> tokens;
  int64_t start = 0, count = 0;
  enum class Logits { kNone, kLast, kAll } logits = Logits::kLast;
  // Embeddings [N, hidden] (float32, CPU) replacing the token embeddings of positions
  // [image_at, image_at + N): the projected image of a multimodal prompt.
  const torch::Tensor* image = nullptr;
  int64_t image_at = 0;
};

struct CpuDecoderOptions {
  // > 0: steps of at least this many rows (prefill chunks, large batches) multiply through
  // oneDNN in bfloat16 (AMX or AVX-512-BF16 where the CPU has them) instead of the engine's
  // float32-accumulating kernels: several times faster, but activations are rounded to bf16, so
  // outputs are close to, not identical with, the reference path. Costs a bf16 copy of every
  // matrix.
  int bf16_gemm_min_rows = 0;
};

class CpuDecoder {
 public:
  CpuDecoder(std::shared_ptr<const DecoderWeights> w, int num_blocks, int block_size,
             CpuDecoderOptions options = {});

  // Computes every chunk; appends the requested logits rows (vocab floats each) to `logits`,
  // in chunk order. InvalidArgument, naming the problem, when a chunk lies outside its tokens,
  // blocks or the model's context, or holds a token outside the vocabulary; nothing is computed
  // then.
  Status Forward(std::span<const SeqChunk> chunks, std::vector<float>* logits);
  // Copy-on-write: the keys and values of block `c.from` into block `c.to`, every layer.
  void Copy(const BlockCopy& c);

  int64_t cache_bytes() const;
  const DecoderWeights& weights() const { return *w_; }

 private:
  // Chunks of at least this many tokens compute attention with batched matrix products.
  static constexpr int64_t kChunkAttentionRows = 32;
  // Attention of a chunk's rows [row0, row0 + count) (positions start ..) at `layer`.
  void ChunkAttention(size_t layer, const std::vector<int64_t>& slots, int64_t start, int64_t count,
                      int64_t row0);
  // y[rows, w.n] = x W^T by the kernels, or by the bf16 GEMM for many rows.
  void Linear(const float* x, int64_t rows, const PackedWeight& w, const torch::Tensor& gemm,
              float* y) const;

  std::shared_ptr<const DecoderWeights> w_;
  CpuDecoderOptions options_;
  struct Gemm {
    torch::Tensor qkv, o, gate_up, down;
  };
  std::vector<Gemm> gemm_;  // bf16 copies per layer (bf16_gemm_min_rows > 0)
  torch::Tensor gemm_head_;
  int block_size_;
  int64_t num_slots_;
  std::vector<std::unique_ptr<float[]>> k_, v_;  // per layer: [slots, kv_heads, head_dim]
  std::vector<float> x_, h_, qkv_, attn_, gu_, act_, out_;  // scratch
};

}  // namespace medscribe::engine
