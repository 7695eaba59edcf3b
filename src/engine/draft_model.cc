#include "engine/draft_model.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/json.h"
#include "model/safetensors.h"

namespace medscribe::engine {

StatusOr<std::unique_ptr<DraftModel>> DraftModel::Load(const std::string& dir, WeightFormat format,
                                                       int kv_blocks, int block_size) {
  std::ifstream in(std::filesystem::path(dir) / "config.json");
  if (!in) return NotFoundError("no draft model at '" + dir + "' (config.json is missing)");
  std::stringstream buf;
  buf << in.rdbuf();
  auto j = model::json::Parse(buf.str());
  if (!j.ok()) return DataLossError(dir + "/config.json: " + j.status().message());
  std::unique_ptr<DraftModel> d(new DraftModel());
  ASSIGN_OR_RETURN(d->config_, model::FromJson(*j));
  RETURN_IF_ERROR(model::Validate(d->config_));
  ASSIGN_OR_RETURN(model::Safetensors st, model::LoadSafetensorsDir(dir));
  if (auto q = st.metadata.find("medscribe.quantization"); q != st.metadata.end()) {
    ASSIGN_OR_RETURN(format, ParseWeightFormat(q->second));
  } else if (format != WeightFormat::kF32) {
    ASSIGN_OR_RETURN(st, QuantizeTensors(st, format));
  }
  model::ReportModel m(d->config_);
  d->vision_ = m->vision;
  d->projector_ = m->projector;
  RETURN_IF_ERROR(model::LoadWeights(*d->vision_, st, /*allow_extra=*/true, "vision."));
  RETURN_IF_ERROR(model::LoadWeights(*d->projector_, st, /*allow_extra=*/true, "projector."));
  d->vision_->eval();
  d->projector_->eval();
  if (d->config_.findings.enabled) {
    d->findings_ = m->findings;
    RETURN_IF_ERROR(model::LoadWeights(*d->findings_, st, /*allow_extra=*/true, "findings."));
    d->findings_->eval();
  }
  ASSIGN_OR_RETURN(auto weights, DecoderFromTensors(d->config_.decoder, format, st));
  d->decoder_ = std::make_unique<CpuDecoder>(weights, kv_blocks, block_size);
  d->kv_ = std::make_unique<KvCacheManager>(kv_blocks, block_size, /*prefix_caching=*/false);
  return d;
}

Status DraftModel::Add(int64_t id, std::span<const int32_t> prompt, const torch::Tensor& image,
                       int32_t image_token, int64_t served_prompt_len) {
  Seq s;
  s.served_prompt_len = served_prompt_len;
  for (const int32_t t : prompt) {
    if (t < 0 || t >= config_.decoder.vocab_size)
      return InvalidArgumentError("a prompt token is outside the draft model's vocabulary");
    if (image.defined() && t == image_token) {
      torch::NoGradGuard no_grad;
      try {
        s.image = model::ImageEmbeddingsFromTokens(
                      projector_, &findings_, vision_(image.to(torch::kFloat32).unsqueeze(0)))[0]
                      .to(torch::kFloat32)
                      .contiguous();
      } catch (const c10::Error& e) {
        return InvalidArgumentError(std::string("the draft model's encoder refused the image: ") +
                                    e.what_without_backtrace());
      }
      s.image_at = static_cast<int64_t>(s.prompt.size());
      s.prompt.insert(s.prompt.end(), static_cast<size_t>(s.image.size(0)), t);
    } else {
      s.prompt.push_back(t);
    }
  }
  seqs_[id] = std::move(s);
  return OkStatus();
}

void DraftModel::Release(int64_t id) {
  kv_->Free(id);
  seqs_.erase(id);
}

StatusOr<int32_t> DraftModel::Step(int64_t id, Seq& s, const std::vector<int32_t>& tokens,
                                   int64_t from) {
  SeqChunk c;
  c.blocks = kv_->BlockTable(id);
  c.tokens = tokens;
  c.start = from;
  c.count = static_cast<int64_t>(tokens.size()) - from;
  if (s.image.defined()) {
    c.image = &s.image;
    c.image_at = s.image_at;
  }
  std::vector<float> logits;
  RETURN_IF_ERROR(decoder_->Forward(std::span<const SeqChunk>(&c, 1), &logits));
  s.cached.assign(tokens.begin(), tokens.end());
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::vector<int32_t> DraftModel::Draft(int64_t id, std::span<const int32_t> served_sequence,
                                       int max) {
  auto it = seqs_.find(id);
  if (it == seqs_.end() || max <= 0) return {};
  Seq& s = it->second;
  if (static_cast<int64_t>(served_sequence.size()) < s.served_prompt_len) return {};
  // The sequence in the draft model's form.
  std::vector<int32_t> tokens = s.prompt;
  tokens.insert(tokens.end(), served_sequence.begin() + s.served_prompt_len, served_sequence.end());
  const int64_t limit = config_.decoder.max_position_embeddings;
  if (static_cast<int64_t>(tokens.size()) + max > limit) return {};
  // Keep the common prefix cached (at least one token is recomputed for its logits).
  size_t keep = 0;
  while (keep < s.cached.size() && keep + 1 < tokens.size() && s.cached[keep] == tokens[keep])
    ++keep;
  if (!kv_->Has(id)) {
    if (!kv_->Add(id, std::span<const int32_t>(tokens.data(), 1)).ok()) return {};
    keep = 0;
  } else if (keep == 0) {
    kv_->Free(id);
    if (!kv_->Add(id, std::span<const int32_t>(tokens.data(), 1)).ok()) return {};
  } else {
    kv_->Truncate(id, static_cast<int64_t>(keep));
  }
  const int64_t have = kv_->Length(id);
  for (size_t i = static_cast<size_t>(have); i < tokens.size(); ++i) {
    if (!kv_->Append(id, tokens[i]).ok()) return {};  // no copy-on-write: nothing is shared
  }
  std::vector<int32_t> out;
  auto next = Step(id, s, tokens, static_cast<int64_t>(keep));
  while (next.ok() && static_cast<int>(out.size()) < max) {
    out.push_back(*next);
    if (static_cast<int>(out.size()) == max) break;
    tokens.push_back(*next);
    if (!kv_->Append(id, *next).ok()) break;
    next = Step(id, s, tokens, static_cast<int64_t>(tokens.size()) - 1);
  }
  return out;
}

}  // namespace medscribe::engine
