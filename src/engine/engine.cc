#include "engine/engine.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "engine/speculative.h"
#include "engine/threads.h"
#include "model/json.h"
#include "model/safetensors.h"

namespace medscribe::engine {
namespace {
namespace fs = std::filesystem;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The first 8 bytes of a hex digest, for the prefix cache's salt.
uint64_t SaltOf(const std::string& digest) {
  uint64_t v = 0;
  for (size_t i = 0; i < digest.size() && i < 16; ++i) {
    const char c = digest[i];
    const int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : (c & 15);
    v = v << 4 | static_cast<uint64_t>(x);
  }
  return v | 1;  // never 0, the salt of text-only prompts
}

// Bytes of `text` that may be streamed: not an unfinished UTF-8 character, and not a tail that
// could still grow into a stop sequence.
size_t Streamable(const std::string& text, const std::vector<std::string>& stops) {
  size_t n = text.size();
  // Back off an incomplete UTF-8 sequence at the end.
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const unsigned char c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len > back) n -= back;
    break;
  }
  for (const std::string& s : stops) {
    for (size_t k = std::min(s.size() - 1, n); k > 0; --k) {
      if (text.compare(n - k, k, s, 0, k) == 0) {
        n -= k;
        break;
      }
    }
  }
  return n;
}

}  // namespace

struct Engine::Live {
  GenerateRequest request;
  std::vector<int32_t> tokens;  // prompt (image positions expanded) + generated
  int64_t prompt_len = 0;
  torch::Tensor image;  // [N, hidden] float32
  int64_t image_at = 0;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<StopChecker> stop;
  std::vector<int32_t> generated;
  std::string text;  // decoded generated text, leading space removed
  size_t streamed = 0;
  Clock::time_point submitted;
  double ttft = 0;
};

Engine::~Engine() = default;

