// `medscribe ingest` and `medscribe dataset show|verify|merge|combine`: building and checking
// dataset versions.
#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "common/civil_time.h"
#include "common/files.h"
#include "common/logging.h"
#include "crypto/hmac.h"
#include "ingest/combine.h"
#include "ingest/manifest.h"
#include "ingest/pipeline.h"
#include "ingest/record.h"
#include "speech/asr.h"
#include "train/distributed.h"
#include "warehouse/warehouse.h"

namespace medscribe::cli {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr int kExitQuarantined = 3;

struct IngestArgs {
  std::string dicom, audio, out, split = "0.8,0.1,0.1", deid_key, shard_size = "256MB";
  std::vector<std::string> fhir;
  uint64_t seed = 0;
  int jobs = 0, image_size = 256, labs_window_hours = 72, match_window_minutes = 360;
  double image_spacing = 0;
  bool allow_burned_in = false, force = false, no_warehouse = false;
  std::string lm, dict, acoustic_model, warehouse;
};

// "256MB", "1GiB", "500k", "1048576" -> bytes. InvalidArgument otherwise.
StatusOr<uint64_t> ParseSize(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 15) {
    return InvalidArgumentError("'" + text + "' is not a size (e.g. 256MB, 1GB, 65536)");
  }
  const uint64_t n = std::stoull(text.substr(0, i));
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
  uint64_t mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  if (unit == "k") mult = uint64_t{1} << 10;
  if (unit == "m") mult = uint64_t{1} << 20;
  if (unit == "g") mult = uint64_t{1} << 30;
  if (mult == 0) return InvalidArgumentError("'" + text + "': unknown unit (use KB, MB or GB)");
  return n * mult;
}

std::string FileDigest(const std::string& path) {
  auto data = ReadFile(path);
  return data.ok() ? crypto::Hex(crypto::Sha256(*data)).substr(0, 16) : "unreadable";
}

void PrintSummary(const ingest::IngestResult& r) {
  std::printf("dataset %s\n", r.dataset_id.c_str());
  std::printf("  location: %s\n", r.dir.string().c_str());
  std::printf("  samples:  %llu\n", static_cast<unsigned long long>(r.samples));
  for (const auto& [kind, t] : r.tallies) {
    std::printf("  %-10s inputs = ingested + quarantined: %llu = %llu + %llu%s\n",
                (kind + ":").c_str(), static_cast<unsigned long long>(t.inputs),
                static_cast<unsigned long long>(t.ingested),
                static_cast<unsigned long long>(t.quarantined),
                t.inputs == t.ingested + t.quarantined ? "" : "  MISMATCH");
  }
}

// Prints the quarantine counts by reason from the manifest.
void PrintQuarantine(const fs::path& dir) {
  auto text = ReadFile(dir / "manifest.json");
  if (!text.ok()) return;
  Json m = Json::parse(*text, nullptr, false);
  if (!m.is_object() || !m["quarantine"].is_object()) return;
  const Json& by = m["quarantine"]["by_reason"];
  if (!by.is_object() || by.empty()) return;
  std::printf("  quarantined by reason (details in quarantine.jsonl):\n");
  for (const auto& [reason, n] : by.items()) {
    std::printf("    %-32s %s\n", reason.c_str(), n.dump().c_str());
  }
}

Status Record(const fs::path& dir, const std::string& path) {
  ASSIGN_OR_RETURN(auto w, warehouse::SqliteWarehouse::Open(path));
  return ingest::RecordInWarehouse(dir, UtcNowIso(), *w);
}

std::string WarehousePath(const GlobalOptions& g, const std::string& flag) {
  return flag.empty() ? (fs::path(g.home) / "warehouse.sqlite").string() : flag;
}

