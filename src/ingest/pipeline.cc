#include "ingest/pipeline.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <system_error>

#include "common/civil_time.h"
#include "common/files.h"
#include "common/logging.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "crypto/hmac.h"
#include "dataset/align.h"
#include "dataset/shard.h"
#include "deid/dicom_deid.h"
#include "deid/identifiers.h"
#include "deid/pseudonymizer.h"
#include "deid/text_deid.h"
#include "dicom/dataset.h"
#include "dicom/image.h"
#include "dicom/info.h"
#include "fhir/reader.h"
#include "ingest/sample.h"
#include "ingest/stay_record.h"
#include "ingest/stay_sample.h"
#include "monitor/features.h"
#include "speech/audio.h"

namespace medscribe::ingest {
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr const char* kToolVersion = "medscribe 0.1.0";
// Encounters assembled per batch: bounds memory while keeping every core busy.
constexpr size_t kBatch = 64;

std::string Sha256Hex(std::string_view data) { return crypto::Hex(crypto::Sha256(data)); }

// Regular files under `root`, recursively, as sorted relative paths. Symbolic links to
// directories are not followed (no cycles).
StatusOr<std::vector<std::string>> ListFiles(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return NotFoundError("input directory '" + root.string() + "' does not exist");
  }
  std::vector<std::string> files;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(fs::relative(it->path(), root).generic_string());
  }
  if (ec) return IoError("cannot list '" + root.string() + "': " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

// The rank that owns a patient's encounters.
int RankOfPatient(const std::string& pseudonym, int world) {
  const crypto::Digest d = crypto::Sha256(pseudonym);
  return static_cast<int>((d[0] * 256u + d[1]) % static_cast<unsigned>(world));
}

// What scanning found about one DICOM file.
struct DicomScan {
  std::string path, sha256;
  uint64_t bytes = 0;
  std::string encounter_id;  // when matched
  std::string study_datetime;
  std::optional<QuarantineRecord> quarantine;
};

// What one encounter's assembly produced.
struct Assembled {
  std::optional<Sample> sample;
  std::vector<QuarantineRecord> quarantine;  // files (and the encounter) that did not make it
  std::vector<std::string> used_dicom, used_audio;  // paths ingested through the sample
  std::vector<float> first_pixels;                  // the sample's first image, for drift
};

// A pool of speech recognizers, one per concurrent user, created on demand.
class RecognizerPool {
 public:
  explicit RecognizerPool(RecognizerFactory factory) : factory_(std::move(factory)) {}
  StatusOr<std::unique_ptr<speech::Recognizer>> Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        auto r = std::move(free_.back());
        free_.pop_back();
        return r;
      }
    }
    if (!factory_) return FailedPreconditionError("no speech recognizer configured");
    return factory_();
  }
  void Release(std::unique_ptr<speech::Recognizer> r) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(r));
  }

 private:
  RecognizerFactory factory_;
  std::mutex mu_;
  std::vector<std::unique_ptr<speech::Recognizer>> free_;
};

std::string SettingsJson(const IngestOptions& o) {
  Json s;
  s["tool"] = kToolVersion;
  s["task"] = kTaskRadiologyReport;
  s["sample_schema_version"] = kSampleSchemaVersion;
  s["options"] = {
      {"seed", o.seed},
      {"split", {{"train", o.split.train}, {"val", o.split.val}, {"test", o.split.test}}},
      {"image_size", o.image_size},
      {"mm_per_pixel", o.mm_per_pixel},
      {"labs_window_hours", o.labs_window_hours},
      {"match_window_minutes", o.match_window_minutes},
      {"shard_bytes", o.shard_bytes},
      {"allow_burned_in", o.allow_burned_in},
      {"audio", !o.audio_root.empty()},
      {"asr", o.audio_root.empty() ? "" : o.asr_description}};
  s["deid"] = {
      {"dicom", "PS3.15 Annex E Basic Application Level Confidentiality Profile"},
      {"dicom_options",
       {"Retain Longitudinal Temporal Information with Modified Dates",
        "Retain Patient Characteristics"}},
      {"dicom_method", std::string(deid::kDicomDeidMethod)},
      {"dicom_actions",
       "retain list; private attributes removed; UIDs remapped by keyed HMAC; PatientID and "
       "PatientName replaced by the patient pseudonym; dates shifted per patient by -1095..-30 "
       "days; ages over 89 as 090Y"},
      {"text",
       "HIPAA Safe Harbor: known identifiers of the patient and patterns (dates shifted, "
       "phone, e-mail, SSN, national ID, MRN, accession, address, physician names, ages "
       "over 89), English and Traditional Chinese"},
      {"burned_in_annotation", o.allow_burned_in ? "kept (--allow-burned-in)" : "quarantined"},
      {"key_fingerprint",
       crypto::Hex(crypto::HmacSha256(o.key, "medscribe key fingerprint")).substr(0, 16)},
  };
  return s.dump();
}