StatusOr<std::unique_ptr<Engine>> Engine::Load(const std::string& model_dir,
                                               const EngineOptions& options,
                                               std::shared_ptr<const TextDecoder> text) {
  if (options.block_size < 1 || options.kv_cache_mb < 1 || options.max_running < 1 ||
      options.max_step_tokens < 1 || options.max_draft < 0 || options.threads < 0 ||
      options.bf16_gemm_min_rows < 0) {
    return InvalidArgumentError(
        "engine options must be positive (block size, KV-cache MiB, running sequences, step "
        "tokens)");
  }
  std::unique_ptr<Engine> e(new Engine());
  e->o_ = options;
  e->text_ = std::move(text);
  SetComputeThreads(options.threads);
  const fs::path dir(model_dir);
  std::ifstream in(dir / "config.json");
  if (!in) return NotFoundError("no model at '" + model_dir + "' (config.json is missing)");
  std::stringstream buf;
  buf << in.rdbuf();
  auto j = model::json::Parse(buf.str());
  if (!j.ok()) return DataLossError(model_dir + "/config.json: " + j.status().message());
  ASSIGN_OR_RETURN(e->config_, model::FromJson(*j));
  RETURN_IF_ERROR(model::Validate(e->config_));
  for (const PromptBan& b : options.prompt_bans) {
    for (const auto* list : {&b.banned, &b.redirect})
      for (const int32_t t : *list)
        if (t < 0 || t >= e->config_.decoder.vocab_size)
          return InvalidArgumentError("a prompt ban names token " + std::to_string(t) +
                                      ", outside the model's vocabulary");
  }
  ASSIGN_OR_RETURN(model::Safetensors st, model::LoadSafetensorsDir(model_dir));
  WeightFormat format = options.format;
  if (auto q = st.metadata.find("medscribe.quantization"); q != st.metadata.end()) {
    ASSIGN_OR_RETURN(format, ParseWeightFormat(q->second));
  } else if (format != WeightFormat::kF32) {
    ASSIGN_OR_RETURN(st, QuantizeTensors(st, format));
  }
  model::ReportModel m(e->config_);
  e->vision_ = m->vision;
  e->projector_ = m->projector;
  RETURN_IF_ERROR(model::LoadWeights(*e->vision_, st, /*allow_extra=*/true, "vision."));
  RETURN_IF_ERROR(model::LoadWeights(*e->projector_, st, /*allow_extra=*/true, "projector."));
  e->vision_->eval();
  e->projector_->eval();
  if (e->config_.findings.enabled) {
    e->findings_ = m->findings;
    RETURN_IF_ERROR(model::LoadWeights(*e->findings_, st, /*allow_extra=*/true, "findings."));
    e->findings_->eval();
  }
  ASSIGN_OR_RETURN(auto weights, DecoderFromTensors(e->config_.decoder, format, st));
  const model::DecoderConfig& c = e->config_.decoder;
  const int64_t block_bytes = int64_t{2} * c.num_hidden_layers * c.num_key_value_heads *
                              c.head_dim() * 4 * options.block_size;
  const int64_t blocks = options.kv_blocks > 0
                             ? options.kv_blocks
                             : std::max<int64_t>(1, (options.kv_cache_mb << 20) / block_bytes);
  if (blocks > (int64_t{1} << 30)) return InvalidArgumentError("KV cache too large");
  e->decoder_ = std::make_unique<CpuDecoder>(weights, static_cast<int>(blocks), options.block_size,
                                             CpuDecoderOptions{options.bf16_gemm_min_rows});
  e->kv_ = std::make_unique<KvCacheManager>(static_cast<int>(blocks), options.block_size,
                                            options.prefix_caching);
  SchedulerOptions so;
  so.max_step_tokens = options.max_step_tokens;
  so.max_running = options.max_running;
  so.max_context = c.max_position_embeddings;
  so.max_draft = options.max_draft;
  if (options.speculative && options.max_draft > 0) {
    e->corpus_ = std::make_unique<NgramCorpus>();
    if (!options.draft_model_dir.empty()) {
      ASSIGN_OR_RETURN(e->draft_,
                       DraftModel::Load(options.draft_model_dir, format, 4096, options.block_size));
      if (e->draft_->config().decoder.vocab_size != c.vocab_size) {
        return InvalidArgumentError("the draft model's vocabulary (" +
                                    std::to_string(e->draft_->config().decoder.vocab_size) +
                                    ") is not the model's (" + std::to_string(c.vocab_size) +
                                    "): it must share the tokenizer");
      }
    }
    so.drafter = [corpus = e->corpus_.get(), draft = e->draft_.get()](
                     int64_t id, std::span<const int32_t> seq, int max) {
      std::vector<int32_t> d = DraftTokens(seq, max, corpus);
      if (d.empty() && draft) d = draft->Draft(id, seq, max);
      return d;
    };
  }
  e->scheduler_ = std::make_unique<Scheduler>(e->kv_.get(), so);
  e->encoder_cache_ = std::make_unique<LruCache<torch::Tensor>>(
      options.encoder_cache_mb << 20, [](const torch::Tensor& t) { return t.numel() * 4; });
  e->stats_.kv_blocks = blocks;
  e->stats_.kv_block_bytes = block_bytes;
  return e;
}

