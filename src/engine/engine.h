// The engine: a loaded report model serving many generation requests at once.
//
//   Submit() (any thread) -> inbox -> Step() (the engine thread):
//     new requests: image -> vision encoder + projector (encoder cache by image digest),
//       prompt with the image's placeholder positions -> scheduler
//     plan (continuous batching, chunked prefill, preemption) -> copy-on-write block copies
//     -> CpuDecoder::Forward over all chunks at once -> sampling (or speculative verification)
//     -> streamed text, stop conditions -> results
//
// Requests carry token ids (the caller's tokenizer builds them); text comes back through the
// TextDecoder the engine is given. Logits never leave the engine. A bad request (prompt longer
// than the context, a wrong image, impossible sampling parameters) fails alone with a message;
// the others go on.
//
// Thread safety: Submit, Cancel and stats may be called from any thread; Step and RunUntilIdle
// from one thread (the engine thread). Callbacks run on the engine thread and must not call
// Step.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "engine/cpu_decoder.h"
#include "engine/draft_model.h"
#include "engine/kv_cache.h"
#include "engine/lru_cache.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "engine/speculative.h"
#include "model/config.h"
#include "model/multimodal.h"

namespace medscribe::engine {

// Token ids -> text (the model's tokenizer).
class TextDecoder {
 public:
  virtual ~TextDecoder() = default;
  virtual std::string Decode(std::span<const int32_t> ids) const = 0;
};

// Constrained decoding keyed on the prompt: a request whose prompt holds `trigger` never
// generates a token of `banned`, and chooses among `redirect` where it would have (added to its
// SamplingParams::banned and ::redirect).
struct PromptBan {
  int32_t trigger = -1;
  std::vector<int32_t> banned;
  std::vector<int32_t> redirect;
};

struct EngineOptions {
  // Weights of a float model are packed to this format when loaded (a quantized model keeps
  // its own format).
  WeightFormat format = WeightFormat::kF32;
  int threads = 0;  // 0: all cores
  int block_size = 16;
  int64_t kv_cache_mb = 256;  // KV-cache blocks for this many MiB
  int64_t kv_blocks = 0;      // > 0: exactly this many blocks instead
  bool prefix_caching = true;
  int64_t encoder_cache_mb = 64;  // image embeddings by image digest
  bool speculative = true;        // n-gram drafting (prompt, earlier outputs), greedy requests
  int max_draft = 6;
  // A draft model directory (same tokenizer): drafts when the n-grams have none.
  std::string draft_model_dir;
  int64_t max_step_tokens = 512;
  // > 0: steps of at least this many token rows use oneDNN's bf16 GEMM (CpuDecoderOptions):
  // faster prefill and large batches, outputs close to but not identical with the reference.
  int bf16_gemm_min_rows = 0;
  int max_running = 64;
  int32_t eos_id = 3;
  int32_t image_token_id = -1;  // the prompt's image placeholder; -1: text-only prompts
  std::vector<PromptBan> prompt_bans;
  // FindingProbabilities reads a lesion's size as the mean (on the head's log scale) over this
  // many views of the image: 1 the image alone; up to 9, the image then copies shifted by
  // kReadingShift pixels (zeros shifted in, as the image warm-up's augmentation does) along each
  // axis, then diagonally. Everything else it reads, and the decoder's image embeddings, come
  // from the image alone.
  int reading_views = 5;
};
inline constexpr int kMaxReadingViews = 9;
inline constexpr int64_t kReadingShift = 8;

struct GenerateResult {
  int64_t id = 0;
  Status status;
  std::string text;
  std::vector<int32_t> tokens;     // generated, without the end token
  std::string finish;              // "eos", "stop", "length", or "error"
  int64_t prompt_tokens = 0;       // with the image's positions
  double ttft_s = 0, total_s = 0;  // from submission
};

struct GenerateRequest {
  std::vector<int32_t> prompt;  // bos + prompt ids; one image_token_id where the image goes
  torch::Tensor image;          // [channels, size, size] float; undefined: no image
  std::string image_digest;     // identifies the image (SHA-256 hex) for the caches; "": none
  SamplingParams sampling;
  Priority priority = Priority::kInteractive;
  std::optional<Clock::time_point> deadline;
  std::function<void(std::string_view)> on_text;  // streamed text pieces
  std::function<void(const GenerateResult&)> on_done;
};

struct EngineStats {
  int64_t steps = 0, requests = 0, finished = 0, failed = 0;
  int64_t prompt_tokens = 0, computed_prompt_tokens = 0, generated_tokens = 0;
  int64_t encoder_hits = 0, encoder_misses = 0;
  int64_t preemptions = 0, drafted = 0, accepted = 0, verifications = 0;
  int64_t kv_blocks = 0, kv_block_bytes = 0, peak_kv_blocks = 0;
  // At the step with the most KV blocks in use: the tokens and sequences they held.
  int64_t live_tokens_at_peak = 0, live_sequences_at_peak = 0;
  int running = 0, waiting = 0;
  int64_t kv_blocks_used = 0;  // referenced by live sequences, after the last step
};

class Engine {
 public:
  // Loads a model directory (config.json, model.safetensors: float, or quantized by
  // `medscribe quantize`). The caller verifies registry artifacts before (Registry::Resolve).
  static StatusOr<std::unique_ptr<Engine>> Load(const std::string& model_dir,
                                                const EngineOptions& options,
                                                std::shared_ptr<const TextDecoder> text);
  ~Engine();

