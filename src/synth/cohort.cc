#include "synth/cohort.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "common/files.h"
#include "common/parallel.h"
#include "dicom/transfer_syntax.h"
#include "speech/audio.h"
#include "synth/fhir_export.h"
#include "synth/radiograph.h"
#include "synth/text.h"
#include "synth/voice.h"

namespace medscribe::synth {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxEncounters = 1000000;

Department PickDepartment(Rng& rng) {
  const double w[kNumDepartments] = {0.25, 0.15, 0.15, 0.12, 0.13, 0.20};
  return static_cast<Department>(rng.Weighted(w));
}

Encounter PlanEncounter(const CohortPlan& plan, const SynthOptions& o, int index, int patient,
                        int visit, const Date& date, const std::vector<std::string>& voices) {
  Rng rng = Rng::Stream(plan.seed, HashString("encounter"), index);
  Encounter e;
  e.index = index;
  e.id = fmt::format("enc-{:06d}", index + 1);
  e.patient = patient;
  e.visit = visit;
  e.department = PickDepartment(rng);
  const bool office =
      e.department == Department::kOutpatient || e.department == Department::kOncology;
  e.start =
      DateTime{date, static_cast<int>(office ? rng.UniformInt(8, 16) : rng.UniformInt(0, 23)),
               static_cast<int>(rng.UniformInt(0, 59)), static_cast<int>(rng.UniformInt(0, 59))};
  e.labs_time = AddMinutes(e.start, rng.UniformInt(10, 50));
  e.study_time = AddMinutes(e.start, rng.UniformInt(60, 240));
  e.report_time = AddMinutes(e.study_time, rng.UniformInt(15, 600));
  e.accession = fmt::format("ACC{:02d}{:06d}", date.year % 100, index + 1);
  e.accession_in_dicom = !rng.Bernoulli(0.04);
  const double dev_w[] = {0.3, 0.2, 0.3, 0.2};
  e.device = static_cast<int>(rng.Weighted(dev_w));
  const double ap_p = e.department == Department::kICU  ? 0.9
                      : e.department == Department::kED ? 0.5
                                                        : 0.1;
  e.anatomy.ap_view = rng.Bernoulli(ap_p);
  e.anatomy.habitus = rng.Uniform(0.9, 1.06);
  e.anatomy.diaphragm = e.anatomy.ap_view ? rng.Uniform(0.65, 0.70) : rng.Uniform(0.68, 0.73);
  e.anatomy.ctr = std::round(rng.Uniform(0.38, 0.48) * 100) / 100;
  e.anatomy.texture_seed = rng.Next();
  e.findings = SampleFindings(e.department, e.anatomy, rng);
  for (const Finding& f : e.findings)
    if (f.type == FindingType::kCardiomegaly) e.anatomy.ctr = f.ctr;
  e.labs = SampleLabs(e.department, e.findings, rng);
  e.coding_discrepancy = rng.Bernoulli(0.04);
  e.conditions = ConditionsFor(e.findings, e.coding_discrepancy, rng, &e.discrepancy);
  e.procedures = ProceduresFor(e.findings, rng);
  e.radiologist = static_cast<int>(rng.UniformInt(0, kNumRadiologists - 1));
  e.referring = static_cast<int>(rng.UniformInt(0, kNumReferring - 1));
  e.reason = ReasonForExam(e, rng);
  e.note_zh = plan.patients[static_cast<size_t>(patient)].chinese && rng.Bernoulli(0.7);
  if (visit > 0) {
    e.prior = index - 1;
    const double w[] = {0.25, 0.25, 0.25, 0.25};
    e.change = e.Primary() ? static_cast<Change>(1 + rng.Weighted(w)) : Change::kUnchanged;
  }
  e.urgent = e.Has(FindingType::kPneumothorax) ? rng.Bernoulli(0.8) : rng.Bernoulli(0.08);
  e.voice = voices[static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(voices.size()) - 1))];
  e.words_per_minute = static_cast<int>(rng.UniformInt(130, 190));
  e.noise_snr_db = rng.Bernoulli(0.25) ? std::round(rng.Uniform(10, 25)) : 0.0;
  e.burned_in = rng.Bernoulli(0.03);
  e.study_uid = MakeUid(plan.seed, "study", index);
  e.series_uid = MakeUid(plan.seed, "series", index);
  e.sop_uid = MakeUid(plan.seed, "sop", index);
  (void)o;
  return e;
}

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