Status Engine::Validate(const GenerateRequest& r) const {
  RETURN_IF_ERROR(engine::Validate(r.sampling));
  if (r.prompt.empty()) return InvalidArgumentError("the prompt is empty");
  const model::DecoderConfig& c = config_.decoder;
  for (const auto* list : {&r.sampling.banned, &r.sampling.redirect})
    for (const int32_t t : *list)
      if (t < 0 || t >= c.vocab_size)
        return InvalidArgumentError(
            std::string(list == &r.sampling.banned ? "banned" : "redirect") + " token " +
            std::to_string(t) + " is outside the model's vocabulary (" +
            std::to_string(c.vocab_size) + ")");
  int images = 0;
  for (const int32_t t : r.prompt) {
    if (t < 0 || t >= c.vocab_size)
      return InvalidArgumentError("prompt token " + std::to_string(t) +
                                  " is outside the model's vocabulary (" +
                                  std::to_string(c.vocab_size) + ")");
    images += o_.image_token_id >= 0 && t == o_.image_token_id;
  }
  if (images > 1) return InvalidArgumentError("the prompt holds more than one image placeholder");
  if (images == 1 && !r.image.defined())
    return InvalidArgumentError("the prompt has an image placeholder but no image was given");
  if (images == 0 && r.image.defined())
    return InvalidArgumentError("an image was given but the prompt has no image placeholder");
  const model::VisionConfig& v = config_.vision;
  if (r.image.defined()) {
    // Any size: the vision encoder resizes to its own.
    if (!r.image.is_floating_point() || r.image.dim() != 3 || r.image.size(0) != v.channels ||
        r.image.size(1) < 8 || r.image.size(2) < 8 || r.image.size(1) > 4096 ||
        r.image.size(2) > 4096) {
      return InvalidArgumentError("the image must be float [" + std::to_string(v.channels) +
                                  ", H, W] with 8 <= H, W <= 4096 for this model (the encoder "
                                  "resizes it to " +
                                  std::to_string(v.image_size) + ")");
    }
    if (!torch::isfinite(r.image).all().item<bool>())
      return InvalidArgumentError("the image holds values that are not finite");
  }
  const int64_t positions =
      static_cast<int64_t>(r.prompt.size()) + (images ? config_.image_tokens() - 1 : 0);
  if (positions + 1 > c.max_position_embeddings) {
    return InvalidArgumentError(
        "the prompt takes " + std::to_string(positions) + " positions; the model's context holds " +
        std::to_string(c.max_position_embeddings) + " with the answer: shorten it");
  }
  return OkStatus();
}

StatusOr<int64_t> Engine::Submit(GenerateRequest r) {
  RETURN_IF_ERROR(Validate(r));
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t id = next_id_++;
  inbox_.emplace_back(id, std::move(r));
  ++stats_.requests;
  return id;
}

void Engine::Cancel(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  cancels_.push_back(id);
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

StatusOr<torch::Tensor> Engine::EncodeImage(const GenerateRequest& r) {
  if (!r.image_digest.empty()) {
    if (auto hit = encoder_cache_->Get(r.image_digest)) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.encoder_hits;
      return *hit;
    }
  }
  torch::NoGradGuard no_grad;
  torch::Tensor embeds;
  try {
    embeds = model::ImageEmbeddingsFromTokens(projector_, &findings_,
                                              vision_(r.image.to(torch::kFloat32).unsqueeze(0)))[0]
                 .to(torch::kFloat32)
                 .contiguous();
  } catch (const c10::Error& e) {
    return InvalidArgumentError(std::string("the vision encoder refused the image: ") +
                                e.what_without_backtrace());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.encoder_misses;
  }
  if (!r.image_digest.empty()) encoder_cache_->Put(r.image_digest, embeds);
  return embeds;
}

Status Engine::SetReadThresholds(const std::vector<double>& thresholds) {
  if (findings_.is_empty())
    return FailedPreconditionError("the model has no finding head (its config disables it)");
  if (thresholds.size() != static_cast<size_t>(model::kNumFindingKinds) ||
      std::any_of(thresholds.begin(), thresholds.end(), [](double t) { return !(t > 0 && t < 1); }))
    return InvalidArgumentError("reading thresholds must be " +
                                std::to_string(model::kNumFindingKinds) +
                                " probabilities strictly between 0 and 1");
  findings_->SetReadThresholds(thresholds);
  encoder_cache_->Clear();
  return OkStatus();
}

