#include "ingest/stay_sample.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "dataset/align.h"
#include "deid/identifiers.h"
#include "deid/text_deid.h"
#include "ingest/sample.h"

namespace medscribe::ingest {
namespace {

using Json = nlohmann::ordered_json;

constexpr long kDay = 86400;

// The first coding as {system, code, display}, or nulls.
Json Code(const std::vector<fhir::Coding>& codes) {
  if (codes.empty()) return Json{{"system", nullptr}, {"code", nullptr}, {"display", nullptr}};
  return Json{{"system", codes[0].system}, {"code", codes[0].code}, {"display", codes[0].display}};
}

Json Number(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

// Assigns tags "<letter><n>" in order and remembers their resources.
class Tagger {
 public:
  explicit Tagger(std::vector<std::pair<std::string, std::string>>* sources) : sources_(sources) {}
  std::string Tag(char letter, const std::string& type, const std::string& id) {
    const std::string tag = letter + std::to_string(++count_[letter]);
    sources_->emplace_back(tag, type + "/" + id);
    return tag;
  }

 private:
  std::map<char, int> count_;
  std::vector<std::pair<std::string, std::string>>* sources_;
};

}  // namespace

StatusOr<StaySample> AssembleStaySample(const StayRecord& stay, const deid::Pseudonymizer& p,
                                        const std::vector<std::string>& transcripts) {
  if (!stay.patient) return InvalidArgumentError("stay " + stay.encounter.id + " has no patient");
  const long admitted = dataset::ParseFhirDateTime(stay.encounter.start);
  if (admitted < 0)
    return InvalidArgumentError("stay " + stay.encounter.id + " has no admission time");
  const long midnight = admitted - admitted % kDay;
  // Hospital day of a FHIR time (0: the day of admission), or null when undated.
  auto day_of = [&](const std::string& when) -> Json {
    const long t = dataset::ParseFhirDateTime(when);
    if (t < 0) return nullptr;
    return static_cast<int>(std::floor(static_cast<double>(t - midnight) / kDay));
  };
  const std::string patient_key = PatientKeyOf(*stay.patient);
  const deid::TextScrubber scrubber(deid::IdentifiersOf(*stay.patient),
                                    p.DateShiftDays(patient_key));
  StaySample s;
  s.key = p.Token("encounter", stay.encounter.id);
  s.patient_pseudonym = p.PatientId(patient_key);
  Tagger tags(&s.sources);

  // Problems: the stay's diagnoses and the problem list, with the tag the medications cite.
  std::map<std::string, std::string> condition_tag;
  Json problems = Json::array();
  for (const fhir::Condition& c : stay.conditions) {
    const std::string tag = tags.Tag('P', "Condition", c.id);
    condition_tag[c.id] = tag;
    Json j = Code(c.code);
    j["id"] = tag;
    j["category"] = c.category;
    j["day"] = c.recorded.empty() ? Json(nullptr) : day_of(c.recorded);
    problems.push_back(std::move(j));
  }
  Json allergies = Json::array();
  for (const fhir::AllergyIntolerance& a : stay.allergies) {
    Json j = Code(a.code);
    j["id"] = tags.Tag('A', "AllergyIntolerance", a.id);
    j["reactions"] = a.reactions;
    allergies.push_back(std::move(j));
  }
  // Medications with the days they were given (from their administrations).
  std::map<std::string, std::vector<int>> given;
  for (const fhir::MedicationAdministration& m : stay.administrations) {
    const Json d = day_of(m.start);
    if (!m.request.empty() && d.is_number()) given[m.request.id].push_back(d.get<int>());
  }
  Json medications = Json::array();
  for (const fhir::MedicationRequest& m : stay.medication_requests) {
    Json j = Code(m.medication);
    j["id"] = tags.Tag('M', "MedicationRequest", m.id);
    j["category"] = m.category;
    j["status"] = m.status;
    j["dosage"] = m.dosage;
    j["status_reason"] =
        m.status_reason.empty() ? Json(nullptr) : Json(scrubber.Scrub(m.status_reason));
    Json reasons = Json::array();
    for (const fhir::Reference& r : m.reasons)
      if (auto it = condition_tag.find(r.id); r.type == "Condition" && it != condition_tag.end())
        reasons.push_back(it->second);
    j["for"] = reasons;
    std::vector<int>& days = given[m.id];
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    j["start_day"] = m.category == "community" ? Json(nullptr) : day_of(m.authored_on);
    j["days_given"] = days;
    medications.push_back(std::move(j));
  }
  // Labs and vital signs as series by code, in time order; every value has its tag.
  auto series = [&](bool vital) {
    Json out = Json::array();
    std::map<std::string, size_t> at;
    for (const fhir::Observation& o : stay.observations) {
      if (o.status == "registered" || o.status == "preliminary") continue;  // pending, below
      // Vital signs by their LOINC codes (heart rate, temperature, SpO2, respiratory rate,
      // blood pressures).
      const bool vital_code = [&] {
        for (const char* c :
             {"8867-4", "8310-5", "59408-5", "2708-6", "9279-1", "8480-6", "8462-4"})
          if (!o.code.empty() && o.code[0].code == c) return true;
        return false;
      }();
      if (vital_code != vital) continue;
      const std::string code = o.code.empty() ? "" : o.code[0].code;
      auto it = at.find(code);
      if (it == at.end()) {
        Json j = Code(o.code);
        j["unit"] = o.unit;
        j["low"] = Number(o.low);
        j["high"] = Number(o.high);
        j["values"] = Json::array();
        it = at.emplace(code, out.size()).first;
        out.push_back(std::move(j));
      }
      out[it->second]["values"].push_back(
          Json{{"id", tags.Tag(vital ? 'V' : 'L', "Observation", o.id)},
               {"day", day_of(o.effective)},
               {"value", Number(o.value)},
               {"flag", o.interpretation}});
    }
    return out;
  };
  const Json labs = series(false);
  const Json vitals = series(true);
  // Results not final at discharge.
  Json pending = Json::array();
  for (const fhir::Observation& o : stay.observations) {
    if (o.status != "registered" && o.status != "preliminary") continue;
    Json j = Code(o.code);
    j["id"] = tags.Tag('L', "Observation", o.id);
    j["day"] = day_of(o.effective);
    j["status"] = o.status;
    j["result"] = o.value_string.empty() ? Json(nullptr) : Json(scrubber.Scrub(o.value_string));
    pending.push_back(std::move(j));
  }
  Json procedures = Json::array();
  for (const fhir::Procedure& pr : stay.procedures) {
    Json j = Code(pr.code);
    j["id"] = tags.Tag('R', "Procedure", pr.id);
    j["day"] = day_of(pr.performed);
    j["outcome"] = scrubber.Scrub(pr.outcome);
    procedures.push_back(std::move(j));
  }
  Json imaging = Json::array();
  for (const fhir::DiagnosticReport& r : stay.reports) {
    imaging.push_back(Json{{"id", tags.Tag('I', "DiagnosticReport", r.id)},
                           {"day", day_of(r.effective)},
                           {"conclusion", scrubber.Scrub(r.conclusion)},
                           {"text", scrubber.Scrub(r.text)}});
  }
  Json notes = Json::array();
  for (const fhir::DocumentReference& d : stay.notes) {
    if (d.text.empty()) continue;
    notes.push_back(Json{{"id", tags.Tag('N', "DocumentReference", d.id)},
                         {"type", d.type_code},
                         {"day", day_of(d.date)},
                         {"language", d.language},
                         {"text", scrubber.Scrub(d.text)}});
  }
  if (stay.discharge_summary) s.summary = scrubber.Scrub(stay.discharge_summary->text);
  const long discharged = dataset::ParseFhirDateTime(stay.encounter.end);
  const Json length =
      discharged < 0 ? Json(nullptr) : Json(static_cast<int>((discharged - midnight) / kDay));

  Json transcript = nullptr;
  if (!transcripts.empty()) {
    std::string t;
    for (const std::string& x : transcripts)
      t += (t.empty() ? "" : " ") + scrubber.ScrubTranscript(x);
    transcript = t;
  }
  const Json sample = {
      {"schema_version", kSampleSchemaVersion},
      {"key", s.key},
      {"task", kTaskDischargeSummary},
      {"patient_id", s.patient_pseudonym},
      {"encounter_id", s.key},
      {"modalities",
       {{"structured",
         {{"patient",
           {{"sex", stay.patient->gender},
            {"age", AgeAt(stay.patient->birth_date, stay.encounter.start)}}},
          {"encounter",
           {{"class", stay.encounter.class_code},
            {"service", stay.encounter.service_type},
            {"length_of_stay_days", length},
            {"disposition", stay.encounter.discharge_disposition}}},
          {"problems", problems},
          {"allergies", allergies},
          {"medications", medications},
          {"labs", labs},
          {"vitals", vitals},
          {"pending", pending},
          {"procedures", procedures},
          {"imaging", imaging},
          {"notes", notes}}},
        {"speech_transcript", transcript}}},
      {"target_report", s.summary},
  };
  s.json = sample.dump();
  return s;
}

}  // namespace medscribe::ingest