// Warns on stderr of each split the manifest's settings ask for (a fraction above zero) that got
// no sample: patients are assigned by a keyed hash of their pseudonym, so a small cohort can
// leave one empty.
void WarnOfEmptySplits(const fs::path& dir) {
  auto text = ReadFile(dir / "manifest.json");
  if (!text.ok()) return;
  const Json m = Json::parse(*text, nullptr, false);
  if (!m.is_object() || !m.contains("splits") || !m["splits"].is_object()) return;
  Json asked;
  try {
    asked = m.at("/settings/options/split"_json_pointer);
  } catch (const Json::exception&) {
    return;
  }
  if (!asked.is_object()) return;
  const uint64_t patients = m.contains("counts") && m["counts"].is_object()
                                ? m["counts"].value("patients", uint64_t{0})
                                : 0;
  for (const char* name : {"train", "val", "test"}) {
    const Json v = asked.value(name, Json());
    const double fraction = v.is_number() ? v.get<double>() : 0.0;
    if (fraction <= 0) continue;
    const Json s = m["splits"].value(name, Json::object());
    if (!s.is_object() || s.value("samples", uint64_t{0}) > 0) continue;
    std::fprintf(stderr,
                 "warning: the %s split is empty: %llu patients are too few for a %s share of "
                 "%.2f (each patient goes to one split by a keyed hash); ingest more encounters "
                 "or raise --split's %s fraction\n",
                 name, static_cast<unsigned long long>(patients), name, fraction, name);
  }
}

int Finish(const GlobalOptions& g, const ingest::IngestResult& r, bool no_warehouse,
           const std::string& warehouse_flag) {
  if (r.dataset_id.empty()) {
    std::printf("part finished: %llu samples, %llu quarantined; the last worker merges\n",
                static_cast<unsigned long long>(r.samples),
                static_cast<unsigned long long>(r.quarantined));
    return r.quarantined ? kExitQuarantined : kExitOk;
  }
  if (!no_warehouse) {
    const std::string path = WarehousePath(g, warehouse_flag);
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (Status s = Record(r.dir, path); !s.ok()) return ReportError(s);
    LOG_INFO("recorded dataset {} in the warehouse {}", r.dataset_id, path);
  }
  PrintSummary(r);
  PrintQuarantine(r.dir);
  WarnOfEmptySplits(r.dir);
  return r.quarantined ? kExitQuarantined : kExitOk;
}

int RunIngestCommand(GlobalOptions& g, const IngestArgs& a) {
  ingest::IngestOptions o;
  o.dicom_root = a.dicom;
  o.fhir_paths = a.fhir;
  o.audio_root = a.audio;
  o.out = a.out;
  auto split = dataset::ParseSplitFractions(a.split);
  if (!split.ok()) return ReportError(split.status());
  o.split = *split;
  auto shard = ParseSize(a.shard_size);
  if (!shard.ok()) return ReportError(shard.status());
  if (*shard < (uint64_t{1} << 16)) {
    return ReportError(InvalidArgumentError("--shard-size must be at least 64KB"));
  }
  o.shard_bytes = *shard;
  o.seed = a.seed;
  o.jobs = a.jobs;
  o.image_size = a.image_size;
  o.mm_per_pixel = a.image_spacing;
  o.labs_window_hours = a.labs_window_hours;
  o.match_window_minutes = a.match_window_minutes;
  o.allow_burned_in = a.allow_burned_in;
  o.force = a.force;
  // The worker contract of training (RANK, WORLD_SIZE; OpenMPI's variables too).
  auto worker = train::WorldFromEnv();
  if (!worker.ok()) return ReportError(worker.status());
  o.rank = worker->rank;
  o.world_size = worker->world_size;
  const std::string key_path =
      a.deid_key.empty() ? (fs::path(g.home) / "keys" / "deid.key").string() : a.deid_key;
  {
    std::error_code ec;
    fs::create_directories(fs::path(key_path).parent_path(), ec);
  }
  auto key = crypto::LoadOrCreateKeyFile(key_path);
  if (!key.ok()) return ReportError(key.status());
  o.key = *key;
  if (!a.audio.empty()) {
    speech::PocketSphinxOptions ps;
    if (!a.lm.empty()) ps.language_model = a.lm;
    if (!a.acoustic_model.empty()) ps.acoustic_model = a.acoustic_model;
    if (!a.dict.empty()) {
      ps.dictionary = a.dict;
    } else if (!a.lm.empty() && fs::exists(a.lm + ".dict")) {
      ps.dictionary = a.lm + ".dict";
    }
    // Fail early on a missing model rather than per file.
    auto probe = speech::PocketSphinxRecognizer::Create(ps);
    if (!probe.ok()) return ReportError(probe.status());
    o.recognizer = [ps]() -> StatusOr<std::unique_ptr<speech::Recognizer>> {
      ASSIGN_OR_RETURN(auto r, speech::PocketSphinxRecognizer::Create(ps));
      return std::unique_ptr<speech::Recognizer>(std::move(r));
    };
    o.asr_description = "pocketsphinx; language model sha256 " + FileDigest(ps.language_model) +
                        "; dictionary sha256 " + FileDigest(ps.dictionary);
  }
  auto result = ingest::RunIngest(o);
  if (!result.ok()) return ReportError(result.status());
  return Finish(g, *result, a.no_warehouse, a.warehouse);
}

