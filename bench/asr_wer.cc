// Word error rate of the dictations of a synthetic cohort, with PocketSphinx's generic language
// model and with a domain model, in the same run.
// Usage: asr_wer COHORT_DIR DOMAIN_LM [MAX_FILES]   (uses DOMAIN_LM.dict when it exists)
// Reads COHORT_DIR/truth/labels.jsonl (reference dictation text; used for scoring only) and
// COHORT_DIR/audio/<encounter>.wav.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/files.h"
#include "speech/asr.h"

using namespace medscribe;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: asr_wer COHORT_DIR DOMAIN_LM [MAX_FILES]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const size_t max_files = argc > 3 ? std::stoul(argv[3]) : 1000000;
  speech::PocketSphinxOptions generic_options, domain_options;
  domain_options.language_model = argv[2];
  if (std::ifstream(std::string(argv[2]) + ".dict"))
    domain_options.dictionary = std::string(argv[2]) + ".dict";
  auto generic = speech::PocketSphinxRecognizer::Create(generic_options);
  auto domain = speech::PocketSphinxRecognizer::Create(domain_options);
  if (!generic.ok() || !domain.ok()) {
    std::fprintf(stderr, "error: %s\n",
                 (generic.ok() ? domain.status() : generic.status()).ToString().c_str());
    return 1;
  }
  speech::WerCounts g, d;
  double audio_s = 0, generic_s = 0, domain_s = 0;
  size_t files = 0;
  std::ifstream truth(dir + "/truth/labels.jsonl");
  for (std::string line; std::getline(truth, line) && files < max_files;) {
    const auto t = nlohmann::json::parse(line);
    auto bytes = ReadFile(dir + "/audio/" + t["encounter_id"].get<std::string>() + ".wav");
    if (!bytes.ok()) continue;
    auto audio = speech::DecodeWav(*bytes);
    if (!audio.ok()) continue;
    const std::string reference = t["dictation_text"];
    auto time = [](auto& asr, const speech::Audio& a, double& seconds) {
      const auto t0 = std::chrono::steady_clock::now();
      auto text = asr->Transcribe(a);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return text.ok() ? *text : std::string();
    };
    const std::string hg = time(*generic, *audio, generic_s), hd = time(*domain, *audio, domain_s);
    const auto eg = speech::WordErrors(reference, hg), ed = speech::WordErrors(reference, hd);
    g.errors += eg.errors, g.reference_words += eg.reference_words;
    d.errors += ed.errors, d.reference_words += ed.reference_words;
    audio_s += audio->duration_s();
    ++files;
  }
  std::printf("dictations: %zu (%.0f s of audio, %zu reference words)\n", files, audio_s,
              g.reference_words);
  std::printf("baseline: generic en-us model  WER %.3f  (%.2fx real time)\n", g.rate(),
              generic_s / audio_s);
  std::printf("domain model                   WER %.3f  (%.2fx real time)\n", d.rate(),
              domain_s / audio_s);
  std::printf("wer_generic=%.3f wer_domain=%.3f\n", g.rate(), d.rate());
  return 0;
}
