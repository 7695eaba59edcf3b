// The engine as the command line uses it: a registry reference or directory resolved to a
// verified model directory, the tokenizer as the engine's text decoder, and dataset samples as
// generation requests (the same prompt as training, model/prompt.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "engine/engine.h"
#include "model/prompt.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"

namespace medscribe::cli {

// The model directory of a registry reference (signature and hashes verified), or a plain
// directory holding config.json.
StatusOr<std::string> ResolveModelDir(GlobalOptions& g, const std::string& ref);

class TokenizerText : public engine::TextDecoder {
 public:
  explicit TokenizerText(tokenizer::Tokenizer tok)
      : tok_(std::make_shared<tokenizer::Tokenizer>(std::move(tok))) {}
  std::string Decode(std::span<const int32_t> ids) const override;
  const tokenizer::Tokenizer& tokenizer() const { return *tok_; }

 private:
  std::shared_ptr<tokenizer::Tokenizer> tok_;
};

struct ReportEngine {
  std::unique_ptr<engine::Engine> engine;
  std::shared_ptr<TokenizerText> text;
  bool state_read_size = true;      // DraftRules::state_read_size
  bool state_read_side = true;      // DraftRules::state_read_side
  bool state_read_presence = true;  // DraftRules::state_read_presence
  bool state_read_found = true;     // DraftRules::state_read_found
};

// What a draft is held to beyond the model's own choice of words.
struct DraftRules {
  // The dictated comparison (DictatedChangeBans).
  bool constrain_change = true;
  // A model that reads its findings as text states the lesion size its reading measured
  // (model/stated_reading.h) wherever its draft measures a nodule or mass,
  bool state_read_size = true;
  // and the side its reading found wherever its draft gives a side to a finding it read,
  bool state_read_side = true;
  // and leaves out the sentences that assert only image findings its reading did not find,
  bool state_read_presence = true;
  // and states the image findings its reading found that the draft leaves out or denies.
  bool state_read_found = true;
};

// Constrained decoding of the dictated comparison: a prompt that carries a change token
// (model/dictated_change.h) never has the words of another change generated; where the model
// would have written one, it writes a word of the dictated change instead (the redirect), so a
// draft states the change the physician dictated. None for a tokenizer without the change tokens. A
// change word the tokenizer splits into several pieces cannot be banned this way; such words are
// appended to `split` (sorted, without repeats) when it is given.
std::vector<engine::PromptBan> DictatedChangeBans(const tokenizer::Tokenizer& tok,
                                                  std::vector<std::string>* split = nullptr);

// Loads the model directory's engine with its tokenizer (tokenizer.model), held to `rules`; the
// end token is the tokenizer's unless options.eos_id is -1 (never stop). FailedPrecondition when
// tokenizer and model disagree on the vocabulary.
StatusOr<ReportEngine> LoadReportEngine(const std::string& dir, engine::EngineOptions options,
                                        DraftRules rules = {});

// The request for one sample: bos + the prompt's tokens, its image and the image's SHA-256; for a
// model that reads its findings as text (FindingsConfig::read_as_text), the prompt carries the
// finding head's reading of the image, and `stated` (when given) what its draft must state of
// that reading, as the engine's rules ask (empty: nothing; model/stated_reading.h). REQUIRES: no
// engine Step() running on another thread.
StatusOr<engine::GenerateRequest> SampleRequest(const ReportEngine& e, const train::RawSample& s,
                                                const model::PromptOptions& po = {},
                                                model::StatedReading* stated = nullptr);

// Adds the reports of `split` of the dataset at `dir` to the engine's n-gram drafting corpus,
// as earlier reports of the site; the number added. Drafts never change an output, only how
// fast it comes. REQUIRES: no engine Step() running on another thread.
StatusOr<size_t> AddPastReports(ReportEngine& e, const std::string& dir, const std::string& split);

// The request for a text prompt without an image: bos + the text's tokens.
engine::GenerateRequest TextRequest(const ReportEngine& e, std::string_view text);

// Tokens to generate for reports like `references`: the longest reference plus 48, so that no
// report is cut short of its reference. A larger `requested` wins; a smaller one is raised, with
// a note on stderr; 0 asks for the default.
int GenerationBudget(const ReportEngine& e, const std::vector<std::string>& references,
                     int requested);

// Greedy reports for every sample, all submitted at once (continuous batching), with a
// progress bar, each stating its reading (SampleRequest). The first error is
// returned.
StatusOr<std::vector<std::string>> GenerateReports(ReportEngine& e,
                                                   const std::vector<train::RawSample>& samples,
                                                   const model::PromptOptions& po, int max_tokens,
                                                   const std::string& label);

}  // namespace medscribe::cli