// The FHIR record after validation: resources by id and per encounter.
struct Record {
  std::map<std::string, const fhir::Patient*> patients;
  std::map<std::string, const fhir::Encounter*> encounters;
  std::map<std::string, std::vector<const fhir::Observation*>> observations_by_patient;
  std::map<std::string, std::vector<const fhir::Condition*>> conditions;  // by encounter
  std::map<std::string, std::vector<const fhir::Condition*>> problems;  // by patient, no encounter
  std::map<std::string, const fhir::ServiceRequest*> orders;            // by encounter
  std::map<std::string, std::vector<const fhir::Procedure*>> procedures;
  std::map<std::string, std::vector<const fhir::DocumentReference*>> notes;
  std::map<std::string, const fhir::DiagnosticReport*> final_reports;
  std::map<std::string, std::string> encounter_by_accession;
  std::vector<fhir::Resource> valid;  // for alignment
};

template <typename T>
const fhir::Reference* SubjectOf(const T& r) {
  if constexpr (requires { r.subject; }) return &r.subject;
  return nullptr;
}
template <typename T>
const fhir::Reference* EncounterOf(const T& r) {
  if constexpr (requires { r.encounter; }) return &r.encounter;
  return nullptr;
}

// Validates references and ids, quarantining what fails; returns the usable record.
// `sources[i]` is where resources[i] came from.
Record BuildRecord(const std::vector<fhir::Resource>& resources,
                   const std::vector<std::string>& sources, std::vector<QuarantineRecord>& q,
                   uint64_t& ingested) {
  Record rec;
  std::vector<bool> ok(resources.size(), false);
  std::set<std::pair<std::string, std::string>> ids;
  auto reject = [&](size_t i, const char* reason, std::string detail) {
    q.push_back({"fhir", sources[i], "", reason, std::move(detail)});
  };
  // Pass 1 patients, pass 2 encounters, pass 3 the rest: references point backwards.
  for (int pass = 1; pass <= 3; ++pass) {
    for (size_t i = 0; i < resources.size(); ++i) {
      const fhir::Resource& r = resources[i];
      const bool is_patient = std::holds_alternative<fhir::Patient>(r);
      const bool is_encounter = std::holds_alternative<fhir::Encounter>(r);
      if ((pass == 1) != is_patient || (pass == 2) != is_encounter) continue;
      const std::string type = fhir::ResourceTypeOf(r);
      if (!ids.insert({type, fhir::IdOf(r)}).second) {
        reject(i, "duplicate_id", type + " id occurs more than once; the first one is used");
        continue;
      }
      const std::string problem = std::visit(
          [&](const auto& x) -> std::string {
            if (const fhir::Reference* s = SubjectOf(x)) {
              if (s->empty()) return "has no subject reference to a Patient";
              if (s->type != "Patient" || !rec.patients.count(s->id))
                return "subject refers to a Patient that is not in the record";
            }
            if (const fhir::Reference* e = EncounterOf(x); e && !e->empty()) {
              if (e->type != "Encounter" || !rec.encounters.count(e->id))
                return "encounter refers to an Encounter that is not in the record";
            }
            return "";
          },
          r);
      if (!problem.empty()) {
        reject(i, "broken_reference", type + " " + problem);
        continue;
      }
      ok[i] = true;
      ++ingested;
      if (const auto* p = std::get_if<fhir::Patient>(&r)) rec.patients[p->id] = p;
      if (const auto* e = std::get_if<fhir::Encounter>(&r)) rec.encounters[e->id] = e;
    }
  }
  for (size_t i = 0; i < resources.size(); ++i) {
    if (!ok[i]) continue;
    const fhir::Resource& r = resources[i];
    rec.valid.push_back(r);
    if (const auto* o = std::get_if<fhir::Observation>(&r)) {
      rec.observations_by_patient[o->subject.id].push_back(o);
    } else if (const auto* c = std::get_if<fhir::Condition>(&r)) {
      if (!c->encounter.empty())
        rec.conditions[c->encounter.id].push_back(c);
      else
        rec.problems[c->subject.id].push_back(c);
    } else if (const auto* pr = std::get_if<fhir::Procedure>(&r)) {
      if (!pr->encounter.empty()) rec.procedures[pr->encounter.id].push_back(pr);
    } else if (const auto* d = std::get_if<fhir::DocumentReference>(&r)) {
      if (!d->encounter.empty()) rec.notes[d->encounter.id].push_back(d);
    } else if (const auto* dr = std::get_if<fhir::DiagnosticReport>(&r)) {
      if (dr->encounter.empty() || dr->status != "final") continue;
      const fhir::DiagnosticReport*& slot = rec.final_reports[dr->encounter.id];
      if (!slot || std::tie(dr->effective, dr->id) > std::tie(slot->effective, slot->id)) slot = dr;
    } else if (const auto* sr = std::get_if<fhir::ServiceRequest>(&r)) {
      if (!sr->accession.empty() && !sr->encounter.empty())
        rec.encounter_by_accession[sr->accession] = sr->encounter.id;
      if (!sr->encounter.empty()) rec.orders.emplace(sr->encounter.id, sr);
    } else if (const auto* is = std::get_if<fhir::ImagingStudy>(&r)) {
      if (!is->accession.empty() && !is->encounter.empty())
        rec.encounter_by_accession[is->accession] = is->encounter.id;
    }
  }
  return rec;
}

