// The CPU kernels of the engine's decode and prefill paths: matrix products against weights
// stored as float32, bfloat16, int8 (one scale per output channel) or int4 (one scale per group
// of 32 inputs), and the fused small operations around them (RMSNorm, rotary embeddings, SwiGLU,
// attention over the paged KV cache).
//
// Every kernel has an AVX-512 path, chosen at run time when the CPU has AVX-512F/BW, and a
// portable path; both compute the same sums in float32 (different summation orders). The
// weights are converted to float32 in registers, so a quantized product equals the float32
// product with the dequantized weights (Dequantize) up to rounding — except int8 and int4, whose
// activations are quantized too when the input size is a multiple of kActivationBlock (AVX-512
// VNNI multiplies bytes by bytes, as llama.cpp's Q8_0 and Q4_0 do with Q8_0 activations), so
// their product equals the float32 product of the dequantized weights with the quantized
// activations (QuantizeActivationsForTest).
//
// Thread safety: packed weights are immutable after packing and may be shared by threads;
// Matmul splits its output columns over at::get_num_threads() threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/status.h"

namespace medscribe::engine {

enum class WeightFormat { kF32, kBF16, kInt8, kInt4 };
inline constexpr int64_t kInt4Group = 32;
// int8 and int4 weights multiply activations quantized to int8 in blocks of this many inputs
// (one scale per block) when the input size is a multiple of it.
inline constexpr int64_t kActivationBlock = 64;

// "f32", "bf16", "int8", "int4"; InvalidArgument for anything else.
StatusOr<WeightFormat> ParseWeightFormat(const std::string& name);
const char* WeightFormatName(WeightFormat f);

// A linear layer's weight W [n, k] (y = x W^T), packed for the kernels. int8: q[n, k] with
// w = q * scales[row], q in [-127, 127] (symmetric; FromStored refuses -128); int4: two 4-bit
// values per byte, group g of row r in 16 bytes (element j in the low nibble of byte j,
// element j + 16 in the high nibble), w = (nibble - 8) * scale.
struct PackedWeight {
  WeightFormat format = WeightFormat::kF32;
  int64_t n = 0, k = 0;
  std::vector<float> f32;
  std::vector<uint16_t> bf16;
  std::vector<int8_t> q8;
  std::vector<uint8_t> q4;
  std::vector<float> scales;  // int8: [n]; int4: [n, k / 32]
  // The VNNI kernels' copy of an int8 or int4 weight (PrepareForKernels; empty on other CPUs
  // and formats): rows in tiles of 16 (the last one padded), each tile's inputs in order, so a
  // tile is one contiguous stream and every byte-product instruction yields 16 outputs.
  std::vector<uint8_t> panel;
  std::vector<float> panel_scales;
  // Bytes the kernel streams per product (weights and scales).
  int64_t bytes() const;
};

// Builds (or rebuilds) `w->panel` from q8/q4 where this CPU's kernels read it: once the weight's
// rows are final (the engine's DecoderFromTensors does it after stacking). Matmul multiplies an
// int8 or int4 weight without a panel on its row tiles: the same sums, more slowly.
void PrepareForKernels(PackedWeight* w);

// Packs a float tensor [n, k] (any float dtype, CPU). InvalidArgument when it is not 2-D, or for
// int4 when k is not a multiple of 32.
StatusOr<PackedWeight> Pack(const torch::Tensor& w, WeightFormat format);
// The quantized tensors as stored in a model file ("<name>" and "<name>.scales"), and back.
// FromStored checks every size against n and k (untrusted files): DataLoss naming the tensor.
std::vector<std::pair<std::string, torch::Tensor>> ToStored(const std::string& name,
                                                            const PackedWeight& w);
StatusOr<PackedWeight> FromStored(const std::string& name, WeightFormat format, int64_t n,
                                  int64_t k, const torch::Tensor& values,
                                  const torch::Tensor& scales);
// The float32 weight [n, k] the packed one stands for.
torch::Tensor Dequantize(const PackedWeight& w);

// From this many rows on, Matmul multiplies through LibTorch's float32 GEMM (BLAS), one slice of
// output columns per thread; below, with the engine's tiles. int8 and int4 weights on a CPU with
// VNNI stay on the byte-product tiles at every size.
inline constexpr int64_t kGemmRows = 32;

// y[m, n] = x[m, k] W^T. REQUIRES: x holds m * w.k floats, y room for m * w.n.
void Matmul(const float* x, int64_t m, const PackedWeight& w, float* y);

// y = x / rms(x) * weight over d elements (x and y may alias).
void RmsNorm(const float* x, const float* weight, int64_t d, float eps, float* y);
// Rotates `heads` vectors of head_dim elements in place (Hugging Face's rotate-half
// convention) with the cos and sin rows of one position.
void Rope(float* v, int64_t heads, int64_t head_dim, const float* cos, const float* sin);
// out[i] = silu(gate[i]) * up[i].
void SiluMul(const float* gate, const float* up, int64_t n, float* out);
// x[i] += y[i].
void AddInPlace(float* x, const float* y, int64_t n);

// Attention of one query token over the paged cache: for every head, softmax(q k / sqrt(hd))
// over the keys of `slots` (the cache rows of positions 0..len-1), times their values.
// k_cache and v_cache rows are [kv_heads, head_dim]; query head h reads kv head
// h / (heads / kv_heads). `scratch` holds at least slots.size() floats.
void PagedAttention(const float* q, const float* k_cache, const float* v_cache,
                    std::span<const int64_t> slots, int64_t heads, int64_t kv_heads,
                    int64_t head_dim, float* out, float* scratch);

// True when the AVX-512 (and VNNI) kernels are in use on this CPU.
bool UsingAvx512();
bool UsingVnni();
// x [m, k] with every 64-input block rounded to int8 levels as the int8 and int4 kernels see it.
torch::Tensor QuantizeActivationsForTest(const torch::Tensor& x);

}  // namespace medscribe::engine