StatusOr<torch::Tensor> Engine::FindingProbabilities(const torch::Tensor& image) {
  if (findings_.is_empty())
    return FailedPreconditionError("the model has no finding head (its config disables it)");
  torch::NoGradGuard no_grad;
  try {
    const torch::Tensor x = image.to(torch::kFloat32);
    torch::Tensor views = x.unsqueeze(0);
    if (o_.reading_views > 1 && x.dim() == 3) {
      // (dy, dx) offsets into the image padded by kReadingShift: the image itself first.
      constexpr int64_t s = kReadingShift;
      constexpr int64_t kOffsets[kMaxReadingViews][2] = {{s, s},     {0, s},     {2 * s, s},
                                                         {s, 0},     {s, 2 * s}, {0, 0},
                                                         {0, 2 * s}, {2 * s, 0}, {2 * s, 2 * s}};
      const torch::Tensor padded = torch::constant_pad_nd(x, {s, s, s, s}, 0);
      std::vector<torch::Tensor> v;
      for (int i = 0; i < std::min(o_.reading_views, kMaxReadingViews); ++i)
        v.push_back(
            padded.narrow(1, kOffsets[i][0], x.size(1)).narrow(2, kOffsets[i][1], x.size(2)));
      views = torch::stack(v);
    }
    torch::Tensor out = findings_(vision_(views));
    if (out.size(0) > 1) {
      // The image's own reading, its sizes the mean over the views (log scale).
      const torch::Tensor size = out.narrow(2, model::kSize, 1).mean(0, /*keepdim=*/true);
      out = torch::cat(
          {out.narrow(0, 0, 1).narrow(2, 0, model::kSize), size,
           out.narrow(0, 0, 1).narrow(2, model::kSize + 1, out.size(2) - model::kSize - 1)},
          2);
    }
    return findings_->Probabilities(out)[0].to(torch::kFloat32).contiguous();
  } catch (const c10::Error& e) {
    return InvalidArgumentError(std::string("the vision encoder refused the image: ") +
                                e.what_without_backtrace());
  }
}

SamplingParams Engine::WithPromptBans(const SamplingParams& p,
                                      std::span<const int32_t> prompt) const {
  SamplingParams out = p;
  for (const PromptBan& b : o_.prompt_bans)
    if (std::find(prompt.begin(), prompt.end(), b.trigger) != prompt.end()) {
      out.banned.insert(out.banned.end(), b.banned.begin(), b.banned.end());
      out.redirect.insert(out.redirect.end(), b.redirect.begin(), b.redirect.end());
    }
  return out;
}

void Engine::Admit(int64_t id, GenerateRequest r) {
  auto s = std::make_unique<Live>();
  s->submitted = Clock::now();
  Request q;
  q.id = id;
  q.priority = r.priority;
  q.deadline = r.deadline;
  q.max_tokens = r.sampling.max_tokens;
  q.speculate = r.sampling.temperature == 0 && r.sampling.repetition_penalty == 1.0;
  for (size_t i = 0; i < r.prompt.size(); ++i) {
    if (r.image.defined() && r.prompt[i] == o_.image_token_id) {
      auto embeds = EncodeImage(r);
      if (!embeds.ok()) {
        live_[id] = std::move(s);
        live_[id]->request = std::move(r);
        return Done(id, embeds.status(), "error");
      }
      s->image = *embeds;
      s->image_at = static_cast<int64_t>(s->tokens.size());
      s->tokens.insert(s->tokens.end(), static_cast<size_t>(s->image.size(0)), o_.image_token_id);
    } else {
      s->tokens.push_back(r.prompt[i]);
    }
  }
  // Prompts with an image share cached blocks only with prompts of the same image.
  q.prefix_salt = !s->image.defined() ? 0
                  : !r.image_digest.empty()
                      ? SaltOf(r.image_digest)
                      : (static_cast<uint64_t>(id) << 1) | (uint64_t{1} << 63);
  q.prompt = s->tokens;
  s->prompt_len = static_cast<int64_t>(s->tokens.size());
  if (draft_ && q.speculate) {
    // Without the draft model's view of this request, its drafts come from n-grams only.
    if (!draft_->Add(id, r.prompt, r.image, o_.image_token_id, s->prompt_len).ok())
      draft_->Release(id);
  }
  s->sampler = std::make_unique<Sampler>(WithPromptBans(r.sampling, r.prompt));
  s->stop = std::make_unique<StopChecker>(r.sampling, o_.eos_id);
  s->request = std::move(r);
  Status st = scheduler_->Submit(std::move(q));
  live_[id] = std::move(s);
  if (!st.ok()) return Done(id, st, "error");
  std::lock_guard<std::mutex> lock(mu_);
  stats_.prompt_tokens += live_[id]->prompt_len;
}