std::string FhirDateTimeOfDicom(const std::string& date, const std::string& time) {
  const long t = dataset::ParseDicomDateTime(date, time);
  return t < 0 ? "" : DateTime::FromSeconds(t).Iso();
}

StatusOr<std::string> GetOr(const dicom::DicomDataset& ds, std::string_view path) {
  auto v = ds.GetString(path);
  if (!v.ok() && v.status().code() == ErrorCode::kNotFound) return std::string();
  return v;
}

// Reads, parses and matches one DICOM file. Never fails: problems become a quarantine record.
DicomScan ScanDicom(const fs::path& root, const std::string& rel,
                    const dataset::EncounterIndex& index, const IngestOptions& o) {
  DicomScan s;
  s.path = rel;
  auto quarantine = [&](const char* reason, std::string detail) {
    s.quarantine = QuarantineRecord{"dicom", rel, s.sha256, reason, std::move(detail)};
    return s;
  };
  auto bytes = ReadFile(root / rel);
  if (!bytes.ok()) return quarantine("dicom_unreadable", "cannot read the file");
  s.sha256 = Sha256Hex(*bytes);
  s.bytes = bytes->size();
  auto ds = dicom::DicomDataset::FromBytes(*bytes);
  if (!ds.ok()) {
    // A Part 10 file announces itself with "DICM" after its 128-byte preamble; without it the
    // bytes were never a DICOM file (as far as anyone can tell).
    const bool part10 = bytes->size() >= 132 && bytes->compare(128, 4, "DICM") == 0;
    const char* reason = ds.status().code() == ErrorCode::kResourceExhausted ? "dicom_too_large"
                         : part10                                            ? "dicom_unreadable"
                                                                             : "not_dicom";
    return quarantine(reason, ds.status().message());
  }
  auto info = dicom::ReadInfo(*ds);
  if (!info.ok()) return quarantine("not_dicom", info.status().message());
  if (const std::string refusal = RefusalFromInfo(*info); !refusal.empty())
    return quarantine(refusal.c_str(), info->has_pixel_data
                                           ? info->why_not_decodable
                                           : std::string("the file has no pixel data"));
  if (info->burned_in_annotation && !o.allow_burned_in) {
    return quarantine("burned_in_annotation",
                      "BurnedInAnnotation is YES (text in the pixels may identify the patient); "
                      "pass --allow-burned-in to keep such images");
  }
  dataset::ImageKey key;
  for (auto [field, attr] : {std::pair{&key.accession, "AccessionNumber"},
                             {&key.patient_id, "PatientID"},
                             {&key.study_date, "StudyDate"},
                             {&key.study_time, "StudyTime"}}) {
    auto v = GetOr(*ds, attr);
    if (!v.ok()) return quarantine("dicom_unreadable", std::string(attr) + " is malformed");
    *field = *v;
  }
  s.study_datetime = FhirDateTimeOfDicom(key.study_date, key.study_time);
  auto m = index.Match(key);
  if (!m.ok()) {
    return quarantine(m.status().code() == ErrorCode::kFailedPrecondition ? "ambiguous_encounter"
                                                                          : "no_matching_encounter",
                      m.status().message());
  }
  s.encounter_id = m->encounter_id;
  return s;
}

// Decodes and de-identifies one matched image.
StatusOr<SampleImage> PrepareImage(const fs::path& path, const std::string& expected_sha,
                                   const std::string& study_datetime, const IngestOptions& o,
                                   const deid::TextScrubber& scrubber, const deid::Pseudonymizer& p,
                                   std::string& reason) {
  reason = "dicom_unreadable";
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (Sha256Hex(bytes) != expected_sha) {
    return DataLossError("the file changed while ingest was running");
  }
  return PrepareImageBytes(bytes, study_datetime,
                           {o.image_size, o.allow_burned_in, &scrubber, o.mm_per_pixel}, p,
                           &reason);
}

