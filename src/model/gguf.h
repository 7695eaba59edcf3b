// GGUF export of the decoder, so that llama.cpp, Ollama and LM Studio run MedScribe's language
// model (the text decoder alone; the vision encoder stays MedScribe's).
//
// The file is GGUF version 3 as llama.cpp reads it (docs/formats/gguf.md): architecture
// "llama"; the hyperparameters, RoPE base and RMSNorm epsilon; the SentencePiece vocabulary with
// scores and token types and the special token ids; the tensors under llama.cpp's names
// (token_embd, blk.N.attn_q, ..., output_norm, output when the head is not tied), the query and
// key rows reordered from the rotate-half RoPE layout MedScribe (like Hugging Face) uses to the
// interleaved pairs llama.cpp rotates. Vectors (norms) are always f32; matrices are written in
// the chosen type, q8_0 and q4_0 in GGML's block formats (32 values per block, an f16 scale).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "model/config.h"
#include "model/safetensors.h"

namespace medscribe::model {

enum class GgufType { kF32, kF16, kQ8_0, kQ4_0 };

// "f32", "f16", "q8_0", "q4_0"; InvalidArgument naming the choices otherwise.
StatusOr<GgufType> ParseGgufType(std::string_view name);

// GGUF token types (llama.cpp's llama_token_type).
enum GgufTokenType : int32_t {
  kGgufNormal = 1,
  kGgufUnknown = 2,
  kGgufControl = 3,
  kGgufUserDefined = 4,
  kGgufUnused = 5,
  kGgufByte = 6,
};

struct GgufVocab {
  std::vector<std::string> tokens;  // SentencePiece pieces, by id
  std::vector<float> scores;
  std::vector<int32_t> types;  // GgufTokenType
  int32_t bos = 2, eos = 3, unk = 1, pad = 0;
};

// A vocabulary of `size` pieces shaped as a SentencePiece model with byte fallback has them
// (<pad>, <unk>, <s>, </s>, the 256 byte pieces, then word pieces "▁w<id>"), for models with
// random weights and no tokenizer (the engine's benchmarks). REQUIRES: size >= 260.
GgufVocab PlaceholderVocab(int size);

// GGML's block quantization of a float matrix whose rows are a multiple of 32 long: q8_0 (34
// bytes per block: f16 scale, 32 int8) or q4_0 (18 bytes: f16 scale, 16 bytes of nibbles, value
// j in the low nibble of byte j and value j + 16 in its high nibble).
// REQUIRES: type is kQ8_0 or kQ4_0; t.size(-1) % 32 == 0.
std::string QuantizeBlocks(const torch::Tensor& t, GgufType type);
// The inverse, for tests: [rows, cols] floats.
torch::Tensor DequantizeBlocks(std::string_view bytes, GgufType type, int64_t rows, int64_t cols);

// Writes `decoder` (tensors under MedScribe's decoder names without the "decoder." prefix:
// model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight, ..., lm_head.weight) as a
// GGUF file. InvalidArgument when the vocabulary does not match the config, DataLoss naming a
// missing or misshapen tensor.
Status WriteGguf(const DecoderConfig& c, const NamedTensors& decoder, const GgufVocab& vocab,
                 GgufType type, const std::string& name, const std::string& path);

// Reads a model directory (config.json, model.safetensors; not a quantized one) and writes its
// decoder with WriteGguf.
Status ExportGguf(const std::string& model_dir, const GgufVocab& vocab, GgufType type,
                  const std::string& path);

}  // namespace medscribe::model
