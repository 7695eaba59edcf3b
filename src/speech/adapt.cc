#include "speech/adapt.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "common/files.h"
#include "common/subprocess.h"
#include "speech/audio.h"
#include "speech/ngram_lm.h"
#include "speech/pronounce.h"

namespace medscribe::speech {
namespace fs = std::filesystem;
namespace {

bool ReadI32(std::string_view b, size_t& off, int32_t& v) {
  if (off + 4 > b.size()) return false;
  std::memcpy(&v, b.data() + off, 4);  // little-endian files only (checked by the caller)
  off += 4;
  return true;
}

void PutU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }

// The "-name value" pairs of a feat.params file.
std::map<std::string, std::string> ReadFeatParams(const std::string& text) {
  std::map<std::string, std::string> m;
  std::istringstream in(text);
  for (std::string k, v; in >> k >> v;) m[k] = v;
  return m;
}

// Runs one SphinxTrain or SphinxBase program; its output's tail becomes the error's detail.
StatusOr<ProcessResult> Run(const std::vector<std::string>& argv, const std::string& what) {
  auto r = RunProcess(argv);
  if (!r.ok()) {
    if (r.status().code() == ErrorCode::kNotFound) {
      return NotFoundError(argv[0] +
                           " is missing: install sphinxtrain, sphinxbase-utils and pocketsphinx "
                           "(scripts/bootstrap.sh)");
    }
    return r.status();
  }
  if (r->exit_code != 0) {
    std::string tail = r->err.size() > 600 ? r->err.substr(r->err.size() - 600) : r->err;
    return InternalError(what + " failed (" + argv[0] + ", exit " + std::to_string(r->exit_code) +
                         "): " + tail);
  }
  return r;
}

}  // namespace

std::string AlignmentTranscript(std::string_view text) {
  std::string out;
  bool pause = false;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find_first_of(".,:;!?", i);
    if (j == std::string_view::npos) j = text.size();
    const std::vector<std::string> words = TokenizeForLm(text.substr(i, j - i));
    for (const std::string& w : words) {
      if (pause && !out.empty()) out += " <sil>";
      pause = false;
      out += " " + w;
    }
    if (j < text.size()) pause = true;
    i = j + 1;
  }
  return out.empty() ? out : "<s>" + out + " </s>";
}

StatusOr<std::string> SendumpToMixtureWeights(std::string_view b) {
  size_t off = 0;
  int32_t len = 0;
  int features = 0;
  bool clustered = false;
  for (;;) {
    if (!ReadI32(b, off, len)) return DataLossError("sendump: truncated header");
    if (len == 0) break;
    if (len < 0 || len > 4096 || off + static_cast<size_t>(len) > b.size())
      return DataLossError("sendump: bad header string length (not a little-endian sendump?)");
    std::string line(b.substr(off, static_cast<size_t>(len)));
    off += static_cast<size_t>(len);
    line = line.c_str();  // drop the trailing NUL
    if (line.rfind("feature_count ", 0) == 0) features = std::atoi(line.c_str() + 14);
    if (line.rfind("cluster_count ", 0) == 0) clustered = std::atoi(line.c_str() + 14) != 0;
  }
  if (clustered) return UnimplementedError("sendump: clustered mixture weights are not supported");
  int32_t codewords = 0, pdfs = 0;
  if (!ReadI32(b, off, codewords) || !ReadI32(b, off, pdfs))
    return DataLossError("sendump: truncated dimensions");
  if (features <= 0 || features > 8 || codewords <= 0 || codewords > 4096 || pdfs <= 0 ||
      pdfs > 1000000) {
    return DataLossError("sendump: implausible dimensions");
  }
  const size_t n = static_cast<size_t>(features) * codewords * pdfs;
  if (b.size() - off != n) return DataLossError("sendump: size does not match its dimensions");
  // Stored per feature and codeword across all senones: -log_1.0001(weight) >> 10, clipped to a
  // byte. Re-expanded and normalized per senone and feature.
  const double step = 1024.0 * std::log(1.0001);
  std::vector<float> w(n);
  const auto* q = reinterpret_cast<const unsigned char*>(b.data() + off);
  for (int f = 0; f < features; ++f)
    for (int c = 0; c < codewords; ++c)
      for (int s = 0; s < pdfs; ++s) {
        const unsigned char v = q[(static_cast<size_t>(f) * codewords + c) * pdfs + s];
        w[(static_cast<size_t>(s) * features + f) * codewords + c] =
            static_cast<float>(std::exp(-step * v));
      }
  for (size_t row = 0; row < static_cast<size_t>(pdfs) * features; ++row) {
    double sum = 0;
    for (int c = 0; c < codewords; ++c) sum += w[row * codewords + c];
    for (int c = 0; c < codewords; ++c)
      w[row * codewords + c] = static_cast<float>(w[row * codewords + c] / sum);
  }
  std::string out = "s3\nversion 1.0\nendhdr\n";
  PutU32(out, 0x11223344u);  // byte-order mark
  PutU32(out, static_cast<uint32_t>(pdfs));
  PutU32(out, static_cast<uint32_t>(features));
  PutU32(out, static_cast<uint32_t>(codewords));
  PutU32(out, static_cast<uint32_t>(n));
  out.append(reinterpret_cast<const char*>(w.data()), n * sizeof(float));
  return out;
}