struct EncounterWork {
  std::string encounter_id, key;
  const StayRecord* stay = nullptr;  // an inpatient stay: a sample of the discharge task
  std::vector<const DicomScan*> images;
  std::vector<std::pair<std::string, std::string>> audio;  // relative path, sha256
};

// Transcribes the encounter's dictations; a file that cannot be read or transcribed goes to
// `a.quarantine`. `audio_paths` receives the paths transcribed, in order.
std::vector<std::string> TranscribeAudio(const EncounterWork& w, const IngestOptions& o,
                                         RecognizerPool& asr, Assembled& a,
                                         std::vector<std::string>& audio_paths) {
  std::vector<std::string> transcripts;
  for (const auto& [path, sha] : w.audio) {
    auto bytes = ReadFile(fs::path(o.audio_root) / path);
    StatusOr<speech::Audio> audio = bytes.ok() ? speech::DecodeWav(*bytes) : bytes.status();
    if (!audio.ok()) {
      a.quarantine.push_back({"audio", path, sha, "audio_unreadable", audio.status().message()});
      continue;
    }
    auto r = asr.Acquire();
    if (!r.ok()) {
      a.quarantine.push_back({"audio", path, sha, "asr_failed", r.status().message()});
      continue;
    }
    auto text = (*r)->Transcribe(*audio);
    asr.Release(std::move(r).value());
    if (!text.ok()) {
      a.quarantine.push_back({"audio", path, sha, "asr_failed", text.status().message()});
      continue;
    }
    transcripts.push_back(std::move(text).value());
    audio_paths.push_back(path);
  }
  return transcripts;
}

Assembled AssembleEncounter(const EncounterWork& w, const Record& rec, const IngestOptions& o,
                            const deid::Pseudonymizer& p, RecognizerPool& asr) {
  Assembled a;
  const fhir::Encounter* enc = rec.encounters.at(w.encounter_id);
  const fhir::Patient* patient = rec.patients.at(enc->subject.id);
  SampleInputs in;
  in.patient = patient;
  in.encounter = enc;
  in.image_size = o.image_size;
  in.labs_window_hours = o.labs_window_hours;
  std::vector<const DicomScan*> used_images;
  const std::string patient_key = PatientKeyOf(*patient);
  const deid::TextScrubber scrubber(deid::IdentifiersOf(*patient), p.DateShiftDays(patient_key));
  for (const DicomScan* s : w.images) {
    std::string reason;
    auto im = PrepareImage(fs::path(o.dicom_root) / s->path, s->sha256, s->study_datetime, o,
                           scrubber, p, reason);
    if (!im.ok()) {
      a.quarantine.push_back({"dicom", s->path, s->sha256, reason, im.status().message()});
      continue;
    }
    in.images.push_back(std::move(im).value());
    used_images.push_back(s);
  }
  std::vector<std::string> audio_paths;
  in.transcripts = TranscribeAudio(w, o, asr, a, audio_paths);
  auto fail_encounter = [&](const char* reason, const std::string& detail) {
    a.quarantine.push_back({"encounter", w.key, "", reason, detail});
    for (const DicomScan* s : used_images) {
      a.quarantine.push_back({"dicom", s->path, s->sha256, "encounter_quarantined", detail});
    }
    for (const auto& [path, sha] : w.audio) {
      if (std::find(audio_paths.begin(), audio_paths.end(), path) != audio_paths.end())
        a.quarantine.push_back({"audio", path, sha, "encounter_quarantined", detail});
    }
    return a;
  };
  auto report = rec.final_reports.find(w.encounter_id);
  if (report == rec.final_reports.end()) {
    return fail_encounter("encounter_without_final_report",
                          "the encounter has no DiagnosticReport with status final");
  }
  if (in.images.empty()) {
    return fail_encounter("encounter_without_image", "no usable image matched the encounter");
  }
  in.report = report->second;
  auto find = [&](const auto& map) {
    auto it = map.find(w.encounter_id);
    return it == map.end() ? std::remove_cvref_t<decltype(it->second)>{} : it->second;
  };
  in.conditions = find(rec.conditions);
  if (auto it = rec.problems.find(patient->id); it != rec.problems.end())
    in.conditions.insert(in.conditions.end(), it->second.begin(), it->second.end());
  if (auto it = rec.orders.find(w.encounter_id); it != rec.orders.end()) in.order = it->second;
  in.procedures = find(rec.procedures);
  in.notes = find(rec.notes);
  if (auto it = rec.observations_by_patient.find(patient->id);
      it != rec.observations_by_patient.end()) {
    in.observations = it->second;
  }
  a.first_pixels = in.images.front().pixels;
  auto sample = AssembleSample(in, p);
  if (!sample.ok()) return fail_encounter("deid_failed", sample.status().message());
  a.sample = std::move(sample).value();
  for (const DicomScan* s : used_images) a.used_dicom.push_back(s->path);
  a.used_audio = std::move(audio_paths);
  return a;
}