int RunShowUnchecked(const std::string& dir, bool keys) {
  auto id = ingest::DatasetId(dir);
  if (!id.ok()) return ReportError(id.status());
  if (keys) {
    auto index = ReadFile(fs::path(dir) / "index.jsonl");
    if (!index.ok()) return ReportError(index.status());
    size_t pos = 0;
    while (pos < index->size()) {
      const size_t end = std::min(index->find('\n', pos), index->size());
      const Json j = Json::parse(index->substr(pos, end - pos), nullptr, false);
      pos = end + 1;
      if (!j.is_object()) continue;
      std::printf("%s\t%s\t%s\n", j.value("key", "").c_str(), j.value("split", "").c_str(),
                  j.value("shard", "").c_str());
    }
    return kExitOk;
  }
  auto text = ReadFile(fs::path(dir) / "manifest.json");
  if (!text.ok()) return ReportError(text.status());
  Json m = Json::parse(*text, nullptr, false);
  if (!m.is_object()) return ReportError(DataLossError("manifest.json is not JSON"));
  try {
    std::printf("dataset %s\n", id->c_str());
    std::printf("  tool: %s   task: %s   schema: %s\n", m["settings"].value("tool", "?").c_str(),
                m["settings"].value("task", "?").c_str(), m["schema_version"].dump().c_str());
    std::printf("  samples: %s   patients: %s   shards: %s\n",
                m["counts"]["samples"].dump().c_str(), m["counts"]["patients"].dump().c_str(),
                m["counts"]["shards"].dump().c_str());
    for (const auto& [split, s] : m["splits"].items()) {
      std::printf("  %-5s %6s samples %6s patients %4s shards\n", split.c_str(),
                  s["samples"].dump().c_str(), s["patients"].dump().c_str(),
                  s["shards"].dump().c_str());
      for (const auto& [stratum, counts] : s["strata"].items()) {
        std::string line;
        for (const auto& [value, n] : counts.items()) line += " " + value + "=" + n.dump();
        std::printf("        %s:%s\n", stratum.c_str(), line.c_str());
      }
    }
    for (const auto& [kind, t] : m["counts"]["inputs"].items()) {
      std::printf("  %-11s %s inputs = %s ingested + %s quarantined\n", (kind + ":").c_str(),
                  t["inputs"].dump().c_str(), t["ingested"].dump().c_str(),
                  t["quarantined"].dump().c_str());
    }
    PrintQuarantine(dir);
    std::printf("  de-identification: %s; key fingerprint %s\n",
                m["settings"]["deid"].value("dicom", "?").c_str(),
                m["settings"]["deid"].value("key_fingerprint", "?").c_str());
  } catch (const Json::exception& e) {
    return ReportError(DataLossError(std::string("manifest.json is malformed: ") + e.what()));
  }
  return kExitOk;
}