  // Queues a request; its id, or InvalidArgument naming what is wrong with it.
  StatusOr<int64_t> Submit(GenerateRequest r);
  void Cancel(int64_t id);
  // Adds an earlier report (its token ids, without <s> and </s>) to the corpus the n-gram
  // drafts come from, as each finished output is; nothing without speculative decoding.
  // REQUIRES: called from the thread that calls Step.
  void AddPastOutput(std::span<const int32_t> tokens);
  // One step of the batch; false when there was nothing to do.
  bool Step();
  void RunUntilIdle();
  EngineStats stats() const;

  // The naive path the engine is checked against: greedy decoding that recomputes the whole
  // sequence for every token with the LibTorch model (dequantized weights for a quantized
  // model), no cache, no batching.
  StatusOr<GenerateResult> Reference(const GenerateRequest& r);

  // The finding head's probabilities for one image [channels, size, size] (model/findings.h,
  // FindingHeadImpl::Probabilities): [kNumFindingKinds, kFieldsPerKind], size in mm. What the
  // image path tells the decoder, for evaluating the two apart; sizes read over
  // EngineOptions::reading_views views. FailedPrecondition when the
  // model has no finding head; InvalidArgument when the encoder refuses the image. Thread-safe,
  // also beside Step(): it only reads the encoder and the head, both in inference mode.
  StatusOr<torch::Tensor> FindingProbabilities(const torch::Tensor& image);
  // Reads each finding kind's presence at thresholds[k] of the head's uncalibrated probability
  // from now on (model::FindingHeadImpl::SetReadThresholds), in place of the thresholds the
  // model was saved with; drops the cached image embeddings, which carry the reading.
  // InvalidArgument unless there are kNumFindingKinds values in (0, 1); FailedPrecondition
  // without a finding head. REQUIRES: no Step() or FindingProbabilities() running.
  Status SetReadThresholds(const std::vector<double>& thresholds);

  const model::ModelConfig& config() const { return config_; }
  const DecoderWeights& weights() const { return decoder_->weights(); }
  int64_t kv_cache_bytes() const { return decoder_->cache_bytes(); }
  // KV blocks held by live sequences (engine thread); 0 once every request has ended.
  int64_t kv_blocks_in_use() const {
    return kv_->pool().num_blocks() - kv_->pool().num_available();
  }

 private:
  struct Live;
  Engine() = default;
  Status Validate(const GenerateRequest& r) const;
  StatusOr<torch::Tensor> EncodeImage(const GenerateRequest& r);
  void Admit(int64_t id, GenerateRequest r);
  // `p` with the bans of the prompt's triggers (EngineOptions::prompt_bans) added.
  SamplingParams WithPromptBans(const SamplingParams& p, std::span<const int32_t> prompt) const;
  void Emit(Live& s, int64_t id, std::span<const int32_t> tokens);
  void Done(int64_t id, Status status, const std::string& finish);

  model::ModelConfig config_;
  EngineOptions o_;
  std::shared_ptr<const TextDecoder> text_;
  model::VisionEncoder vision_{nullptr};
  model::Projector projector_{nullptr};
  model::FindingHead findings_{nullptr};  // null unless the config enables the finding head
  std::unique_ptr<CpuDecoder> decoder_;
  std::unique_ptr<KvCacheManager> kv_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<LruCache<torch::Tensor>> encoder_cache_;
  std::unique_ptr<NgramCorpus> corpus_;  // finished outputs, for drafting
  std::unique_ptr<DraftModel> draft_;
  std::map<int64_t, std::unique_ptr<Live>> live_;

  mutable std::mutex mu_;  // guards inbox_, cancels_, next_id_, stats_
  std::deque<std::pair<int64_t, GenerateRequest>> inbox_;
  std::vector<int64_t> cancels_;
  int64_t next_id_ = 1;
  EngineStats stats_;
};

}  // namespace medscribe::engine
