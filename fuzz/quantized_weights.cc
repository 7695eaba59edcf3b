// libFuzzer target: a quantized model file (safetensors with int8 / int4 / bf16 decoder tensors,
// docs/formats/model.md) read into the engine's packed weights, from untrusted bytes. Every
// shape, dtype and scale must be checked against the configuration before use.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/cpu_decoder.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medscribe;
  if (size > (1u << 20)) return 0;
  auto st = model::DecodeSafetensors(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!st.ok()) return 0;
  // The configuration of the seed corpus's files: one layer, 32 wide.
  model::DecoderConfig c;
  c.vocab_size = 16;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.max_position_embeddings = 16;
  for (engine::WeightFormat f : {engine::WeightFormat::kF32, engine::WeightFormat::kBF16,
                                 engine::WeightFormat::kInt8, engine::WeightFormat::kInt4}) {
    auto w = engine::DecoderFromTensors(c, f, *st);
    if (!w.ok()) continue;
    // Weights that load must also run.
    engine::CpuDecoder dec(*w, 2, 8);
    const std::vector<engine::BlockId> blocks = {0, 1};
    const std::vector<int32_t> tokens = {1, 2, 3};
    engine::SeqChunk ch{blocks, tokens, 0, 3};
    std::vector<float> logits;
    (void)dec.Forward(std::span<const engine::SeqChunk>(&ch, 1), &logits);
  }
  return 0;
}
