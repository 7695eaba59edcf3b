#include "report_engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/progress.h"
#include "crypto/hmac.h"
#include "model/dictated_change.h"
#include "model/findings.h"
#include "model/stated_reading.h"
#include "registry/registry.h"
#include "registry_access.h"

namespace medscribe::cli {
namespace fs = std::filesystem;

StatusOr<std::string> ResolveModelDir(GlobalOptions& g, const std::string& ref) {
  // A directory is named as a path ("./run/model", "/models/x"); a bare name is always a registry
  // name, so a same-named directory in the working directory is never loaded unverified.
  if (ref.find('/') != std::string::npos) {
    if (fs::is_directory(ref) && fs::exists(fs::path(ref) / "config.json")) return ref;
    return NotFoundError("no model directory " + ref + " (a directory with config.json)");
  }
  ASSIGN_OR_RETURN(auto reg, OpenRegistry(g));
  ASSIGN_OR_RETURN(registry::Entry e, reg.Resolve(ref));
  return e.dir;
}

std::string TokenizerText::Decode(std::span<const int32_t> ids) const {
  return tok_->Decode(std::vector<int>(ids.begin(), ids.end()));
}

std::vector<engine::PromptBan> DictatedChangeBans(const tokenizer::Tokenizer& tok,
                                                  std::vector<std::string>* split) {
  std::vector<engine::PromptBan> bans;
  for (const model::DictatedChange c :
       {model::DictatedChange::kNoPrior, model::DictatedChange::kNew,
        model::DictatedChange::kIncreased, model::DictatedChange::kDecreased,
        model::DictatedChange::kUnchanged}) {
    const int trigger = tok.SpecialId(model::ChangeToken(c));
    if (trigger == tokenizer::kUnkId) continue;  // trained before the change tokens
    std::vector<int> banned = model::ContradictingTokens(
        c, [&tok](std::string_view text) { return tok.Encode(text); }, split);
    const std::vector<int> stating =
        model::StatingTokens(c, [&tok](std::string_view text) { return tok.Encode(text); });
    bans.push_back({trigger, std::vector<int32_t>(banned.begin(), banned.end()),
                    std::vector<int32_t>(stating.begin(), stating.end())});
  }
  if (split != nullptr) {
    std::sort(split->begin(), split->end());
    split->erase(std::unique(split->begin(), split->end()), split->end());
  }
  return bans;
}

StatusOr<ReportEngine> LoadReportEngine(const std::string& dir, engine::EngineOptions options,
                                        DraftRules rules) {
  ASSIGN_OR_RETURN(tokenizer::Tokenizer tok,
                   tokenizer::Tokenizer::Load((fs::path(dir) / "tokenizer.model").string()));
  ReportEngine e;
  if (options.eos_id != -1) options.eos_id = tokenizer::kEosId;  // -1: never stop at the end token
  options.image_token_id = tok.SpecialId("<image>");
  if (rules.constrain_change) {
    std::vector<std::string> split;
    options.prompt_bans = DictatedChangeBans(tok, &split);
    if (!split.empty()) {
      std::string words;
      for (const std::string& w : split) words += (words.empty() ? "" : ", ") + w;
      std::fprintf(stderr,
                   "note: the tokenizer splits %zu change words into several pieces (%s); drafts "
                   "cannot be kept from writing them against the dictation\n",
                   split.size(), words.c_str());
    }
  }
  e.state_read_size = rules.state_read_size;
  e.state_read_side = rules.state_read_side;
  e.state_read_presence = rules.state_read_presence;
  e.state_read_found = rules.state_read_found;
  e.text = std::make_shared<TokenizerText>(std::move(tok));
  ASSIGN_OR_RETURN(e.engine, engine::Engine::Load(dir, options, e.text));
  if (e.text->tokenizer().vocab_size() != e.engine->config().decoder.vocab_size) {
    return FailedPreconditionError("tokenizer and model of different vocabularies in " + dir +
                                   " (" + std::to_string(e.text->tokenizer().vocab_size()) +
                                   " vs " + std::to_string(e.engine->config().decoder.vocab_size) +
                                   ")");
  }
  return e;
}

StatusOr<size_t> AddPastReports(ReportEngine& e, const std::string& dir, const std::string& split) {
  ASSIGN_OR_RETURN(train::SplitIndex index, train::IndexSplit(dir, split));
  size_t added = 0;
  for (size_t i = 0; i < index.samples.size(); ++i) {
    ASSIGN_OR_RETURN(train::RawSample s, train::ReadSample(index, i));
    ASSIGN_OR_RETURN(model::Prompt prompt, model::BuildPrompt(s.sample));
    if (prompt.target.empty()) continue;
    const std::vector<int> ids = e.text->tokenizer().Encode(prompt.target);
    e.engine->AddPastOutput(std::vector<int32_t>(ids.begin(), ids.end()));
    ++added;
  }
  return added;
}

StatusOr<engine::GenerateRequest> SampleRequest(const ReportEngine& e, const train::RawSample& s,
                                                const model::PromptOptions& options,
                                                model::StatedReading* stated) {
  model::PromptOptions po = options;
  if (stated != nullptr) *stated = {};
  if (po.image && s.image.defined() && e.engine->config().findings.read_as_text) {
    ASSIGN_OR_RETURN(torch::Tensor read, e.engine->FindingProbabilities(s.image));
    po.image_read = model::ImageRead(read);
    if (stated != nullptr) {
      *stated = model::ReadingToState(read);
      if (!e.state_read_size) stated->lesion_mm = std::nan("");
      if (!e.state_read_side) stated->side = {};
      if (!e.state_read_presence) stated->presence = {};
      if (!e.state_read_found) stated->statement = {};
    }
  }
  ASSIGN_OR_RETURN(model::Prompt prompt, model::BuildPrompt(s.sample, po));
  engine::GenerateRequest r;
  r.prompt.push_back(tokenizer::kBosId);
  for (int id : e.text->tokenizer().Encode(prompt.text)) r.prompt.push_back(id);
  if (po.image && s.image.defined()) {
    r.image = s.image;
    const torch::Tensor c = s.image.to(torch::kFloat32).contiguous();
    r.image_digest = crypto::Hex(crypto::Sha256(std::string_view(
        static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()) * 4)));
  }
  return r;
}

