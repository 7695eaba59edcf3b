#include "speech/asr.h"

#include <pocketsphinx.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "speech/ngram_lm.h"

namespace medscribe::speech {

struct PocketSphinxRecognizer::Impl {
  ps_decoder_t* ps = nullptr;
  ~Impl() {
    if (ps) ps_free(ps);
  }
};

StatusOr<std::unique_ptr<PocketSphinxRecognizer>> PocketSphinxRecognizer::Create(
    const PocketSphinxOptions& o) {
  for (const std::string& p : {o.acoustic_model, o.language_model, o.dictionary}) {
    if (!std::filesystem::exists(p)) {
      return NotFoundError("speech model file '" + p + "' is missing; install pocketsphinx-en-us");
    }
  }
  cmd_ln_t* config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", o.acoustic_model.c_str(), "-lm",
                                 o.language_model.c_str(), "-dict", o.dictionary.c_str(), "-logfn",
                                 "/dev/null", nullptr);
  if (config == nullptr) return InvalidArgumentError("invalid PocketSphinx configuration");
  std::unique_ptr<PocketSphinxRecognizer> r(new PocketSphinxRecognizer());
  r->impl_ = std::make_unique<Impl>();
  r->impl_->ps = ps_init(config);
  cmd_ln_free_r(config);
  if (r->impl_->ps == nullptr) {
    return InvalidArgumentError("PocketSphinx cannot load the models (is '" + o.language_model +
                                "' a valid ARPA or binary language model?)");
  }
  return r;
}

PocketSphinxRecognizer::~PocketSphinxRecognizer() = default;

StatusOr<std::string> PocketSphinxRecognizer::Transcribe(const Audio& audio) {
  ASSIGN_OR_RETURN(Audio a16, Resample(audio, 16000));
  std::vector<int16> pcm(a16.samples.size());
  for (size_t i = 0; i < pcm.size(); ++i) {
    pcm[i] = static_cast<int16>(std::lround(std::clamp(a16.samples[i], -1.0f, 1.0f) * 32767.0f));
  }
  ps_decoder_t* ps = impl_->ps;
  if (ps_start_utt(ps) < 0 || ps_process_raw(ps, pcm.data(), pcm.size(), FALSE, TRUE) < 0 ||
      ps_end_utt(ps) < 0) {
    return InternalError("PocketSphinx failed to decode the audio");
  }
  int32 score = 0;
  const char* hyp = ps_get_hyp(ps, &score);
  return std::string(hyp ? hyp : "");
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
