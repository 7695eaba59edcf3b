// Speech recognition of dictations: an interface, the offline PocketSphinx backend, and the word
// error rate used to measure them.
//
// Example:
//   ASSIGN_OR_RETURN(auto asr, PocketSphinxRecognizer::Create({.language_model = "domain.arpa"}));
//   ASSIGN_OR_RETURN(std::string text, asr->Transcribe(audio));
//
// Thread safety: a Recognizer is not thread-safe; use one per thread.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "speech/audio.h"

namespace medscribe::speech {

class Recognizer {
 public:
  virtual ~Recognizer() = default;
  // Lower-case words separated by single spaces. Audio at any sample rate (resampled to 16 kHz).
  virtual StatusOr<std::string> Transcribe(const Audio& audio) = 0;
};

struct PocketSphinxOptions {
  // An acoustic model directory: Debian's pocketsphinx-en-us, or one written by
  // AdaptAcousticModel (adapt.h); an `mllr_matrix` file in it is applied as a speaker transform.
  std::string acoustic_model =
      "/usr/share/pocketsphinx/model/en-us/en-us";  // Debian pocketsphinx-en-us
  std::string language_model =
      "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";  // ARPA or binary
  std::string dictionary = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
  // Further decoder settings as PocketSphinx names them, e.g. {"-lw", "10"} (language weight),
  // {"-mllr", "adapt/mllr_matrix"} (a speaker adaptation transform).
  std::vector<std::pair<std::string, std::string>> settings;
  // Vocal tract length normalization by choice: one decoder per frequency-warp factor (the
  // filter bank's inverse-linear warp; 1.0 is none); each utterance is decoded by all and the
  // hypothesis with the best score wins (maximum-likelihood warping, per speaker and
  // utterance). Empty: one decoder, no warp.
  std::vector<double> warps;
  // Deterministic one-step dither of the 16-bit samples (ToPcm16): without it, digital silence
  // gives frames the model never saw and word error rate rises (0.32 -> 0.20 on the synthetic
  // cohort's dictations). The transcript stays a function of the audio alone.
  bool dither = true;
};

class PocketSphinxRecognizer final : public Recognizer {
 public:
  // NotFound when a model file is missing (install pocketsphinx-en-us), InvalidArgument when
  // PocketSphinx cannot load them.
  static StatusOr<std::unique_ptr<PocketSphinxRecognizer>> Create(
      const PocketSphinxOptions& options);
  ~PocketSphinxRecognizer() override;
  StatusOr<std::string> Transcribe(const Audio& audio) override;

 private:
  PocketSphinxRecognizer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Word error rate: (substitutions + deletions + insertions) / reference words, over the words of
// TokenizeForLm (case, punctuation and number formatting do not count).
struct WerCounts {
  size_t errors = 0, reference_words = 0;
  double rate() const {
    return reference_words ? static_cast<double>(errors) / reference_words : 0.0;
  }
};
WerCounts WordErrors(const std::string& reference, const std::string& hypothesis);

// Words of a pronunciation dictionary (CMUdict format: "word PH ONES", alternates "word(2)").
StatusOr<std::vector<std::string>> ReadDictionaryWords(const std::string& path);

}  // namespace medscribe::speech
