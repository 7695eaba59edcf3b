#include "synth/cohort.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>

#include "common/files.h"
#include "common/parallel.h"
#include "dicom/transfer_syntax.h"
#include "speech/audio.h"
#include "synth/device.h"
#include "synth/encounter.h"
#include "synth/fhir_export.h"
#include "synth/note.h"
#include "synth/radiograph.h"
#include "synth/report.h"
#include "synth/stay_cohort.h"
#include "synth/truth.h"
#include "synth/voice.h"

namespace medscribe::synth {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxEncounters = 1000000;

// Everything one encounter contributes to the shared files.
struct EncounterOutput {
  Status status;
  std::map<std::string, std::vector<std::string>> fhir_lines;
  std::string truth_line;
};

void AddNoise(speech::Audio& audio, double snr_db, Rng& rng) {
  if (snr_db <= 0 || audio.samples.empty()) return;
  double power = 0;
  for (float s : audio.samples) power += static_cast<double>(s) * s;
  power /= static_cast<double>(audio.samples.size());
  const double sigma = std::sqrt(power / std::pow(10.0, snr_db / 10.0));
  for (float& s : audio.samples) s += static_cast<float>(rng.Normal(0, sigma));
}

EncounterOutput WriteEncounter(const Encounter& e, const CohortPlan& plan, const SynthOptions& o,
                               const fs::path& root) {
  EncounterOutput out;
  Rng text_rng = Rng::Stream(plan.seed, HashString("text"), e.index);
  const Note note = ComposeNote(e, plan, text_rng);
  const std::string dictation = ComposeDictation(e, text_rng);
  std::vector<std::string> phi = PatientPhi(plan.patients[static_cast<size_t>(e.patient)]);
  const Report report = ComposeReport(e, plan, text_rng, &phi);
  phi.insert(phi.end(), note.phi.begin(), note.phi.end());
  phi.push_back(e.accession);
  phi.push_back(plan.referring[static_cast<size_t>(e.referring)].DicomName());
  phi.push_back(plan.operators[static_cast<size_t>(e.index % plan.operators.size())].DicomName());
  phi.push_back(e.study_time.date.Iso());
  phi.push_back(e.study_time.date.Dicom());

  // Image.
  const Radiograph image = RenderRadiograph(e, o.image_size, plan.seed);
  const fs::path dir = root / "dicom" / e.study_uid / e.series_uid;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    out.status = IoError("cannot create '" + dir.string() + "': " + ec.message());
    return out;
  }
  out.status = WriteRadiographDicom(e, plan, image, (dir / (e.sop_uid + ".dcm")).string());
  if (!out.status.ok()) return out;

  // Dictation audio.
  if (o.speech && (o.speech_encounters < 0 || e.index < o.speech_encounters)) {
    auto spoken = Speak(dictation, e.voice, e.words_per_minute);
    if (!spoken.ok()) {
      out.status = spoken.status();
      return out;
    }
    auto audio = speech::Resample(*spoken, 16000);
    if (!audio.ok()) {
      out.status = audio.status();
      return out;
    }
    Rng noise = Rng::Stream(plan.seed, HashString("audio-noise"), e.index);
    AddNoise(*audio, e.noise_snr_db, noise);
    out.status = WriteFile(root / "audio" / (e.id + ".wav"), speech::EncodeWav16(*audio));
    if (!out.status.ok()) return out;
  }

  for (auto& [type, resources] : EncounterResources(e, plan, note, report)) {
    for (const Json& r : resources) out.fhir_lines[type].push_back(r.dump());
  }
  out.truth_line = TruthRecord(e, plan, dictation, report, std::move(phi)).dump();
  return out;
}

Json PrevalenceTable() {
  Json t = Json::object();
  for (int d = 0; d < kNumDepartments; ++d) {
    Json row = Json::object();
    for (int f = 0; f < kNumFindingTypes; ++f) {
      row[std::string(FindingName(static_cast<FindingType>(f)))] =
          BasePrevalence(static_cast<Department>(d), static_cast<FindingType>(f));
    }
    t[std::string(DepartmentName(static_cast<Department>(d)))] = row;
  }
  return t;
}

// Transcripts of dictations from the hospital's past: encounters planned from their own seed, so
// none of them is an encounter of the cohort. One per line. They are what a hospital has to
// adapt speech recognition to its radiologists; the cohort's own dictations exist only as audio.
StatusOr<int> WriteHistoricalTranscripts(const SynthOptions& o, const fs::path& path) {
  SynthOptions past = o;
  past.seed = Mix64(o.seed ^ HashString("historical-dictations"));
  past.encounters = std::clamp(o.encounters * 2, 200, 5000);
  const CohortPlan plan = PlanCohort(past);
  std::string text;
  for (const Encounter& e : plan.encounters) {
    Rng rng = Rng::Stream(past.seed, HashString("text"), e.index);
    (void)ComposeNote(e, plan, rng);  // keeps the stream in step with the cohort's own texts
    text += ComposeDictation(e, rng) + "\n";
  }
  RETURN_IF_ERROR(WriteFile(path, text));
  return static_cast<int>(plan.encounters.size());
}

}  // namespace