void Engine::Done(int64_t id, Status status, const std::string& finish) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  Live& s = *it->second;
  GenerateResult res;
  res.id = id;
  res.finish = status.ok() ? finish : "error";
  res.status = std::move(status);
  res.tokens = s.generated;
  res.text = s.text;
  res.prompt_tokens = s.prompt_len;
  res.ttft_s = s.ttft;
  res.total_s = Since(s.submitted);
  if (res.status.ok() && corpus_) corpus_->Add(s.generated);
  if (draft_) draft_->Release(id);
  if (res.status.ok() && s.request.on_text && s.streamed < s.text.size())
    s.request.on_text(std::string_view(s.text).substr(s.streamed));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++(res.status.ok() ? stats_.finished : stats_.failed);
  }
  auto cb = std::move(s.request.on_done);
  live_.erase(it);
  if (cb) cb(res);
}

void Engine::Emit(Live& s, int64_t id, std::span<const int32_t> tokens) {
  if (s.generated.empty()) s.ttft = Since(s.submitted);
  for (const int32_t t : tokens) {
    if (t == o_.eos_id) {
      scheduler_->Finish(id);
      return Done(id, OkStatus(), "eos");
    }
    s.generated.push_back(t);
    s.tokens.push_back(t);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.generated_tokens;
    }
    std::string text = text_ ? text_->Decode(s.generated) : std::string();
    while (!text.empty() && text.front() == ' ') text.erase(text.begin());
    s.text = std::move(text);
    size_t cut = s.text.size();
    const bool done = s.stop->Done(t, static_cast<int>(s.generated.size()), s.text, &cut);
    const bool full =
        static_cast<int64_t>(s.tokens.size()) >= config_.decoder.max_position_embeddings;
    if (done || full) {
      const bool stopped = cut < s.text.size();
      s.text.resize(cut);
      scheduler_->Finish(id);
      return Done(id, OkStatus(), stopped ? "stop" : "length");
    }
    const size_t n = Streamable(s.text, s.request.sampling.stop);
    if (n > s.streamed && s.request.on_text) {
      s.request.on_text(std::string_view(s.text).substr(s.streamed, n - s.streamed));
      s.streamed = n;
    }
  }
}

