#include "synth/stay_cohort.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "common/files.h"
#include "common/parallel.h"
#include "speech/audio.h"
#include "synth/discharge_summary.h"
#include "synth/fhir_export.h"
#include "synth/stay_fhir.h"
#include "synth/stay_notes.h"
#include "synth/truth.h"
#include "synth/voice.h"

namespace medscribe::synth {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

struct StayOutput {
  Status status;
  std::map<std::string, std::vector<std::string>> fhir_lines;
  std::string truth_line;
  bool audio = false;
};

Json TruthOf(const Stay& s, const Patient& p, const std::string& dictation,
             std::vector<std::string> phi) {
  Json problems = Json::array();
  for (const StayProblem& pr : s.problems) {
    problems.push_back(Json{
        {"name", pr.acute ? std::string(AcuteName(pr.kind)) : std::string(ChronicCode(pr.chronic))},
        {"code", pr.code.code},
        {"display", pr.code.display},
        {"phrase", pr.phrase},
        {"acute", pr.acute},
        {"principal", pr.principal},
        {"course", pr.course},
        {"outcome", OutcomeName(pr.outcome)}});
  }
  Json meds = Json::array();
  for (const DischargeMed& m : s.discharge_meds) {
    Json j{{"drug", m.drug->key},
           {"name", m.drug->name},
           {"rxnorm", m.drug->rxnorm},
           {"dose", m.dose},
           {"route", m.route},
           {"frequency", m.frequency},
           {"change", MedChangeName(m.change)}};
    if (!m.previous.empty()) j["previous"] = m.previous;
    if (!m.reason.empty()) j["reason"] = m.reason;
    if (m.days_left > 0) j["days_left"] = m.days_left;
    meds.push_back(std::move(j));
  }
  Json inpatient_only = Json::array();
  for (const MedOrder& m : s.inpatient_meds) {
    const bool listed = std::any_of(s.discharge_meds.begin(), s.discharge_meds.end(),
                                    [&](const DischargeMed& d) { return d.drug == m.drug; });
    const Json j{{"drug", m.drug->key}, {"name", m.drug->name}};
    if (!listed &&
        std::find(inpatient_only.begin(), inpatient_only.end(), j) == inpatient_only.end())
      inpatient_only.push_back(j);
  }
  Json procedures = Json::array();
  for (const StayProcedure& pr : s.procedures)
    procedures.push_back(Json{
        {"code", pr.code.code}, {"phrase", pr.phrase}, {"day", pr.day}, {"result", pr.result}});
  for (const Imaging& im : s.imaging)
    procedures.push_back(Json{
        {"code", im.code.code}, {"phrase", im.title}, {"day", im.day}, {"result", im.impression}});
  Json consults = Json::array();
  for (const Consult& c : s.consults)
    consults.push_back(
        Json{{"specialty", c.specialty}, {"day", c.day}, {"recommendation", c.recommendation}});
  Json allergies = Json::array();
  for (const Allergy& a : s.allergies)
    allergies.push_back(
        Json{{"substance", a.substance}, {"rxnorm", a.code}, {"reaction", a.reaction}});
  Json follow = Json::array();
  for (const FollowUp& f : s.follow_up) {
    Json j{{"with", f.with}, {"within_days", f.within_days}};
    if (!f.purpose.empty()) j["purpose"] = f.purpose;
    follow.push_back(std::move(j));
  }
  Json pending = Json::array();
  for (const Pending& pe : s.pending)
    pending.push_back(Json{{"test", pe.test}, {"loinc", pe.code.code}, {"day", pe.day}});
  std::sort(phi.begin(), phi.end());
  phi.erase(std::unique(phi.begin(), phi.end()), phi.end());
  Json j{{"generator", kGeneratorVersion},
         {"kind", "inpatient"},
         {"encounter_id", s.id},
         {"patient_id", p.id},
         {"admitted", s.admitted.Iso()},
         {"discharged", s.discharged.Iso()},
         {"length_of_stay_days", s.days},
         {"chief_complaint", s.chief_complaint},
         {"problems", problems},
         {"procedures", procedures},
         {"consults", consults},
         {"discharge_medications", meds},
         {"inpatient_only_medications", inpatient_only},
         {"allergies", allergies},
         {"condition", s.condition},
         {"disposition", s.disposition},
         {"follow_up", follow},
         {"pending", pending},
         {"notes_zh", s.notes_zh},
         {"dictated", s.dictated},
         {"summary_document", "DocumentReference/doc-s" + s.id.substr(5) + "-ds"}};
  if (s.dictated) j["dictation"] = dictation;
  j["phi"] = phi;
  return j;
}

StayOutput WriteStay(const Stay& s, const InpatientPlan& plan, const SynthOptions& o,
                     const fs::path& root) {
  StayOutput out;
  const Patient& p = plan.patients[static_cast<size_t>(s.patient)];
  Rng rng = Rng::Stream(plan.seed, HashString("stay-text"), s.index);
  StayNotes notes;
  std::vector<std::string> phi = PatientPhi(p);
  auto collect = [&](const std::vector<std::string>& v) {
    phi.insert(phi.end(), v.begin(), v.end());
  };
  notes.admission = ComposeAdmissionNote(s, p, plan.clinicians, rng);
  collect(notes.admission.phi);
  for (int day = 1; day < s.days; ++day) {
    notes.progress.push_back(ComposeProgressNote(s, day, p, plan.clinicians, rng));
    collect(notes.progress.back().phi);
  }
  for (const Consult& c : s.consults) {
    notes.consults.push_back(ComposeConsultNote(s, c, p, plan.clinicians, rng));
    collect(notes.consults.back().phi);
  }
  notes.summary = ComposeDischargeSummary(s, p, plan.clinicians, rng);
  collect(notes.summary.phi);
  std::string dictation;
  if (s.dictated) {
    const Note d = ComposeDischargeDictation(s, p, plan.clinicians, rng);
    dictation = d.text;
    collect(d.phi);
    if (o.speech) {
      auto spoken = Speak(dictation, s.voice, s.words_per_minute);
      if (!spoken.ok()) {
        out.status = spoken.status();
        return out;
      }
      auto audio = speech::Resample(*spoken, 16000);
      if (!audio.ok()) {
        out.status = audio.status();
        return out;
      }
      out.status = WriteFile(root / "audio" / (s.id + ".wav"), speech::EncodeWav16(*audio));
      if (!out.status.ok()) return out;
      out.audio = true;
    }
  }
  for (auto& [type, resources] : StayResources(s, p, plan.clinicians, notes))
    for (const Json& r : resources) out.fhir_lines[type].push_back(r.dump());
  out.truth_line = TruthOf(s, p, dictation, std::move(phi)).dump();
  return out;
}

}  // namespace