// The dataset's files are read as untrusted: nlohmann::json throws on a member of the wrong type.
int RunShow(const std::string& dir, bool keys) {
  try {
    return RunShowUnchecked(dir, keys);
  } catch (const Json::exception& e) {
    return ReportError(DataLossError("'" + dir + "' holds a malformed dataset file: " + e.what()));
  }
}

int RunVerify(const std::string& dir) {
  auto report = ingest::VerifyDataset(dir);
  if (!report.ok()) return ReportError(report.status());
  auto id = ingest::DatasetId(dir);
  for (const std::string& p : report->problems) std::printf("FAIL %s\n", p.c_str());
  if (!report->problems.empty()) {
    std::fprintf(stderr,
                 "error: dataset %s is damaged: %zu problem(s); restore it from a copy "
                 "or re-run the ingest\n",
                 dir.c_str(), report->problems.size());
    return kExitFailed;
  }
  std::printf("ok: dataset %s: %llu files re-hashed, %llu samples read\n",
              id.ok() ? id->c_str() : "?", static_cast<unsigned long long>(report->files_checked),
              static_cast<unsigned long long>(report->samples));
  return kExitOk;
}

}  // namespace

Runner RegisterIngest(CLI::App& app) {
  auto a = std::make_shared<IngestArgs>();
  app.add_option("--dicom", a->dicom,
                 "Directory of DICOM files (searched recursively); leave out for a record of "
                 "inpatient stays alone (discharge samples need no image)")
      ->type_name("DIR");
  app.add_option("--fhir", a->fhir,
                 "FHIR R4 NDJSON (.ndjson) or Bundle (.json) files, or directories of them")
      ->required()
      ->type_name("DIR|FILE");
  app.add_option("--audio", a->audio,
                 "Directory of dictation WAV files named <encounter id>.wav or "
                 "<accession number>.wav (transcribed with PocketSphinx)")
      ->type_name("DIR");
  app.add_option("--out", a->out, "Dataset directory to create")->required()->type_name("DIR");
  app.add_option("--split", a->split, "train,val,test fractions, grouped by patient")
      ->capture_default_str();
  app.add_option("--seed", a->seed, "Seed of the patient-to-split assignment")
      ->capture_default_str();
  app.add_option("--deid-key", a->deid_key,
                 "De-identification key file (created with mode 0600 if absent; never written "
                 "to outputs); default HOME/keys/deid.key")
      ->type_name("KEYFILE");
  app.add_option("--jobs", a->jobs, "Worker threads (0: all cores)")->capture_default_str();
  app.add_option("--shard-size", a->shard_size, "Target shard size (KB, MB, GB)")
      ->capture_default_str();
  app.add_option("--image-size", a->image_size, "Model image size (square, aspect kept, padded)")
      ->capture_default_str();
  app.add_option("--image-spacing", a->image_spacing,
                 "Resample each image that states its pixel spacing to this many mm per pixel "
                 "(centered, cropped or padded), so that a finding's size in pixels means the "
                 "same on every detector; 0 fits each image to the square")
      ->type_name("MM")
      ->capture_default_str();
  app.add_option("--labs-window-hours", a->labs_window_hours,
                 "Labs taken up to this long before the study are included")
      ->capture_default_str();
  app.add_option("--match-window-minutes", a->match_window_minutes,
                 "Images without accession number match a study this close in time")
      ->capture_default_str();
  app.add_flag("--allow-burned-in", a->allow_burned_in,
               "Keep images with BurnedInAnnotation = YES (text in the pixels is not removed)");
  app.add_option("--lm", a->lm, "ASR language model (default PocketSphinx's generic en-us)")
      ->type_name("LM");
  app.add_option("--dict", a->dict, "ASR dictionary (default LM.dict when present, else CMUdict)")
      ->type_name("DICT");
  app.add_option("--acoustic-model", a->acoustic_model,
                 "ASR acoustic model directory (medscribe asr adapt; default PocketSphinx's en-us)")
      ->type_name("DIR");
  app.add_option("--warehouse", a->warehouse, "SQLite warehouse; default HOME/warehouse.sqlite")
      ->type_name("FILE");
  app.add_flag("--no-warehouse", a->no_warehouse, "Do not record the dataset in the warehouse");
  app.add_flag("--force", a->force, "Replace an existing dataset at --out");
  app.footer(
      "Exit status: 0 every input was ingested; 3 the dataset was written and some inputs were "
      "quarantined (see quarantine.jsonl); 2 invalid options; 1 the run failed (nothing "
      "written).\nDistributed: with RANK and WORLD_SIZE set, each worker ingests its share into "
      "DIR/parts/ and the last one to finish merges (else run `medscribe dataset merge DIR`).");
  return [a](GlobalOptions& g) { return RunIngestCommand(g, *a); };
}