Status ValidateOptions(const SynthOptions& o) {
  if (o.kind != "radiology" && o.kind != "inpatient")
    return InvalidArgumentError(
        "--kind must be 'radiology' (chest-radiograph encounters) or "
        "'inpatient' (inpatient stays), not '" +
        o.kind + "'");
  if (o.kind == "inpatient" && (!o.departments.empty() || !o.device_mix.empty() ||
                                !o.lab_shift.empty() || o.speech_encounters >= 0))
    return InvalidArgumentError(
        "--departments, --device-mix, --lab-shift and --speech-encounters apply to radiology "
        "cohorts; leave them out with --kind inpatient");
  if (o.out_dir.empty())
    return InvalidArgumentError("--out is required: the directory to write the cohort to");
  if (o.encounters <= 0 || o.encounters > kMaxEncounters) {
    return InvalidArgumentError(
        fmt::format("--encounters must be between 1 and {}, got {}", kMaxEncounters, o.encounters));
  }
  if (o.image_size < 64 || o.image_size > 4096) {
    return InvalidArgumentError(
        fmt::format("--image-size must be between 64 and 4096 pixels, got {}", o.image_size));
  }
  if (o.jobs < 0) return InvalidArgumentError("--jobs must be 0 (all cores) or a positive number");
  if (!o.speech && o.speech_encounters >= 0)
    return InvalidArgumentError(
        "--speech-encounters asks for dictation audio that --no-speech turns off; give one of "
        "them");
  for (const std::string& name : o.departments) {
    bool known = false;
    std::string all;
    for (int d = 0; d < kNumDepartments; ++d) {
      known = known || name == DepartmentName(static_cast<Department>(d));
      all += (d ? ", " : "") + std::string(DepartmentName(static_cast<Department>(d)));
    }
    if (!known)
      return InvalidArgumentError("--departments: no department '" + name + "' (there are " + all +
                                  ")");
  }
  if (!o.device_mix.empty()) {
    const bool negative =
        std::any_of(o.device_mix.begin(), o.device_mix.end(), [](double w) { return !(w >= 0); });
    const double sum = std::accumulate(o.device_mix.begin(), o.device_mix.end(), 0.0);
    if (o.device_mix.size() != DeviceProfiles().size() || negative || !(sum > 0)) {
      std::string models;
      for (const DeviceProfile& d : DeviceProfiles())
        models += (models.empty() ? "" : ", ") + d.model;
      return InvalidArgumentError(
          fmt::format("--device-mix takes {} weights, none negative, not all zero (for {})",
                      DeviceProfiles().size(), models));
    }
  }
  for (const auto& [key, factor] : o.lab_shift) {
    bool known = false;
    std::string all;
    for (const LabSpec& s : LabSpecs()) {
      known = known || s.key == key;
      all += (all.empty() ? "" : ", ") + std::string(s.key);
    }
    if (!known)
      return InvalidArgumentError("--lab-shift: no lab '" + key + "' (there are " + all + ")");
    if (!(factor > 0) || factor > 100)
      return InvalidArgumentError("--lab-shift: the factor of " + key + " must be in (0, 100]");
  }
  return OkStatus();
}

