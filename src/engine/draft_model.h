// A small draft model for speculative decoding: a report model with the same tokenizer, trained
// by the same trainer (e.g. a smaller configuration on the same dataset), proposes the next
// tokens greedily; the engine verifies them with the served model in one batched pass and keeps
// only what the served model's greedy decoding would produce.
//
// The draft model keeps its own paged KV cache per sequence and catches up with the tokens the
// served model accepted since the last call (the longest common prefix stays cached). Its image
// placeholder count may differ from the served model's: each sequence is held in the draft
// model's own form (its prompt, then the generated tokens).
//
// Thread safety: not thread-safe (the engine thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "engine/cpu_decoder.h"
#include "engine/kv_cache.h"
#include "model/config.h"
#include "model/multimodal.h"

namespace medscribe::engine {

class DraftModel {
 public:
  // Loads a float model directory (config.json, model.safetensors), packing its decoder as
  // `format`. `kv_blocks` blocks of `block_size` slots hold the sequences being drafted for.
  static StatusOr<std::unique_ptr<DraftModel>> Load(const std::string& dir, WeightFormat format,
                                                    int kv_blocks, int block_size);

  // A new sequence: `prompt` holds bos + ids with at most one `image_token` (where `image`
  // goes), as submitted to the engine; `served_prompt_len` is the served model's prompt length
  // (its image positions expanded), after which the two sequences hold the same tokens.
  Status Add(int64_t id, std::span<const int32_t> prompt, const torch::Tensor& image,
             int32_t image_token, int64_t served_prompt_len);
  // Up to `max` greedy tokens after `served_sequence` (the served model's prompt and generated
  // tokens); empty when the sequence is unknown, too long, or the cache is full.
  std::vector<int32_t> Draft(int64_t id, std::span<const int32_t> served_sequence, int max);
  void Release(int64_t id);

  const model::ModelConfig& config() const { return config_; }

 private:
  struct Seq {
    std::vector<int32_t> prompt;  // the draft model's form
    int64_t served_prompt_len = 0;
    torch::Tensor image;  // [N, hidden] of the draft model, or undefined
    int64_t image_at = 0;
    std::vector<int32_t> cached;  // tokens whose keys and values are in the draft cache
  };
  // Computes tokens[from, end) of `id`; the last one's logits give the greedy next token.
  StatusOr<int32_t> Step(int64_t id, Seq& s, const std::vector<int32_t>& tokens, int64_t from);

  model::ModelConfig config_;
  model::VisionEncoder vision_{nullptr};
  model::Projector projector_{nullptr};
  model::FindingHead findings_{nullptr};  // null unless the config enables the finding head
  std::unique_ptr<CpuDecoder> decoder_;
  std::unique_ptr<KvCacheManager> kv_;
  std::map<int64_t, Seq> seqs_;
};

}  // namespace medscribe::engine