// A stay's sample: its record and transcribed dictations, when it has a signed discharge summary.
Assembled AssembleStay(const EncounterWork& w, const IngestOptions& o, const deid::Pseudonymizer& p,
                       RecognizerPool& asr) {
  Assembled a;
  std::vector<std::string> audio_paths;
  const std::vector<std::string> transcripts = TranscribeAudio(w, o, asr, a, audio_paths);
  auto fail = [&](const char* reason, const std::string& detail) {
    a.quarantine.push_back({"encounter", w.key, "", reason, detail});
    for (const auto& [path, sha] : w.audio)
      if (std::find(audio_paths.begin(), audio_paths.end(), path) != audio_paths.end())
        a.quarantine.push_back({"audio", path, sha, "encounter_quarantined", detail});
    return a;
  };
  if (!w.stay->discharge_summary)
    return fail("no_discharge_summary",
                "the inpatient stay has no signed discharge summary (DocumentReference of LOINC "
                "18842-5)");
  auto st = AssembleStaySample(*w.stay, p, transcripts);
  if (!st.ok()) return fail("stay_unusable", st.status().message());
  Sample s;
  s.key = st->key;
  s.patient_pseudonym = st->patient_pseudonym;
  s.department =
      w.stay->encounter.service_type.empty() ? "inpatient" : w.stay->encounter.service_type;
  s.device_model = "none";
  s.primary_finding = "none";
  for (const fhir::Condition& c : w.stay->conditions) {
    if (c.category != "encounter-diagnosis" || c.code.empty()) continue;
    s.primary_finding = c.code[0].code.substr(0, 3);
    break;
  }
  s.json = std::move(st->json);
  s.report = std::move(st->summary);
  a.sample = std::move(s);
  a.used_audio = std::move(audio_paths);
  return a;
}

// Writes samples to per-split shards, starting a new shard past the size limit.
class ShardSet {
 public:
  ShardSet(fs::path dir, uint64_t limit) : dir_(std::move(dir)), limit_(limit) {}

  Status Add(const std::string& split, const Sample& s, IndexEntry& entry) {
    Open& o = open_[split];
    if (!o.writer) {
      o.name = fmt::format("{}-{:06d}.tar", split, next_[split]++);
      ASSIGN_OR_RETURN(o.writer, dataset::ShardWriter::Create((dir_ / o.name).string()));
      o.bytes = o.samples = 0;
    }
    RETURN_IF_ERROR(o.writer->Add(s.key + ".json", s.json));
    RETURN_IF_ERROR(o.writer->Add(s.key + ".txt", s.report));
    if (!s.npy.empty()) RETURN_IF_ERROR(o.writer->Add(s.key + ".img.npy", s.npy));
    for (size_t i = 0; i < s.dicoms.size(); ++i) {
      RETURN_IF_ERROR(o.writer->Add(s.key + "." + std::to_string(i) + ".dcm", s.dicoms[i]));
    }
    entry.shard = o.name;
    o.bytes += s.bytes();
    ++o.samples;
    if (o.bytes >= limit_) return Close(split);
    return OkStatus();
  }

  Status CloseAll() {
    for (auto& [split, o] : open_) {
      if (o.writer) RETURN_IF_ERROR(Close(split));
    }
    return OkStatus();
  }

  const std::vector<ShardEntry>& shards() const { return shards_; }

 private:
  struct Open {
    std::unique_ptr<dataset::ShardWriter> writer;
    std::string name;
    uint64_t bytes = 0, samples = 0;
  };
  Status Close(const std::string& split) {
    Open& o = open_[split];
    ASSIGN_OR_RETURN(dataset::ShardSummary sum, o.writer->Finish());
    shards_.push_back({o.name, split, sum.sha256, sum.bytes, o.samples});
    o.writer.reset();
    return OkStatus();
  }
  fs::path dir_;
  uint64_t limit_;
  std::map<std::string, Open> open_;
  std::map<std::string, int> next_;
  std::vector<ShardEntry> shards_;
};