bool Engine::Step() {
  std::deque<std::pair<int64_t, GenerateRequest>> arrivals;
  std::vector<int64_t> cancels;
  {
    std::lock_guard<std::mutex> lock(mu_);
    arrivals.swap(inbox_);
    cancels.swap(cancels_);
  }
  for (auto& [id, r] : arrivals) Admit(id, std::move(r));
  for (const int64_t id : cancels) scheduler_->Cancel(id);
  StepPlan plan = scheduler_->Plan(Clock::now());
  for (auto& [id, why] : plan.ended) Done(id, why, "error");
  if (plan.chunks.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.running = scheduler_->running();
    stats_.waiting = scheduler_->waiting();
    return !plan.ended.empty() || !arrivals.empty();
  }
  for (const BlockCopy& c : plan.copies) decoder_->Copy(c);
  std::vector<std::vector<int32_t>> drafted(plan.chunks.size());
  std::vector<SeqChunk> chunks;
  chunks.reserve(plan.chunks.size());
  int64_t prompt_rows = 0;
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const Chunk& c = plan.chunks[i];
    Live& s = *live_.at(c.id);
    SeqChunk sc;
    sc.blocks = kv_->BlockTable(c.id);
    if (c.draft.empty()) {
      sc.tokens = s.tokens;
    } else {
      drafted[i] = s.tokens;
      drafted[i].insert(drafted[i].end(), c.draft.begin(), c.draft.end());
      sc.tokens = drafted[i];
    }
    sc.start = c.start;
    sc.count = c.count;
    sc.logits = !c.sample         ? SeqChunk::Logits::kNone
                : c.draft.empty() ? SeqChunk::Logits::kLast
                                  : SeqChunk::Logits::kAll;
    if (s.image.defined()) {
      sc.image = &s.image;
      sc.image_at = s.image_at;
    }
    if (c.start < s.prompt_len) prompt_rows += std::min(c.start + c.count, s.prompt_len) - c.start;
    chunks.push_back(sc);
  }
  std::vector<float> logits;
  const Status st = decoder_->Forward(chunks, &logits);
  if (!st.ok()) {
    // A chunk the decoder refuses fails every sequence of the step (none is half-computed).
    for (const Chunk& c : plan.chunks) {
      scheduler_->Finish(c.id);
      Done(c.id, st, "error");
    }
    return true;
  }
  const int64_t vocab = config_.decoder.vocab_size;
  size_t row = 0;
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const Chunk& c = plan.chunks[i];
    if (!c.sample) continue;
    auto it = live_.find(c.id);
    Live& s = *it->second;
    const auto row_of = [&](size_t r) {
      return std::span<float>(logits.data() + r * static_cast<size_t>(vocab),
                              static_cast<size_t>(vocab));
    };
    if (c.draft.empty()) {
      const int32_t t = s.sampler->Next(row_of(row++), s.tokens);
      scheduler_->Completed(c.id, t);
      Emit(s, c.id, std::span<const int32_t>(&t, 1));
      continue;
    }
    // Verification: keep drafts while they equal the greedy choice, then the greedy token.
    std::vector<int32_t> out;
    std::vector<int32_t> history = s.tokens;
    for (size_t k = 0; k <= c.draft.size(); ++k) {
      const int32_t t = s.sampler->Next(row_of(row + k), history);
      out.push_back(t);
      if (k == c.draft.size() || t != c.draft[k] || t == o_.eos_id) break;
      history.push_back(t);
    }
    row += c.draft.size() + 1;
    scheduler_->Completed(c.id, out);
    Emit(s, c.id, out);
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.steps;
  stats_.computed_prompt_tokens += prompt_rows;
  stats_.preemptions = scheduler_->preemptions();
  stats_.drafted = scheduler_->drafted();
  stats_.accepted = scheduler_->accepted();
  stats_.verifications = scheduler_->verifications();
  stats_.kv_blocks_used = kv_blocks_in_use();
  if (const int64_t used = stats_.kv_blocks_used; used > stats_.peak_kv_blocks) {
    stats_.peak_kv_blocks = used;
    stats_.live_tokens_at_peak = stats_.live_sequences_at_peak = 0;
    for (const auto& [id, s] : live_) {
      if (!kv_->Has(id)) continue;
      stats_.live_tokens_at_peak += kv_->Length(id);
      ++stats_.live_sequences_at_peak;
    }
  }
  stats_.running = scheduler_->running();
  stats_.waiting = scheduler_->waiting();
  return true;
}

void Engine::RunUntilIdle() {
  while (true) {
    if (Step()) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (inbox_.empty() && cancels_.empty() && live_.empty()) return;
  }
}

void Engine::AddPastOutput(std::span<const int32_t> tokens) {
  if (corpus_) corpus_->Add(tokens);
}