Runner RegisterDataset(CLI::App& app) {
  app.require_subcommand(1);
  auto dir = std::make_shared<std::string>();
  auto keys = std::make_shared<bool>(false);
  auto warehouse_flag = std::make_shared<std::string>();
  auto no_warehouse = std::make_shared<bool>(false);
  CLI::App* show = app.add_subcommand("show", "Summary of a dataset version");
  show->add_option("DIR", *dir, "Dataset directory")->required();
  show->add_flag("--keys", *keys, "List the sample keys (key, split, shard), one per line");
  CLI::App* verify =
      app.add_subcommand("verify", "Re-hash every file and read every shard of a dataset");
  verify->add_option("DIR", *dir, "Dataset directory")->required();
  CLI::App* merge = app.add_subcommand(
      "merge", "Merge the parts of a distributed ingest (when the last worker could not)");
  merge->add_option("DIR", *dir, "Dataset directory holding parts/")->required();
  merge->add_option("--warehouse", *warehouse_flag, "SQLite warehouse")->type_name("FILE");
  merge->add_flag("--no-warehouse", *no_warehouse, "Do not record the dataset");
  auto combine_added = std::make_shared<std::string>();
  auto combine_out = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  CLI::App* combine = app.add_subcommand(
      "combine",
      "A new dataset version from a base version and an addition (e.g. the signed reports of "
      "`medscribe feedback export`): the addition's samples replace the base's of the same key, "
      "a patient keeps the base's split, and the lineage names both versions");
  combine->add_option("BASE", *dir, "The base dataset directory")->required();
  combine->add_option("ADDED", *combine_added, "The dataset directory to add")->required();
  combine->add_option("--out", *combine_out, "Directory of the new version")
      ->required()
      ->type_name("DIR");
  combine->add_flag("--force", *force, "Replace --out when it holds a dataset");
  return [=, &app](GlobalOptions& g) {
    if (show->parsed()) return RunShow(*dir, *keys);
    if (combine->parsed()) {
      auto r = ingest::CombineDatasets(
          {.base = *dir, .added = *combine_added, .out = *combine_out, .force = *force});
      if (!r.ok()) return ReportError(r.status());
      std::printf(
          "combined %s and %s into %s: %llu samples (%llu of the base replaced by the addition, "
          "%llu moved to their patient's split in the base, %llu images averaged down to the "
          "base's size)\ndataset id %s\n",
          dir->c_str(), combine_added->c_str(), combine_out->c_str(),
          static_cast<unsigned long long>(r->samples), static_cast<unsigned long long>(r->replaced),
          static_cast<unsigned long long>(r->moved), static_cast<unsigned long long>(r->resampled),
          r->dataset_id.c_str());
      return 0;
    }
    if (verify->parsed()) return RunVerify(*dir);
    auto id = ingest::MergeParts(*dir);
    if (!id.ok()) return ReportError(id.status());
    auto r = ingest::ReadResult(*dir);
    if (!r.ok()) return ReportError(r.status());
    (void)app;
    return Finish(g, *r, *no_warehouse, *warehouse_flag);
  };
}

}  // namespace medscribe::cli