// Produces this worker's part in `part_dir`.
Status BuildPart(const IngestOptions& o, const fs::path& part_dir, IngestResult& result) {
  const deid::Pseudonymizer p(o.key);
  const int world = o.world_size, rank = o.rank;
  Part part;
  part.rank = rank;
  part.world_size = world;
  part.settings_json = SettingsJson(o);

  // 1. FHIR.
  fhir::FhirReader reader;
  Tally& fhir_tally = part.tallies["fhir"];
  std::vector<LineageEntry> fhir_lineage;
  for (const std::string& arg : o.fhir_paths) {
    const fs::path root(arg);
    ASSIGN_OR_RETURN(std::vector<fs::path> files, fhir::ListFhirFiles(arg));
    for (const fs::path& f : files) {
      ASSIGN_OR_RETURN(std::string text, ReadFile(f));
      fs::path base = root.lexically_normal();
      if (base.filename().empty()) base = base.parent_path();
      const std::string name =
          (fs::is_directory(root) ? base.filename() / f.filename() : f.filename()).generic_string();
      fhir_lineage.push_back({"fhir", name, Sha256Hex(text), text.size()});
      if (f.extension() == ".ndjson") {
        reader.AddNdjson(text, name);
      } else {
        reader.AddJson(text, name);
      }
    }
  }
  const std::vector<std::string>& sources = reader.sources();
  std::vector<QuarantineRecord> fhir_quarantine;
  for (const fhir::Rejected& r : reader.rejected()) {
    fhir_quarantine.push_back({"fhir", r.source, "", r.code, r.reason});
  }
  uint64_t fhir_ingested = 0;
  Record rec = BuildRecord(reader.resources(), sources, fhir_quarantine, fhir_ingested);
  fhir_tally.inputs = reader.resources().size() + reader.skipped() + reader.rejected().size();
  if (rank == 0) {
    fhir_tally.ingested = fhir_ingested + reader.skipped();
    fhir_tally.quarantined = fhir_quarantine.size();
    part.quarantine = fhir_quarantine;
    part.lineage = fhir_lineage;
    part.fhir_other_types = reader.skipped();
  }
  LOG_INFO("fhir: {} entries, {} resources usable, {} of other types, {} quarantined",
           fhir_tally.inputs, fhir_ingested, reader.skipped(), fhir_quarantine.size());

  // 2. DICOM.
  const dataset::EncounterIndex index(rec.valid, o.match_window_minutes);
  std::vector<std::string> dicom_files;
  if (!o.dicom_root.empty()) {
    ASSIGN_OR_RETURN(dicom_files, ListFiles(o.dicom_root));
  }
  std::vector<DicomScan> scans(dicom_files.size());
  {
    ProgressBar bar("scan DICOM", dicom_files.size(), o.progress && isatty(2));
    ParallelFor(dicom_files.size(), o.jobs, [&](size_t i) {
      scans[i] = ScanDicom(o.dicom_root, dicom_files[i], index, o);
      bar.Advance();
    });
    bar.Finish();
  }
  // 3. Audio.
  std::vector<std::string> audio_files;
  if (!o.audio_root.empty()) {
    ASSIGN_OR_RETURN(audio_files, ListFiles(o.audio_root));
  }

  // Encounter ownership and work lists.
  std::map<std::string, int> owner;  // encounter id -> rank
  std::map<std::string, EncounterWork> work;
  for (const auto& [id, enc] : rec.encounters) {
    const std::string pseudonym = p.PatientId(PatientKeyOf(*rec.patients.at(enc->subject.id)));
    owner[id] = RankOfPatient(pseudonym, world);
    work[id].encounter_id = id;
    work[id].key = p.Token("encounter", id);
  }
  Tally& dicom_tally = part.tallies["dicom"];
  Tally& audio_tally = part.tallies["audio"];
  Tally& enc_tally = part.tallies["encounters"];
  dicom_tally.inputs = dicom_files.size();
  audio_tally.inputs = audio_files.size();
  enc_tally.inputs = rec.encounters.size();
  for (size_t i = 0; i < scans.size(); ++i) {
    const DicomScan& s = scans[i];
    const int own = s.quarantine ? static_cast<int>(i % world) : owner.at(s.encounter_id);
    if (own != rank) continue;
    part.lineage.push_back({"dicom", s.path, s.sha256, s.bytes});
    if (s.quarantine) {
      part.quarantine.push_back(*s.quarantine);
      ++dicom_tally.quarantined;
    } else {
      work[s.encounter_id].images.push_back(&s);
    }
  }
  for (size_t i = 0; i < audio_files.size(); ++i) {
    const std::string& rel = audio_files[i];
    const std::string stem = fs::path(rel).stem().string();
    std::string enc_id;
    if (rec.encounters.count(stem)) {
      enc_id = stem;
    } else if (auto it = rec.encounter_by_accession.find(stem);
               it != rec.encounter_by_accession.end() && rec.encounters.count(it->second)) {
      enc_id = it->second;
    }
    const int own = enc_id.empty() ? static_cast<int>(i % world) : owner.at(enc_id);
    if (own != rank) continue;
    auto bytes = ReadFile(fs::path(o.audio_root) / rel);
    const std::string sha = bytes.ok() ? Sha256Hex(*bytes) : "";
    part.lineage.push_back({"audio", rel, sha, bytes.ok() ? bytes->size() : 0});
    if (!bytes.ok()) {
      part.quarantine.push_back({"audio", rel, sha, "audio_unreadable", "cannot read the file"});
      ++audio_tally.quarantined;
    } else if (enc_id.empty()) {
      part.quarantine.push_back({"audio", rel, sha, "audio_unmatched",
                                 "the file name is neither an encounter id nor an accession "
                                 "number of the record"});
      ++audio_tally.quarantined;
    } else {
      work[enc_id].audio.emplace_back(rel, sha);
    }
  }
  // Inpatient stays (Encounters of class IMP with a discharge disposition) become samples of the
  // discharge task; the other encounters, radiology samples.
  const std::vector<StayRecord> stays = GroupStays(rec.valid);
  if (o.dicom_root.empty() && stays.empty())
    return InvalidArgumentError(
        "--dicom is required: the record has no inpatient stay, and its encounters need their "
        "images");
  for (const StayRecord& st : stays) work.at(st.encounter.id).stay = &st;
  std::vector<const EncounterWork*> mine;
  for (auto& [id, w] : work) {
    if (owner.at(id) != rank) continue;
    // Images in study time order, then path.
    std::sort(w.images.begin(), w.images.end(), [](const DicomScan* a, const DicomScan* b) {
      return std::tie(a->study_datetime, a->path) < std::tie(b->study_datetime, b->path);
    });
    mine.push_back(&w);
  }
  std::sort(mine.begin(), mine.end(),
            [](const EncounterWork* a, const EncounterWork* b) { return a->key < b->key; });

  // 4-5. Samples, in key order, assembled in parallel batches.
  RecognizerPool asr(o.recognizer);
  ShardSet shards(part_dir, o.shard_bytes);
  monitor::ProfileBuilder drift;  // the reference profile: the train split's features
  ProgressBar bar("samples", mine.size(), o.progress && isatty(2));
  for (size_t start = 0; start < mine.size(); start += kBatch) {
    const size_t n = std::min(kBatch, mine.size() - start);
    std::vector<Assembled> batch(n);
    ParallelFor(n, o.jobs, [&](size_t i) {
      batch[i] = mine[start + i]->stay ? AssembleStay(*mine[start + i], o, p, asr)
                                       : AssembleEncounter(*mine[start + i], rec, o, p, asr);
      bar.Advance();
    });
    for (Assembled& a : batch) {
      for (QuarantineRecord& q : a.quarantine) {
        ++part.tallies[q.kind == "encounter" ? "encounters" : q.kind].quarantined;
        part.quarantine.push_back(std::move(q));
      }
      if (!a.sample) continue;
      const Sample& s = *a.sample;
      const dataset::Split split = dataset::AssignSplit(o.seed, s.patient_pseudonym, o.split);
      IndexEntry entry{s.key,
                       std::string(dataset::SplitName(split)),
                       "",
                       s.patient_pseudonym,
                       s.department,
                       s.device_model,
                       s.primary_finding};
      RETURN_IF_ERROR(shards.Add(entry.split, s, entry));
      if (split == dataset::Split::kTrain && !a.first_pixels.empty()) {
        monitor::AddSampleFeatures(s.json, drift);
        monitor::AddImageFeatures(a.first_pixels.data(), a.first_pixels.size(), drift);
        monitor::AddReportFeatures(s.report, drift);
      }
      part.index.push_back(std::move(entry));
      dicom_tally.ingested += a.used_dicom.size();
      audio_tally.ingested += a.used_audio.size();
      ++enc_tally.ingested;
    }
  }
  bar.Finish();
  RETURN_IF_ERROR(shards.CloseAll());
  part.shards = shards.shards();
  if (!drift.empty()) part.drift_state = drift.StateJson();
  // Encounters of this rank are its own inputs; other ranks count theirs.
  uint64_t owned_encounters = 0;
  for (const auto& [id, r] : owner) owned_encounters += r == rank;
  if (owned_encounters != enc_tally.ingested + enc_tally.quarantined) {
    return InternalError(fmt::format("{} encounters but {} samples + {} quarantined",
                                     owned_encounters, enc_tally.ingested, enc_tally.quarantined));
  }
  std::sort(part.quarantine.begin(), part.quarantine.end());
  std::sort(part.lineage.begin(), part.lineage.end());
  result.tallies = part.tallies;
  result.samples = part.index.size();
  result.quarantined = part.quarantine.size();
  return WriteFile(part_dir / "part.json", PartToJson(part));
}