StatusOr<GenerateResult> Engine::Reference(const GenerateRequest& r) {
  RETURN_IF_ERROR(Validate(r));
  if (r.sampling.temperature != 0 || r.sampling.repetition_penalty != 1.0)
    return InvalidArgumentError("the reference path decodes greedily (temperature 0, no penalty)");
  const auto t0 = Clock::now();
  torch::NoGradGuard no_grad;
  // The LibTorch decoder with the engine's (possibly dequantized) weights; its own output head
  // (a tied head is packed, and so quantized, like the other matrices).
  model::DecoderConfig dc = config_.decoder;
  dc.tie_word_embeddings = false;
  model::LlamaForCausalLM d(dc);
  {
    auto params = d->named_parameters();
    model::NamedTensors stored = DecoderTensors(weights());
    std::map<std::string, torch::Tensor> by_name(stored.begin(), stored.end());
    for (auto& p : params) {
      const std::string name = "decoder." + p.key();
      auto it = by_name.find(name);
      if (it == by_name.end()) return InternalError("no tensor for " + name);
      torch::Tensor value = it->second;
      if (!value.is_floating_point() || value.scalar_type() == torch::kBFloat16) {
        auto sc = by_name.find(name + ".scales");
        const WeightFormat f = value.scalar_type() == torch::kBFloat16 ? WeightFormat::kBF16
                               : value.scalar_type() == torch::kInt8   ? WeightFormat::kInt8
                                                                       : WeightFormat::kInt4;
        ASSIGN_OR_RETURN(PackedWeight pw,
                         FromStored(name, f, p.value().size(0), p.value().size(1), value,
                                    sc == by_name.end() ? torch::Tensor() : sc->second));
        value = Dequantize(pw);
      }
      p.value().copy_(value);
    }
  }
  d->eval();
  GenerateRequest q = r;
  q.image_digest.clear();
  std::vector<int64_t> ids;
  torch::Tensor image;
  int64_t image_at = -1;
  for (const int32_t t : r.prompt) {
    if (r.image.defined() && t == o_.image_token_id) {
      ASSIGN_OR_RETURN(image, EncodeImage(q));
      image_at = static_cast<int64_t>(ids.size());
      ids.insert(ids.end(), static_cast<size_t>(image.size(0)), t);
    } else {
      ids.push_back(t);
    }
  }
  GenerateResult res;
  res.prompt_tokens = static_cast<int64_t>(ids.size());
  StopChecker stop(r.sampling, o_.eos_id);
  const SamplingParams constrained = WithPromptBans(r.sampling, r.prompt);
  res.finish = "length";
  while (static_cast<int64_t>(ids.size()) < config_.decoder.max_position_embeddings) {
    const int64_t t = static_cast<int64_t>(ids.size());
    torch::Tensor x = d->embed(torch::tensor(ids, torch::kLong).view({1, t}));
    if (image.defined()) x[0].narrow(0, image_at, image.size(0)).copy_(image);
    const torch::Tensor logits = d->forward_embeds(x, torch::ones({1, t}, torch::kLong));
    torch::Tensor last = logits[0][t - 1].to(torch::kFloat32).contiguous();
    ApplyBans(constrained,
              std::span<float>(last.data_ptr<float>(), static_cast<size_t>(last.numel())));
    const int32_t next = static_cast<int32_t>(last.argmax().item<int64_t>());
    if (res.tokens.empty()) res.ttft_s = Since(t0);
    if (next == o_.eos_id) {
      res.finish = "eos";
      break;
    }
    res.tokens.push_back(next);
    ids.push_back(next);
    std::string text = text_ ? text_->Decode(res.tokens) : std::string();
    while (!text.empty() && text.front() == ' ') text.erase(text.begin());
    size_t cut = text.size();
    const bool done = stop.Done(next, static_cast<int>(res.tokens.size()), text, &cut);
    res.text = text.substr(0, cut);
    if (done) {
      res.finish = cut < text.size() ? "stop" : "length";
      break;
    }
  }
  res.total_s = Since(t0);
  return res;
}

}  // namespace medscribe::engine