engine::GenerateRequest TextRequest(const ReportEngine& e, std::string_view text) {
  engine::GenerateRequest r;
  r.prompt.push_back(tokenizer::kBosId);
  for (int id : e.text->tokenizer().Encode(text)) r.prompt.push_back(id);
  return r;
}

int GenerationBudget(const ReportEngine& e, const std::vector<std::string>& references,
                     int requested) {
  size_t longest = 0;
  for (const std::string& r : references)
    longest = std::max(longest, e.text->tokenizer().Encode(r).size());
  const int budget = static_cast<int>(longest) + 48;
  if (requested > 0 && requested < budget) {
    std::fprintf(stderr,
                 "note: --max-new-tokens %d would cut reports shorter than the longest reference "
                 "(%zu tokens); using %d\n",
                 requested, longest, budget);
  }
  return std::max(budget, requested);
}

StatusOr<std::vector<std::string>> GenerateReports(ReportEngine& e,
                                                   const std::vector<train::RawSample>& samples,
                                                   const model::PromptOptions& po, int max_tokens,
                                                   const std::string& label) {
  std::vector<std::string> out(samples.size());
  Status first = OkStatus();
  ProgressBar bar(label, samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    model::StatedReading stated;
    ASSIGN_OR_RETURN(engine::GenerateRequest r, SampleRequest(e, samples[i], po, &stated));
    r.sampling.max_tokens = max_tokens;
    r.priority = engine::Priority::kBatch;
    r.on_done = [&, i, stated](const engine::GenerateResult& res) {
      if (!res.status.ok() && first.ok())
        first = Status(res.status.code(), samples[i].key + ": " + res.status.message());
      out[i] = model::StateReading(res.text, stated);
      bar.Advance();
    };
    auto id = e.engine->Submit(std::move(r));
    if (!id.ok()) return Status(id.status().code(), samples[i].key + ": " + id.status().message());
  }
  e.engine->RunUntilIdle();
  bar.Finish();
  RETURN_IF_ERROR(first);
  return out;
}

}  // namespace medscribe::cli