// True when every part of the run is finished.
bool AllPartsDone(const fs::path& out, int world) {
  for (int r = 0; r < world; ++r) {
    if (!fs::exists(PartDir(out, r, world) / "part.json")) return false;
  }
  return true;
}

}  // namespace

StatusOr<IngestResult> ReadResult(const fs::path& dir) {
  ASSIGN_OR_RETURN(std::string id, DatasetId(dir));
  ASSIGN_OR_RETURN(std::string text, ReadFile(dir / "manifest.json"));
  Json m = Json::parse(text, nullptr, false);
  IngestResult r;
  r.dir = dir;
  r.dataset_id = id;
  if (!m.is_object()) return DataLossError("manifest.json is not JSON");
  try {
    r.samples = m["counts"].value("samples", uint64_t{0});
    r.quarantined = m["quarantine"].value("total", uint64_t{0});
    if (m["counts"].contains("inputs")) {
      for (const auto& [kind, t] : m["counts"]["inputs"].items()) {
        r.tallies[kind] = {t.value("inputs", uint64_t{0}), t.value("ingested", uint64_t{0}),
                           t.value("quarantined", uint64_t{0})};
      }
    }
  } catch (const Json::exception& e) {
    return DataLossError("manifest.json is malformed: " + std::string(e.what()));
  }
  return r;
}

