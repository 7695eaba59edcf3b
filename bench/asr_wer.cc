// Word error rate of the dictations of a synthetic cohort in one run: PocketSphinx's generic
// models, the domain language model, and the domain language model with an adapted acoustic
// model (`medscribe asr adapt`), overall and on the dictations recorded with background noise.
// Usage: asr_wer COHORT_DIR DOMAIN_LM [MAX_FILES [ADAPTED_MODEL_DIR]]
//   (uses DOMAIN_LM.dict when it exists)
// Reads COHORT_DIR/truth/labels.jsonl (reference dictation text and noise level; used for scoring
// only) and COHORT_DIR/audio/<encounter>.wav.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/files.h"
#include "speech/asr.h"

using namespace medscribe;

namespace {

struct System {
  std::string name;
  std::unique_ptr<speech::Recognizer> asr;
  speech::WerCounts all, noisy;
  double seconds = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: asr_wer COHORT_DIR DOMAIN_LM [MAX_FILES [ADAPTED_MODEL_DIR]]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const size_t max_files = argc > 3 ? std::stoul(argv[3]) : 1000000;
  speech::PocketSphinxOptions generic_options, domain_options;
  domain_options.language_model = argv[2];
  if (std::ifstream(std::string(argv[2]) + ".dict"))
    domain_options.dictionary = std::string(argv[2]) + ".dict";
  std::vector<std::pair<std::string, speech::PocketSphinxOptions>> configs = {
      {"baseline: generic en-us models", generic_options},
      {"domain language model", domain_options}};
  if (argc > 4) {
    speech::PocketSphinxOptions adapted = domain_options;
    adapted.acoustic_model = argv[4];
    configs.push_back({"domain LM + adapted acoustic model", adapted});
  }
  std::vector<System> systems;
  for (const auto& [name, options] : configs) {
    auto r = speech::PocketSphinxRecognizer::Create(options);
    if (!r.ok()) {
      std::fprintf(stderr, "error: %s: %s\n", name.c_str(), r.status().ToString().c_str());
      return 1;
    }
    systems.push_back({name, std::move(r).value(), {}, {}, 0});
  }
  double audio_s = 0;
  size_t files = 0, noisy_files = 0;
  std::ifstream truth(dir + "/truth/labels.jsonl");
  for (std::string line; std::getline(truth, line) && files < max_files;) {
    const auto t = nlohmann::json::parse(line);
    auto bytes = ReadFile(dir + "/audio/" + t["encounter_id"].get<std::string>() + ".wav");
    if (!bytes.ok()) continue;
    auto audio = speech::DecodeWav(*bytes);
    if (!audio.ok()) continue;
    const std::string reference = t["dictation_text"];
    const bool noisy = t.value("noise_snr_db", 0.0) > 0;
    for (System& s : systems) {
      const auto t0 = std::chrono::steady_clock::now();
      auto text = s.asr->Transcribe(*audio);
      s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto e = speech::WordErrors(reference, text.ok() ? *text : std::string());
      s.all.errors += e.errors, s.all.reference_words += e.reference_words;
      if (noisy) s.noisy.errors += e.errors, s.noisy.reference_words += e.reference_words;
    }
    audio_s += audio->duration_s();
    noisy_files += noisy;
    ++files;
  }
  std::printf("dictations: %zu (%.0f s of audio, %zu reference words; %zu with background noise)\n",
              files, audio_s, systems[0].all.reference_words, noisy_files);
  std::printf("%-36s %8s %8s %10s\n", "system", "WER", "noisy", "real time");
  for (const System& s : systems) {
    std::printf("%-36s %8.3f %8.3f %9.2fx\n", s.name.c_str(), s.all.rate(), s.noisy.rate(),
                s.seconds / audio_s);
  }
  std::printf("wer_generic=%.3f wer_domain=%.3f", systems[0].all.rate(), systems[1].all.rate());
  if (systems.size() > 2) {
    std::printf(" wer_adapted=%.3f wer_adapted_noisy=%.3f", systems[2].all.rate(),
                systems[2].noisy.rate());
  }
  std::printf("\n");
  return 0;
}
