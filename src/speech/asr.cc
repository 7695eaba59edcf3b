#include "speech/asr.h"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "speech/ngram_lm.h"

namespace medscribe::speech {

struct PocketSphinxRecognizer::Impl {
  std::vector<ps_decoder_t*> decoders;  // one per warp factor
  bool dither = true;
  ~Impl() {
    for (ps_decoder_t* ps : decoders) ps_free(ps);
  }
};

namespace {

// A decoder for the options with `extra` settings added. Null when PocketSphinx refuses them.
ps_decoder_t* NewDecoder(const PocketSphinxOptions& o,
                         const std::vector<std::pair<std::string, std::string>>& extra,
                         std::string* error) {
  // PocketSphinx logs to one process-wide stream, and a decoder made with -logfn replaces it,
  // closing the previous one under any other thread that is logging to it. Logging is turned
  // off once for the process instead.
  static std::once_flag quiet;
  std::call_once(quiet, [] { err_set_logfp(nullptr); });
  std::vector<std::string> args = {"-hmm",           o.acoustic_model, "-lm",
                                   o.language_model, "-dict",          o.dictionary};
  const std::string mllr = (std::filesystem::path(o.acoustic_model) / "mllr_matrix").string();
  if (std::filesystem::exists(mllr)) args.insert(args.end(), {"-mllr", mllr});
  for (const auto* list : {&o.settings, &extra}) {
    for (const auto& [name, value] : *list) {
      args.push_back(name);
      args.push_back(value);
    }
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  cmd_ln_t* config =
      cmd_ln_parse_r(nullptr, ps_args(), static_cast<int32>(argv.size()), argv.data(), TRUE);
  if (config == nullptr) {
    *error = "invalid PocketSphinx configuration (settings:";
    for (size_t i = 6; i < args.size(); ++i) *error += " " + args[i];
    *error += ")";
    return nullptr;
  }
  ps_decoder_t* ps = ps_init(config);
  cmd_ln_free_r(config);
  if (ps == nullptr) {
    *error = "PocketSphinx cannot load the models (is '" + o.language_model +
             "' a valid ARPA or binary language model?)";
  }
  return ps;
}

}  // namespace

StatusOr<std::unique_ptr<PocketSphinxRecognizer>> PocketSphinxRecognizer::Create(
    const PocketSphinxOptions& o) {
  for (const std::string& p : {o.acoustic_model, o.language_model, o.dictionary}) {
    if (!std::filesystem::exists(p)) {
      return NotFoundError("speech model file '" + p + "' is missing; install pocketsphinx-en-us");
    }
  }
  std::unique_ptr<PocketSphinxRecognizer> r(new PocketSphinxRecognizer());
  r->impl_ = std::make_unique<Impl>();
  r->impl_->dither = o.dither;
  std::vector<std::vector<std::pair<std::string, std::string>>> variants;
  for (double w : o.warps) {
    if (!(w > 0.5 && w < 2.0)) {
      return InvalidArgumentError("a warp factor must lie between 0.5 and 2, not " +
                                  std::to_string(w));
    }
    variants.push_back({{"-warp_type", "inverse_linear"}, {"-warp_params", std::to_string(w)}});
  }
  if (variants.empty()) variants.emplace_back();
  for (const auto& extra : variants) {
    std::string error;
    ps_decoder_t* ps = NewDecoder(o, extra, &error);
    if (ps == nullptr) return InvalidArgumentError(error);
    r->impl_->decoders.push_back(ps);
  }
  return r;
}

PocketSphinxRecognizer::~PocketSphinxRecognizer() = default;

StatusOr<std::string> PocketSphinxRecognizer::Transcribe(const Audio& audio) {
  ASSIGN_OR_RETURN(Audio a16, Resample(audio, 16000));
  const std::vector<int16_t> pcm = ToPcm16(a16, impl_->dither);
  std::string best;
  bool found = false;
  int32 best_score = 0;
  for (ps_decoder_t* ps : impl_->decoders) {
    if (ps_start_utt(ps) < 0 || ps_process_raw(ps, pcm.data(), pcm.size(), FALSE, TRUE) < 0 ||
        ps_end_utt(ps) < 0) {
      return InternalError("PocketSphinx failed to decode the audio");
    }
    int32 score = 0;
    const char* hyp = ps_get_hyp(ps, &score);
    if (hyp == nullptr) continue;
    if (!found || score > best_score) {
      best = hyp;
      best_score = score;
      found = true;
    }
  }
  return best;
}

WerCounts WordErrors(const std::string& reference, const std::string& hypothesis) {
  const std::vector<std::string> r = TokenizeForLm(reference), h = TokenizeForLm(hypothesis);
  std::vector<size_t> prev(h.size() + 1), cur(h.size() + 1);
  for (size_t j = 0; j <= h.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= r.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= h.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] == h[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return WerCounts{prev[h.size()], r.size()};
}

StatusOr<std::vector<std::string>> ReadDictionaryWords(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open dictionary '" + path + "'");
  std::vector<std::string> words;
  for (std::string line; std::getline(in, line);) {
    const size_t sp = line.find_first_of(" \t");
    std::string w = line.substr(0, sp);
    if (const size_t paren = w.find('('); paren != std::string::npos) continue;  // alternate
    if (!w.empty()) words.push_back(w);
  }
  return words;
}

}  // namespace medscribe::speech
