// `medscribe asr build-lm|adapt|transcribe`: domain language models, acoustic adaptation to the
// site's voices, and offline transcription.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli.h"
#include "common/files.h"
#include "fhir/reader.h"
#include "speech/adapt.h"
#include "speech/asr.h"
#include "speech/ngram_lm.h"
#include "speech/pronounce.h"

namespace medscribe::cli {
namespace {

struct BuildLmArgs {
  std::vector<std::string> corpus, fhir;
  std::string out, dict = speech::PocketSphinxOptions().dictionary;
  int order = 3;
  double discount = 0.7;
  std::vector<std::string> accents;  // espeak-ng voices whose pronunciations become alternates
};

int RunBuildLm(const BuildLmArgs& a) {
  if (a.corpus.empty() && a.fhir.empty()) {
    return ReportError(
        InvalidArgumentError("give --corpus TEXT... and/or --fhir DIR: the text to model"));
  }
  if (a.order < 1 || a.order > 5) return ReportError(InvalidArgumentError("--order must be 1..5"));
  if (a.discount <= 0 || a.discount >= 1)
    return ReportError(InvalidArgumentError("--discount must be in (0, 1)"));
  speech::NgramCounter counter(a.order);
  std::map<std::string, int> word_counts;
  size_t sentences = 0;
  auto add_text = [&](const std::string& text) {
    for (const std::string& s : speech::SplitSentences(text)) {
      const auto words = speech::TokenizeForLm(s);
      if (words.empty()) continue;
      counter.Add(words);
      for (const auto& w : words) word_counts[w]++;
      ++sentences;
    }
  };
  for (const std::string& path : a.corpus) {
    auto text = ReadFile(path);
    if (!text.ok()) return ReportError(text.status());
    add_text(*text);
  }
  for (const std::string& dir : a.fhir) {
    fhir::FhirReader reader;
    if (Status s = reader.AddPath(dir); !s.ok()) return ReportError(s);
    for (const fhir::Resource& r : reader.resources()) {
      if (const auto* d = std::get_if<fhir::DiagnosticReport>(&r)) add_text(d->text);
    }
  }
  if (sentences == 0) return ReportError(InvalidArgumentError("the corpus holds no words"));
  if (Status s = WriteFile(a.out, counter.ToArpa(a.discount)); !s.ok()) return ReportError(s);

  // Words the dictionary lacks get a pronunciation from espeak-ng's letter-to-sound rules; the
  // dictionary with them goes next to the model (LM.dict), and every such word is listed, with
  // its count and pronunciation or the reason it has none, in LM.oov.txt.
  auto dict_text = ReadFile(a.dict);
  auto dict = speech::ReadDictionaryWords(a.dict);
  if (!dict.ok() || !dict_text.ok())
    return ReportError(dict.ok() ? dict_text.status() : dict.status());
  const std::set<std::string> known(dict->begin(), dict->end());
  std::string oov, added;
  size_t oov_words = 0, pronounced = 0;
  for (const auto& [w, c] : word_counts) {
    if (known.count(w)) continue;
    ++oov_words;
    auto p = speech::Pronounce(w);
    oov += w + "\t" + std::to_string(c) + "\t" +
           (p.ok() ? *p : "(none: " + p.status().message() + ")") + "\n";
    if (p.ok()) {
      added += w + " " + *p + "\n";
      ++pronounced;
    }
  }
  // Accents of the site's speakers: each vocabulary word's pronunciation in each accent, as
  // espeak-ng's rules give it, joins the dictionary as an alternate when it is new.
  size_t alternates = 0;
  if (!a.accents.empty()) {
    std::map<std::string, std::set<std::string>> prons;  // vocabulary word -> pronunciations
    std::map<std::string, int> count;                    // entries per word, alternates included
    std::istringstream in(*dict_text + "\n" + added);
    for (std::string line; std::getline(in, line);) {
      const size_t sp = line.find_first_of(" \t");
      if (sp == std::string::npos) continue;
      std::string w = line.substr(0, sp);
      if (const size_t paren = w.find('('); paren != std::string::npos) w.resize(paren);
      if (!word_counts.count(w)) continue;
      std::string p = line.substr(line.find_first_not_of(" \t", sp));
      prons[w].insert(p);
      ++count[w];
    }
    for (const auto& [w, c] : word_counts) {
      for (const std::string& accent : a.accents) {
        auto p = speech::Pronounce(w, accent);
        if (!p.ok()) {
          if (p.status().code() == ErrorCode::kUnavailable) return ReportError(p.status());
          continue;
        }
        if (!prons[w].insert(*p).second) continue;
        const int index = ++count[w];
        added += (index == 1 ? w : w + "(" + std::to_string(index) + ")") + " " + *p + "\n";
        ++alternates;
      }
    }
  }
  std::string merged = *dict_text;
  if (!merged.empty() && merged.back() != '\n') merged += "\n";
  for (const auto& [path, text] : {std::pair<std::string, std::string>{a.out + ".oov.txt", oov},
                                   {a.out + ".dict", merged + added}}) {
    if (Status s = WriteFile(path, text); !s.ok()) return ReportError(s);
  }
  std::printf(
      "language model %s: order %d, %zu sentences, %zu words in the vocabulary; %zu not in the "
      "pronunciation dictionary, %zu of them pronounced by rule; %zu accent alternates "
      "(dictionary %s.dict, list in %s.oov.txt)\n",
      a.out.c_str(), a.order, sentences, counter.vocabulary_size(), oov_words, pronounced,
      alternates, a.out.c_str(), a.out.c_str());
  return kExitOk;
}

struct AdaptArgs {
  std::string cohort, transcripts, out, lm, dict, method = "map", base;
  bool force = false;
};

// Utterances of a synthesized cohort (its audio/ and the dictation texts of truth/labels.jsonl)
// or of a JSONL list ({"audio": WAV relative to the list, "text": ...} per line).
StatusOr<std::vector<speech::AdaptationUtterance>> ReadUtterances(const AdaptArgs& a) {
  std::vector<speech::AdaptationUtterance> us;
  const bool cohort = !a.cohort.empty();
  const std::filesystem::path list =
      cohort ? std::filesystem::path(a.cohort) / "truth" / "labels.jsonl"
             : std::filesystem::path(a.transcripts);
  std::ifstream in(list);
  if (!in) return NotFoundError("cannot open '" + list.string() + "'");
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const std::string where = list.string() + ":" + std::to_string(line_no);
    if (!j.is_object()) return InvalidArgumentError(where + ": not a JSON object");
    speech::AdaptationUtterance u;
    if (cohort) {
      if (!j["encounter_id"].is_string() || !j["dictation_text"].is_string()) continue;
      u.id = j["encounter_id"].get<std::string>();
      u.audio_path = (std::filesystem::path(a.cohort) / "audio" / (u.id + ".wav")).string();
      u.text = j["dictation_text"].get<std::string>();
      if (!std::filesystem::exists(u.audio_path)) continue;  // a cohort without speech
    } else {
      if (!j["audio"].is_string() || !j["text"].is_string())
        return InvalidArgumentError(where + ": needs \"audio\" and \"text\" strings");
      const std::filesystem::path audio = j["audio"].get<std::string>();
      u.audio_path = (audio.is_absolute() ? audio : list.parent_path() / audio).string();
      u.id = "utt" + std::to_string(us.size() + 1);
      u.text = j["text"].get<std::string>();
    }
    us.push_back(std::move(u));
  }
  if (us.empty())
    return InvalidArgumentError("'" + list.string() + "' lists no recording with its text" +
                                (cohort ? " (was the cohort synthesized with --no-speech?)" : ""));
  return us;
}

int RunAdapt(const AdaptArgs& a) {
  if (a.cohort.empty() == a.transcripts.empty())
    return ReportError(InvalidArgumentError("give one of --cohort DIR or --transcripts FILE"));
  auto us = ReadUtterances(a);
  if (!us.ok()) return ReportError(us.status());
  speech::AdaptOptions o;
  o.out = a.out;
  o.force = a.force;
  o.method = a.method;
  if (!a.base.empty()) o.base_model = a.base;
  if (!a.dict.empty())
    o.dictionary = a.dict;
  else if (!a.lm.empty() && std::filesystem::exists(a.lm + ".dict"))
    o.dictionary = a.lm + ".dict";
  std::fprintf(stderr, "adapting %s to %zu recordings (%s)...\n", o.base_model.c_str(), us->size(),
               a.method.c_str());
  auto r = speech::AdaptAcousticModel(*us, o);
  if (!r.ok()) return ReportError(r.status());
  std::printf(
      "acoustic model %s: %s adaptation from %zu of %zu recordings (%.0f s of audio; %zu could "
      "not be aligned to their text); %zu words pronounced with espeak-ng\n"
      "use it with --acoustic-model %s (ingest, up, asr transcribe)\n",
      a.out.c_str(), a.method.c_str(), r->aligned, r->utterances, r->audio_seconds,
      r->unaligned.size(), r->pronounced.size(), a.out.c_str());
  return kExitOk;
}

int RunTranscribe(const std::vector<std::string>& files, const std::string& lm,
                  const std::string& dict, const std::string& acoustic) {
  speech::PocketSphinxOptions o;
  if (!acoustic.empty()) o.acoustic_model = acoustic;
  if (!lm.empty()) o.language_model = lm;
  if (!dict.empty())
    o.dictionary = dict;
  else if (!lm.empty() && std::filesystem::exists(lm + ".dict"))
    o.dictionary = lm + ".dict";
  auto asr = speech::PocketSphinxRecognizer::Create(o);
  if (!asr.ok()) return ReportError(asr.status());
  int failed = 0;
  for (const std::string& path : files) {
    auto bytes = ReadFile(path);
    auto audio = bytes.ok() ? speech::DecodeWav(*bytes) : StatusOr<speech::Audio>(bytes.status());
    auto text = audio.ok() ? (*asr)->Transcribe(*audio) : StatusOr<std::string>(audio.status());
    if (!text.ok()) {
      std::fprintf(stderr, "error: %s: %s\n", path.c_str(), text.status().message().c_str());
      ++failed;
      continue;
    }
    std::printf("%s\t%s\n", path.c_str(), text->c_str());
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

Runner RegisterAsr(CLI::App& app) {
  app.require_subcommand(1);
  auto b = std::make_shared<BuildLmArgs>();
  CLI::App* build =
      app.add_subcommand("build-lm", "Build an ARPA n-gram language model for dictation");
  build->add_option("--corpus", b->corpus, "Text files (report text, transcripts)")
      ->type_name("TEXT");
  build
      ->add_option("--fhir", b->fhir,
                   "FHIR NDJSON/Bundle files or directories: DiagnosticReport text")
      ->type_name("DIR");
  build->add_option("--out", b->out, "Output ARPA file")->required()->type_name("LM");
  build->add_option("--order", b->order, "N-gram order")->capture_default_str();
  build->add_option("--discount", b->discount, "Absolute discount")->capture_default_str();
  build->add_option("--dict", b->dict, "Pronunciation dictionary to check words against")
      ->capture_default_str();
  build->add_option("--accent", b->accents,
                    "An espeak-ng voice whose accent the site's speakers have (repeatable, e.g. "
                    "en-gb-scotland): each word's pronunciation in it joins the dictionary as an "
                    "alternate");
  build->footer("Use the training split's text only; never a cohort's truth/ files.");

  auto files = std::make_shared<std::vector<std::string>>();
  auto lm = std::make_shared<std::string>();
  CLI::App* tr =
      app.add_subcommand("transcribe", "Transcribe WAV files with PocketSphinx (one line each)");
  tr->add_option("files", *files, "WAV files")->required()->type_name("WAV");
  tr->add_option("--lm", *lm, "Language model (default: PocketSphinx's generic en-us model)")
      ->type_name("LM");
  auto dict = std::make_shared<std::string>();
  tr->add_option("--dict", *dict,
                 "Pronunciation dictionary (default: LM.dict when it exists, else CMUdict)")
      ->type_name("DICT");

  auto acoustic = std::make_shared<std::string>();
  tr->add_option("--acoustic-model", *acoustic,
                 "Acoustic model directory (default: PocketSphinx's en-us; see asr adapt)")
      ->type_name("DIR");

  auto ad = std::make_shared<AdaptArgs>();
  CLI::App* adapt = app.add_subcommand(
      "adapt", "Adapt the acoustic model to the site's voices from recordings with known text");
  adapt
      ->add_option("--cohort", ad->cohort,
                   "A synthesized cohort set apart for adaptation (its audio/ and the dictation "
                   "texts in truth/labels.jsonl); never the cohort that is evaluated")
      ->type_name("DIR");
  adapt
      ->add_option("--transcripts", ad->transcripts,
                   "JSONL, one recording per line: {\"audio\": WAV (relative to this file), "
                   "\"text\": what was said} (e.g. past dictations with corrected transcripts)")
      ->type_name("FILE");
  adapt->add_option("--out", ad->out, "Adapted acoustic model directory to create")
      ->required()
      ->type_name("DIR");
  adapt->add_option("--lm", ad->lm, "The domain language model whose LM.dict pronounces the words")
      ->type_name("LM");
  adapt->add_option("--dict", ad->dict, "Pronunciation dictionary (default: LM.dict, else CMUdict)")
      ->type_name("DICT");
  adapt
      ->add_option("--method", ad->method,
                   "map: re-estimate the model's Gaussians and weights (100+ recordings, the "
                   "larger gain); mllr: one transform of its means (from a few recordings)")
      ->check(CLI::IsMember({"map", "mllr"}))
      ->capture_default_str();
  adapt
      ->add_option("--base-model", ad->base,
                   "Acoustic model to adapt (default: PocketSphinx's en-us)")
      ->type_name("DIR");
  adapt->add_flag("--force", ad->force, "Replace an existing --out directory");
  adapt->footer(
      "Runs SphinxTrain (sphinx_fe, bw, then map_adapt or mllr_solve). Recordings whose text "
      "cannot be aligned to the audio are left out and counted. Output: a model directory with "
      "adapt.json describing the run (docs/model.md, Dictation).");

  return [=](GlobalOptions&) -> int {
    if (build->parsed()) return RunBuildLm(*b);
    if (adapt->parsed()) return RunAdapt(*ad);
    return RunTranscribe(*files, *lm, *dict, *acoustic);
  };
}

}  // namespace medscribe::cli