std::vector<std::string> PatientPhi(const Patient& p) {
  std::vector<std::string> v = {p.FullName(),
                                p.DicomName().substr(0, p.DicomName().find('=')),
                                p.mrn,
                                p.birth_date.Iso(),
                                p.birth_date.Dicom(),
                                p.phone,
                                p.email,
                                p.address_line,
                                p.national_id,
                                p.ssn};
  if (p.chinese) v.push_back(p.ZhName());
  return v;
}

Json TruthFor(const Encounter& e, const CohortPlan& plan, const std::string& dictation,
              const Report& report, std::vector<std::string> phi) {
  const DeviceProfile& dev = DeviceProfiles()[static_cast<size_t>(e.device)];
  Json findings = Json::array();
  for (const Finding& f : e.findings) {
    Json j{{"type", FindingName(f.type)}};
    if (f.side != Side::kNone) j["side"] = SideName(f.side);
    if (f.zone != Zone::kNone) j["zone"] = ZoneName(f.zone);
    if (f.severity != Severity::kNone) j["severity"] = SeverityName(f.severity);
    if (f.size_mm > 0) j["size_mm"] = f.size_mm;
    if (f.ctr > 0) j["ctr"] = f.ctr;
    if (f.rib > 0) j["rib"] = f.rib;
    findings.push_back(j);
  }
  Json labs = Json::object();
  for (const LabResult& l : e.labs)
    labs[std::string(l.spec->key)] = Json{{"value", l.value}, {"flag", std::string(1, l.flag)}};
  std::sort(phi.begin(), phi.end());
  phi.erase(std::unique(phi.begin(), phi.end()), phi.end());
  const Finding* primary = e.Primary();
  return Json{
      {"encounter_id", e.id},
      {"patient_id", plan.patients[static_cast<size_t>(e.patient)].id},
      {"department", DepartmentName(e.department)},
      {"study_instance_uid", e.study_uid},
      {"sop_instance_uid", e.sop_uid},
      {"accession_number", e.accession},
      {"accession_in_dicom", e.accession_in_dicom},
      {"study_datetime", e.study_time.Iso()},
      {"device", Json{{"manufacturer", dev.manufacturer},
                      {"model", dev.model},
                      {"modality", dev.modality},
                      {"photometric", dev.monochrome1 ? "MONOCHROME1" : "MONOCHROME2"},
                      {"transfer_syntax", dicom::TransferSyntaxName(dev.transfer_syntax)}}},
      {"view", e.anatomy.ap_view ? "AP" : "PA"},
      {"burned_in_annotation", e.burned_in},
      {"annotator_id", e.AnnotatorId()},
      {"findings", findings},
      {"primary_finding", primary ? Json(FindingName(primary->type)) : Json("normal")},
      {"change", ChangeName(e.change)},
      {"prior_encounter_id",
       e.prior >= 0 ? Json(plan.encounters[static_cast<size_t>(e.prior)].id) : Json(nullptr)},
      {"urgent", e.urgent},
      {"labs", labs},
      {"coding_discrepancy", e.coding_discrepancy},
      {"coding_discrepancy_detail", e.discrepancy},
      {"note_language", e.note_zh ? "zh-TW" : "en"},
      {"dictation_text", dictation},
      {"voice", e.voice},
      {"words_per_minute", e.words_per_minute},
      {"noise_snr_db", e.noise_snr_db},
      {"report_text", report.Text()},
      {"planted_phi", phi},
  };
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
  if (o.speech) {
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
  out.truth_line = TruthFor(e, plan, dictation, report, std::move(phi)).dump();
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

}  // namespace

Status ValidateOptions(const SynthOptions& o) {
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
  return OkStatus();
}

CohortPlan PlanCohort(const SynthOptions& o) {
  CohortPlan plan;
  plan.seed = o.seed;
  const std::vector<std::string>& voices = o.voices.empty() ? DefaultVoices() : o.voices;
  for (int i = 0; i < kNumRadiologists; ++i) plan.radiologists.push_back(MakeClinician(o.seed, i));
  for (int i = 0; i < kNumReferring; ++i) plan.referring.push_back(MakeClinician(o.seed, 100 + i));
  for (int i = 0; i < 6; ++i) plan.operators.push_back(MakeClinician(o.seed, 200 + i));
  int patient = 0;
  while (static_cast<int>(plan.encounters.size()) < o.encounters) {
    plan.patients.push_back(MakePatient(o.seed, patient));
    Rng rng = Rng::Stream(o.seed, HashString("visits"), patient);
    const double w[] = {0.7, 0.2, 0.1};
    const int visits = std::min(static_cast<int>(rng.Weighted(w)) + 1,
                                o.encounters - static_cast<int>(plan.encounters.size()));
    Date date = AddDays(Date{2023, 1, 1}, rng.UniformInt(0, 900));
    for (int v = 0; v < visits; ++v) {
      const int index = static_cast<int>(plan.encounters.size());
      plan.encounters.push_back(PlanEncounter(plan, o, index, patient, v, date, voices));
      date = AddDays(date, rng.UniformInt(7, 180));
    }
    ++patient;
  }
  return plan;
}

StatusOr<SynthSummary> WriteCohort(const SynthOptions& o, ProgressBar* progress) {
  RETURN_IF_ERROR(ValidateOptions(o));
  const auto t0 = std::chrono::steady_clock::now();
  if (o.speech) {
    for (const std::string& v : o.voices.empty() ? DefaultVoices() : o.voices)
      RETURN_IF_ERROR(CheckVoice(v));
  }
  ASSIGN_OR_RETURN(auto staged, StagedDirectory::Create(o.out_dir, o.force));
  const fs::path root = staged->path();
  std::error_code ec;
  for (const char* sub : {"dicom", "fhir", "truth"}) fs::create_directories(root / sub, ec);
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
  s.audio_files = o.speech ? s.encounters : 0;
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

  Json voices = Json::array();
  for (const std::string& v : o.voices.empty() ? DefaultVoices() : o.voices) voices.push_back(v);
  Json cohort{
      {"generator", kGeneratorVersion},
      {"seed", o.seed},
      {"options", Json{{"encounters", o.encounters},
                       {"image_size", o.image_size},
                       {"speech", o.speech},
                       {"voices", voices}}},
      {"counts", Json{{"patients", s.patients},
                      {"encounters", s.encounters},
                      {"dicom_files", s.dicom_files},
                      {"audio_files", s.audio_files},
                      {"resources", s.resources},
                      {"accession_missing_in_dicom", s.accession_missing},
                      {"burned_in_annotation", s.burned_in},
                      {"notes_zh_tw", s.zh_notes},
                      {"coding_discrepancies", s.coding_discrepancies}}},
      {"observed",
       Json{{"departments", s.departments}, {"findings", s.findings}, {"devices", s.devices}}},
      {"prevalence", PrevalenceTable()},
  };
  RETURN_IF_ERROR(WriteFile(root / "cohort.json", cohort.dump(2) + "\n"));
  RETURN_IF_ERROR(staged->Commit());
  if (progress) progress->Finish();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

std::string FormatSummary(const SynthSummary& s, const std::string& out_dir) {
  std::string out = fmt::format("Synthetic cohort written to {}\n", out_dir);
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