InpatientPlan PlanInpatientCohort(const SynthOptions& o) {
  InpatientPlan plan;
  plan.seed = o.seed;
  const std::vector<std::string>& voices = o.voices.empty() ? DefaultVoices() : o.voices;
  for (int i = 0; i < kNumInpatientClinicians; ++i)
    plan.clinicians.push_back(MakeClinician(o.seed, 300 + i));
  int patient = 0;
  while (static_cast<int>(plan.stays.size()) < o.encounters) {
    plan.patients.push_back(MakePatient(o.seed, patient));
    const Patient& p = plan.patients.back();
    Rng rng = Rng::Stream(o.seed, HashString("admissions"), patient);
    const int stays =
        std::min(rng.Bernoulli(0.2) ? 2 : 1, o.encounters - static_cast<int>(plan.stays.size()));
    Date date = AddDays(Date{2023, 1, 1}, rng.UniformInt(0, 900));
    const std::vector<Problem> history =
        MakeHistory(o.seed, patient, AgeInYears(p.birth_date, date), p.sex, date);
    for (int k = 0; k < stays; ++k) {
      const int index = static_cast<int>(plan.stays.size());
      plan.stays.push_back(
          PlanStay(o.seed, index, patient, p, date, history, kNumInpatientClinicians, voices));
      date = AddDays(plan.stays.back().discharged.date, rng.UniformInt(14, 120));
    }
    ++patient;
  }
  return plan;
}