StatusOr<IngestResult> RunIngest(const IngestOptions& o) {
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size) {
    return InvalidArgumentError(
        fmt::format("RANK={} WORLD_SIZE={} is not a valid worker (need 0 <= RANK < WORLD_SIZE)",
                    o.rank, o.world_size));
  }
  if (o.key.size() < 16) return InvalidArgumentError("the de-identification key is too short");
  if (o.fhir_paths.empty()) return InvalidArgumentError("give at least one --fhir input");
  if (o.image_size < 16 || o.image_size > 4096) {
    return InvalidArgumentError("--image-size must be in [16, 4096]");
  }
  if (!(o.mm_per_pixel >= 0 && o.mm_per_pixel <= 100)) {
    return InvalidArgumentError("--image-spacing must be in [0, 100] mm (0: fit each image)");
  }
  if (!o.audio_root.empty() && !o.recognizer) {
    return InvalidArgumentError("audio given but no speech recognizer configured");
  }
  std::error_code ec;
  if (!o.dicom_root.empty() && !fs::is_directory(o.dicom_root, ec)) {
    return NotFoundError("DICOM input '" + o.dicom_root + "' is not a directory");
  }
  if (!o.audio_root.empty() && !fs::is_directory(o.audio_root, ec)) {
    return NotFoundError("audio input '" + o.audio_root + "' is not a directory");
  }
  IngestResult result;
  result.dir = o.out;
  if (o.world_size == 1) {
    ASSIGN_OR_RETURN(auto staged, StagedDirectory::Create(o.out, o.force));
    const fs::path part_dir = PartDir(staged->path(), 0, 1);
    fs::create_directories(part_dir, ec);
    if (ec) return IoError("cannot create '" + part_dir.string() + "': " + ec.message());
    RETURN_IF_ERROR(BuildPart(o, part_dir, result));
    ASSIGN_OR_RETURN(result.dataset_id, MergeParts(staged->path()));
    RETURN_IF_ERROR(staged->Commit());
    return ReadResult(o.out);
  }

  // Distributed: parts in place under out/parts/, the last worker merges.
  if (fs::exists(o.out / "manifest.json") && !o.force) {
    return AlreadyExistsError("'" + o.out.string() +
                              "' already holds a dataset; choose another --out or pass --force");
  }
  const fs::path part_dir = PartDir(o.out, o.rank, o.world_size);
  const fs::path staging = part_dir.string() + ".tmp";
  fs::remove_all(staging, ec);
  fs::remove_all(part_dir, ec);
  fs::create_directories(staging, ec);
  if (ec) return IoError("cannot create '" + staging.string() + "': " + ec.message());
  if (Status s = BuildPart(o, staging, result); !s.ok()) {
    fs::remove_all(staging, ec);
    return s;
  }
  fs::rename(staging, part_dir, ec);
  if (ec) return IoError("cannot finish part '" + part_dir.string() + "': " + ec.message());
  if (!AllPartsDone(o.out, o.world_size)) {
    LOG_INFO("part {} of {} finished; the last worker to finish merges", o.rank, o.world_size);
    return result;
  }
  const fs::path lock = o.out / ".merge.lock";
  const int fd = open(lock.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    LOG_INFO("another worker is merging the parts");
    return result;
  }
  close(fd);
  auto id = MergeParts(o.out);
  fs::remove(lock, ec);
  if (!id.ok()) return id.status();
  return ReadResult(o.out);
}

}  // namespace medscribe::ingest