StatusOr<AdaptReport> AdaptAcousticModel(const std::vector<AdaptationUtterance>& utterances,
                                         const AdaptOptions& o) {
  if (o.method != "map" && o.method != "mllr")
    return InvalidArgumentError("adaptation method must be map or mllr, not '" + o.method + "'");
  if (utterances.empty()) return InvalidArgumentError("no adaptation utterances given");
  const fs::path base(o.base_model);
  for (const char* f :
       {"mdef", "feat.params", "noisedict", "means", "variances", "transition_matrices"}) {
    if (!fs::exists(base / f))
      return NotFoundError("acoustic model '" + o.base_model + "' has no " + f +
                           " (install pocketsphinx-en-us, or name a model directory)");
  }
  const std::string st = o.sphinxtrain_dir;
  if (!fs::exists(fs::path(st) / "bw"))
    return NotFoundError("SphinxTrain's bw is missing from " + st +
                         ": install sphinxtrain (scripts/bootstrap.sh)");
  ASSIGN_OR_RETURN(auto staged, StagedDirectory::Create(o.out, o.force));
  const fs::path out = staged->path(), work = out / ".work";
  std::error_code ec;
  for (const char* d : {"pcm", "mfc", "acc"}) {
    if (fs::create_directories(work / d, ec); ec)
      return IoError("cannot create " + (work / d).string() + ": " + ec.message());
  }

  // Dictionary: the given one plus espeak-ng pronunciations of the transcripts' missing words.
  AdaptReport report;
  report.utterances = utterances.size();
  ASSIGN_OR_RETURN(std::vector<std::string> dict_words, ReadDictionaryWords(o.dictionary));
  std::set<std::string> known(dict_words.begin(), dict_words.end());
  ASSIGN_OR_RETURN(std::string dict, ReadFile(o.dictionary));
  if (!dict.empty() && dict.back() != '\n') dict += '\n';
  static const std::regex kId("[A-Za-z0-9._-]+");
  std::set<std::string> ids;
  std::string ctl, transcription;
  for (const AdaptationUtterance& u : utterances) {
    if (!std::regex_match(u.id, kId) || !ids.insert(u.id).second)
      return InvalidArgumentError("utterance id '" + u.id +
                                  "' is empty, repeated or has characters "
                                  "other than letters, digits, '.', '_' and '-'");
    const std::string t = AlignmentTranscript(u.text);
    if (t.empty()) return InvalidArgumentError("utterance " + u.id + " has no words in its text");
    std::istringstream words(t);
    for (std::string w; words >> w;) {
      if (w[0] == '<' || known.count(w)) continue;
      ASSIGN_OR_RETURN(std::string phones, Pronounce(w));
      dict += w + " " + phones + "\n";
      known.insert(w);
      report.pronounced.push_back(w);
    }
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(u.audio_path));
    auto audio = DecodeWav(bytes);
    if (!audio.ok())
      return InvalidArgumentError("utterance " + u.id + " (" + u.audio_path +
                                  "): " + std::string(audio.status().message()));
    ASSIGN_OR_RETURN(Audio a16, Resample(*audio, 16000));
    report.audio_seconds += a16.duration_s();
    const std::vector<int16_t> pcm = ToPcm16(a16, /*dither=*/true);  // as the recognizer hears it
    RETURN_IF_ERROR(WriteFile(
        work / "pcm" / (u.id + ".raw"),
        std::string_view(reinterpret_cast<const char*>(pcm.data()), pcm.size() * sizeof(int16_t))));
    ctl += u.id + "\n";
    transcription += t + " (" + u.id + ")\n";
  }
  RETURN_IF_ERROR(WriteFile(work / "dict", dict));
  RETURN_IF_ERROR(WriteFile(work / "ctl", ctl));
  RETURN_IF_ERROR(WriteFile(work / "transcription", transcription));

  // Features exactly as the model's front end computes them.
  ASSIGN_OR_RETURN(std::string params_text, ReadFile(base / "feat.params"));
  const auto params = ReadFeatParams(params_text);
  auto param = [&params](const std::string& name, const char* fallback) {
    const auto it = params.find(name);
    return it == params.end() ? std::string(fallback) : it->second;
  };
  RETURN_IF_ERROR(
      Run({"sphinx_fe", "-argfile", (base / "feat.params").string(), "-samprate", "16000", "-c",
           (work / "ctl").string(), "-di", (work / "pcm").string(), "-do", (work / "mfc").string(),
           "-ei", "raw", "-eo", "mfc", "-raw", "yes", "-input_endian", "little"},
          "feature extraction")
          .status());

  // Text model definition and float mixture weights, as SphinxTrain reads them.
  ASSIGN_OR_RETURN(std::string mdef, ReadFile(base / "mdef"));
  fs::path mdef_text = base / "mdef";
  if (mdef.rfind("BMDF", 0) == 0) {
    mdef_text = work / "mdef.txt";
    RETURN_IF_ERROR(
        Run({"pocketsphinx_mdef_convert", "-text", (base / "mdef").string(), mdef_text.string()},
            "model definition conversion")
            .status());
  }
  fs::path mixw = base / "mixture_weights";
  if (!fs::exists(mixw)) {
    if (!fs::exists(base / "sendump"))
      return NotFoundError("acoustic model '" + o.base_model + "' has no mixture weights");
    ASSIGN_OR_RETURN(std::string sendump, ReadFile(base / "sendump"));
    ASSIGN_OR_RETURN(std::string weights, SendumpToMixtureWeights(sendump));
    mixw = work / "mixture_weights";
    RETURN_IF_ERROR(WriteFile(mixw, weights));
  }
  const std::string type = param("-model", "cont");
  const std::string ts2cb = type == "ptm" ? ".ptm." : type == "semi" ? ".semi." : ".cont.";

  // The base model as SphinxTrain's tools read it.
  const std::vector<std::string> model = {"-moddeffn", mdef_text.string(),
                                          "-ts2cbfn",  ts2cb,
                                          "-meanfn",   (base / "means").string(),
                                          "-varfn",    (base / "variances").string(),
                                          "-mixwfn",   mixw.string(),
                                          "-tmatfn",   (base / "transition_matrices").string()};
  auto with_model = [&model](std::vector<std::string> argv) {
    argv.insert(argv.begin() + 1, model.begin(), model.end());
    return argv;
  };

  // Baum-Welch statistics against the base model.
  // clang-format off
  ASSIGN_OR_RETURN(ProcessResult bw, Run(with_model({st + "/bw",
      "-hmmdir", base.string(),
      "-feat", param("-feat", "1s_c_d_dd"), "-svspec", param("-svspec", "0-38"),
      "-cmn", "current", "-agc", "none",
      "-dictfn", (work / "dict").string(), "-fdictfn", (base / "noisedict").string(),
      "-ctlfn", (work / "ctl").string(), "-lsnfn", (work / "transcription").string(),
      "-cepdir", (work / "mfc").string(), "-cepext", "mfc",
      "-accumdir", (work / "acc").string()}), "Baum-Welch statistics"));
  // clang-format on
  static const std::regex kIgnored(R"(ERROR: "baum_welch\.c", line \d+: (\S+) ignored)");
  const std::string log = bw.out + bw.err;
  for (std::sregex_iterator it(log.begin(), log.end(), kIgnored), end; it != end; ++it)
    report.unaligned.push_back((*it)[1]);
  report.aligned = utterances.size() - report.unaligned.size();
  if (report.aligned == 0)
    return FailedPreconditionError(
        "no utterance could be aligned to its transcript: check that "
        "the texts are what the recordings say");

  auto copy = [&out](const fs::path& from, const char* name) -> Status {
    std::error_code e;
    if (fs::copy_file(from, out / name, e); e)
      return IoError("cannot copy " + from.string() + ": " + e.message());
    return OkStatus();
  };
  for (const char* f : {"mdef", "feat.params", "noisedict"}) RETURN_IF_ERROR(copy(base / f, f));
  if (o.method == "map") {
    RETURN_IF_ERROR(
        Run(with_model({st + "/map_adapt", "-accumdir", (work / "acc").string(), "-mapmeanfn",
                        (out / "means").string(), "-mapvarfn", (out / "variances").string(),
                        "-mapmixwfn", (out / "mixture_weights").string(), "-maptmatfn",
                        (out / "transition_matrices").string()}),
            "MAP adaptation")
            .status());
  } else {
    for (const char* f : {"means", "variances", "transition_matrices"})
      RETURN_IF_ERROR(copy(base / f, f));
    const bool sendump = fs::exists(base / "sendump");
    RETURN_IF_ERROR(sendump ? copy(base / "sendump", "sendump") : copy(mixw, "mixture_weights"));
    RETURN_IF_ERROR(Run({st + "/mllr_solve", "-meanfn", (base / "means").string(), "-varfn",
                         (base / "variances").string(), "-outmllrfn",
                         (out / "mllr_matrix").string(), "-accumdir", (work / "acc").string()},
                        "MLLR transform")
                        .status());
  }
  fs::remove_all(work, ec);
  nlohmann::json j = {{"method", o.method},
                      {"base_model", o.base_model},
                      {"utterances", report.utterances},
                      {"aligned", report.aligned},
                      {"unaligned", report.unaligned},
                      {"audio_seconds", std::round(report.audio_seconds * 10) / 10},
                      {"pronounced_with_espeak_ng", report.pronounced}};
  RETURN_IF_ERROR(WriteFile(out / "adapt.json", j.dump(2) + "\n"));
  RETURN_IF_ERROR(staged->Commit());
  return report;
}

}  // namespace medscribe::speech