StatusOr<SynthSummary> WriteCohort(const SynthOptions& o, ProgressBar* progress) {
  RETURN_IF_ERROR(ValidateOptions(o));
  if (o.kind == "inpatient") return WriteInpatientCohort(o, progress);
  const auto t0 = std::chrono::steady_clock::now();
  if (o.speech) {
    for (const std::string& v : o.voices.empty() ? DefaultVoices() : o.voices)
      RETURN_IF_ERROR(CheckVoice(v));
  }
  ASSIGN_OR_RETURN(auto staged, StagedDirectory::Create(o.out_dir, o.force));
  const fs::path root = staged->path();
  std::error_code ec;
  for (const char* sub : {"dicom", "fhir", "truth", "transcripts"})
    fs::create_directories(root / sub, ec);
  if (o.speech) fs::create_directories(root / "audio", ec);
  if (ec) return IoError("cannot create the cohort layout: " + ec.message());

  const CohortPlan plan = PlanCohort(o);
  std::vector<EncounterOutput> outputs(plan.encounters.size());
  ParallelFor(plan.encounters.size(), o.jobs, [&](size_t i) {
    outputs[i] = WriteEncounter(plan.encounters[i], plan, o, root);
    if (progress) progress->Advance();
  });
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].status.ok()) return outputs[i].status.WithContext(plan.encounters[i].id);
  }

  SynthSummary s;
  s.patients = static_cast<int>(plan.patients.size());
  s.encounters = static_cast<int>(plan.encounters.size());
  s.dicom_files = s.encounters;
  s.audio_files = !o.speech                 ? 0
                  : o.speech_encounters < 0 ? s.encounters
                                            : std::min(s.encounters, o.speech_encounters);
  std::map<std::string, std::string> ndjson;
  for (const Patient& p : plan.patients) ndjson["Patient"] += PatientResource(p).dump() + "\n";
  std::string truth;
  for (size_t i = 0; i < outputs.size(); ++i) {
    for (const auto& [type, lines] : outputs[i].fhir_lines) {
      for (const std::string& l : lines) ndjson[type] += l + "\n";
      s.resources[type] += static_cast<int>(lines.size());
    }
    truth += outputs[i].truth_line + "\n";
    const Encounter& e = plan.encounters[i];
    s.accession_missing += !e.accession_in_dicom;
    s.burned_in += e.burned_in;
    s.zh_notes += e.note_zh;
    s.coding_discrepancies += e.coding_discrepancy;
    s.departments[std::string(DepartmentName(e.department))]++;
    const DeviceProfile& dev = DeviceProfiles()[static_cast<size_t>(e.device)];
    s.devices[dev.manufacturer + " " + dev.model]++;
    if (!e.Primary()) s.findings["normal"]++;
    for (const Finding& f : e.findings) s.findings[std::string(FindingName(f.type))]++;
  }
  s.resources["Patient"] = s.patients;
  for (const std::string& type : FhirResourceTypes()) {
    RETURN_IF_ERROR(WriteFile(root / "fhir" / (type + ".ndjson"), ndjson[type]));
  }
  RETURN_IF_ERROR(WriteFile(root / "truth" / "labels.jsonl", truth));
  ASSIGN_OR_RETURN(s.historical_transcripts,
                   WriteHistoricalTranscripts(o, root / "transcripts" / "dictations.txt"));

  Json voices = Json::array();
  for (const std::string& v : o.voices.empty() ? DefaultVoices() : o.voices) voices.push_back(v);
  Json cohort{
      {"generator", kGeneratorVersion},
      {"seed", o.seed},
      {"options", Json{{"encounters", o.encounters},
                       {"image_size", o.image_size},
                       {"speech", o.speech},
                       {"speech_encounters", s.audio_files},
                       {"voices", voices}}},
      {"counts", Json{{"patients", s.patients},
                      {"encounters", s.encounters},
                      {"dicom_files", s.dicom_files},
                      {"audio_files", s.audio_files},
                      {"resources", s.resources},
                      {"accession_missing_in_dicom", s.accession_missing},
                      {"burned_in_annotation", s.burned_in},
                      {"notes_zh_tw", s.zh_notes},
                      {"historical_transcripts", s.historical_transcripts},
                      {"coding_discrepancies", s.coding_discrepancies}}},
      {"observed",
       Json{{"departments", s.departments}, {"findings", s.findings}, {"devices", s.devices}}},
      {"prevalence", PrevalenceTable()},
  };
  if (!o.departments.empty()) cohort["options"]["departments"] = o.departments;
  if (!o.device_mix.empty()) cohort["options"]["device_mix"] = o.device_mix;
  if (!o.lab_shift.empty()) cohort["options"]["lab_shift"] = o.lab_shift;
  RETURN_IF_ERROR(WriteFile(root / "cohort.json", cohort.dump(2) + "\n"));
  RETURN_IF_ERROR(staged->Commit());
  if (progress) progress->Finish();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

std::string FormatSummary(const SynthSummary& s, const std::string& out_dir) {
  std::string out = fmt::format("Synthetic cohort written to {}\n", out_dir);
  if (s.kind == "inpatient") {
    out += fmt::format(
        "  patients {}  inpatient stays {}  dictated discharge notes {} (WAV files {})  ({:.1f} "
        "s)\n",
        s.patients, s.encounters, s.dictated, s.audio_files, s.seconds);
    out += "  FHIR resources:";
    for (const auto& [k, v] : s.resources) out += fmt::format(" {} {}", k, v);
    out += "\n  principal problems:";
    for (const auto& [k, v] : s.problems) out += fmt::format(" {} {}", k, v);
    out += fmt::format("\n  progress notes in Traditional Chinese: {}\n", s.zh_notes);
    return out;
  }
  out += fmt::format(
      "  patients {}  encounters {}  DICOM files {}  WAV files {}  ({:.1f} s, {:.1f} "
      "encounters/s)\n",
      s.patients, s.encounters, s.dicom_files, s.audio_files, s.seconds,
      s.seconds > 0 ? s.encounters / s.seconds : 0.0);
  out += "  FHIR resources:";
  for (const auto& [k, v] : s.resources) out += fmt::format(" {} {}", k, v);
  out += "\n  departments:";
  for (const auto& [k, v] : s.departments) out += fmt::format(" {} {}", k, v);
  out += "\n  findings:";
  for (const auto& [k, v] : s.findings) out += fmt::format(" {} {}", k, v);
  out += "\n  devices:";
  for (const auto& [k, v] : s.devices) out += fmt::format(" [{}] {}", k, v);
  out += fmt::format(
      "\n  warts: {} without accession number in DICOM, {} with burned-in annotation, "
      "{} notes in Traditional Chinese, {} coding discrepancies\n",
      s.accession_missing, s.burned_in, s.zh_notes, s.coding_discrepancies);
  return out;
}

}  // namespace medscribe::synth