StatusOr<SynthSummary> WriteInpatientCohort(const SynthOptions& o, ProgressBar* progress) {
  RETURN_IF_ERROR(ValidateOptions(o));
  const auto t0 = std::chrono::steady_clock::now();
  if (o.speech) {
    for (const std::string& v : o.voices.empty() ? DefaultVoices() : o.voices)
      RETURN_IF_ERROR(CheckVoice(v));
  }
  ASSIGN_OR_RETURN(auto staged, StagedDirectory::Create(o.out_dir, o.force));
  const fs::path root = staged->path();
  std::error_code ec;
  for (const char* sub : {"fhir", "truth"}) fs::create_directories(root / sub, ec);
  if (o.speech) fs::create_directories(root / "audio", ec);
  if (ec) return IoError("cannot create the cohort layout: " + ec.message());

  const InpatientPlan plan = PlanInpatientCohort(o);
  std::vector<StayOutput> outputs(plan.stays.size());
  ParallelFor(plan.stays.size(), o.jobs, [&](size_t i) {
    outputs[i] = WriteStay(plan.stays[i], plan, o, root);
    if (progress) progress->Advance();
  });
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i].status.ok()) return outputs[i].status.WithContext(plan.stays[i].id);

  SynthSummary s;
  s.kind = "inpatient";
  s.patients = static_cast<int>(plan.patients.size());
  s.encounters = static_cast<int>(plan.stays.size());
  std::map<std::string, std::string> ndjson;
  for (const Patient& p : plan.patients) ndjson["Patient"] += PatientResource(p).dump() + "\n";
  std::string truth;
  for (size_t i = 0; i < outputs.size(); ++i) {
    for (const auto& [type, lines] : outputs[i].fhir_lines) {
      for (const std::string& l : lines) ndjson[type] += l + "\n";
      s.resources[type] += static_cast<int>(lines.size());
    }
    truth += outputs[i].truth_line + "\n";
    const Stay& st = plan.stays[i];
    s.audio_files += outputs[i].audio;
    s.dictated += st.dictated;
    s.zh_notes += st.notes_zh ? std::max(0, st.days - 1) : 0;
    s.problems[std::string(AcuteName(st.problems.front().kind))]++;
  }
  s.resources["Patient"] = s.patients;
  for (const std::string& type : StayResourceTypes())
    RETURN_IF_ERROR(WriteFile(root / "fhir" / (type + ".ndjson"), ndjson[type]));
  RETURN_IF_ERROR(WriteFile(root / "truth" / "stays.jsonl", truth));

  Json voices = Json::array();
  for (const std::string& v : o.voices.empty() ? DefaultVoices() : o.voices) voices.push_back(v);
  Json cohort{
      {"generator", kGeneratorVersion},
      {"kind", "inpatient"},
      {"seed", o.seed},
      {"options", Json{{"stays", o.encounters}, {"speech", o.speech}, {"voices", voices}}},
      {"counts", Json{{"patients", s.patients},
                      {"stays", s.encounters},
                      {"audio_files", s.audio_files},
                      {"dictated", s.dictated},
                      {"resources", s.resources},
                      {"progress_notes_zh_tw", s.zh_notes}}},
      {"observed", Json{{"principal_problems", s.problems}}},
  };
  RETURN_IF_ERROR(WriteFile(root / "cohort.json", cohort.dump(2) + "\n"));
  RETURN_IF_ERROR(staged->Commit());
  if (progress) progress->Finish();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace medscribe::synth
