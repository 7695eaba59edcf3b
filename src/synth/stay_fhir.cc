#include "synth/stay_fhir.h"

#include <stdexcept>

#include <fmt/format.h>

#include "common/base64.h"
#include "synth/fhir_json.h"
#include "synth/stay_notes.h"

namespace medscribe::synth {
namespace {

using fhir_json::Concept;
using fhir_json::Instant;
using fhir_json::Json;
using fhir_json::Ref;

constexpr const char* kConditionClinical =
    "http://terminology.hl7.org/CodeSystem/condition-clinical";
constexpr const char* kConditionCategory =
    "http://terminology.hl7.org/CodeSystem/condition-category";
constexpr const char* kUcum = "http://unitsofmeasure.org";

Json Document(const std::string& id, std::string_view loinc, std::string_view display,
              const Json& subject, const Json& encounter, const DateTime& date,
              const std::string& author, const std::string& text, const std::string& language,
              const std::string& description) {
  return Json{
      {"resourceType", "DocumentReference"},
      {"id", id},
      {"status", "current"},
      {"docStatus", "final"},
      {"type", Concept(kLoinc, loinc, display)},
      {"subject", subject},
      {"date", Instant(date)},
      {"author", Json::array({Json{{"display", author}}})},
      {"description", description},
      {"content",
       Json::array({Json{{"attachment", Json{{"contentType", "text/plain; charset=utf-8"},
                                             {"language", language},
                                             {"data", Base64Encode(text)}}}}})},
      {"context", Json{{"encounter", Json::array({encounter})}}},
  };
}

Json Dosage(const std::string& dose, const std::string& route, const std::string& frequency) {
  return Json::array(
      {Json{{"text", dose + " " + route + " " + frequency}, {"route", Json{{"text", route}}}}});
}

Json MedicationConcept(const Drug& d) { return Concept(kRxNorm, d.rxnorm, d.name); }

// The administration's dosage: the dose ("40 mg", "1 g", "20 units") or, for an infusion, the
// rate ("100 mL/h", "0.1 units/kg/h"), as UCUM quantities, with the order's text.
Json AdministrationDosage(const MedOrder& m) {
  Json d{{"text", m.dose + " " + m.route + " " + m.frequency}};
  double value = 0;
  size_t used = 0;
  try {
    value = std::stod(m.dose, &used);
  } catch (const std::exception&) {
    return d;  // no leading number: the text alone
  }
  std::string unit = m.dose.substr(used);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  unit = unit.substr(0, unit.find(' '));
  struct U {
    const char* written;
    const char* ucum;
    bool rate;
  };
  constexpr U kUnits[] = {{"mg", "mg", false},
                          {"g", "g", false},
                          {"mcg", "ug", false},
                          {"mEq", "meq", false},
                          {"units", "[U]", false},
                          {"mL/h", "mL/h", true},
                          {"units/kg/h", "[U]/kg/h", true}};
  for (const U& u : kUnits) {
    if (unit != u.written) continue;
    d[u.rate ? "rateQuantity" : "dose"] =
        Json{{"value", value}, {"unit", unit}, {"system", kUcum}, {"code", u.ucum}};
  }
  return d;
}

std::string DispositionCode(const std::string& d) {
  return d == "skilled nursing facility" ? "snf" : "home";
}

}  // namespace

const std::vector<std::string>& StayResourceTypes() {
  static const std::vector<std::string> kTypes = {"Patient",
                                                  "Encounter",
                                                  "Condition",
                                                  "AllergyIntolerance",
                                                  "Observation",
                                                  "MedicationRequest",
                                                  "MedicationAdministration",
                                                  "Procedure",
                                                  "DiagnosticReport",
                                                  "DocumentReference"};
  return kTypes;
}

std::map<std::string, std::vector<Json>> StayResources(const Stay& s, const Patient& p,
                                                       const std::vector<Clinician>& clinicians,
                                                       const StayNotes& notes) {
  std::map<std::string, std::vector<Json>> out;
  const std::string n = "s" + s.id.substr(5);  // "s000042"
  const Json subject = Ref("Patient", p.id);
  const Json encounter = Ref("Encounter", s.id);
  const Clinician& attending = clinicians[static_cast<size_t>(s.attending)];

  out["Encounter"].push_back(Json{
      {"resourceType", "Encounter"},
      {"id", s.id},
      {"status", "finished"},
      {"class", fhir_json::Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP",
                                  "inpatient encounter")},
      {"serviceType", Json{{"text", "Internal Medicine"}}},
      {"subject", subject},
      {"participant",
       Json::array({Json{{"type", Json::array({Concept(
                                      "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                      "ATND", "attender")})},
                         {"individual", Json{{"display", attending.Display()}}}}})},
      {"period", Json{{"start", Instant(s.admitted)}, {"end", Instant(s.discharged)}}},
      {"reasonCode", Json::array({Json{{"text", s.chief_complaint}}})},
      {"hospitalization",
       Json{{"admitSource", Concept("http://terminology.hl7.org/CodeSystem/admit-source", "emd",
                                    "From accident/emergency department")},
            {"dischargeDisposition",
             Concept("http://terminology.hl7.org/CodeSystem/discharge-disposition",
                     DispositionCode(s.disposition),
                     DispositionCode(s.disposition) == "snf" ? "Skilled nursing facility" : "Home",
                     s.disposition)}}},
      {"serviceProvider", Json{{"display", "Riverside General Hospital"}}},
  });

  // Problems: the chronic ones on the problem list, the acute ones as the stay's diagnoses
  // (entered on admission, or on the day the problem arose).
  for (size_t i = 0; i < s.problems.size(); ++i) {
    const StayProblem& pr = s.problems[i];
    Json c{
        {"resourceType", "Condition"},
        {"id", fmt::format("cond-{}-{}", n, i + 1)},
        {"clinicalStatus", Concept(kConditionClinical, "active", "Active")},
        {"verificationStatus", Concept("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                       "confirmed", "Confirmed")},
        {"category",
         Json::array(
             {pr.acute ? Concept(kConditionCategory, "encounter-diagnosis", "Encounter Diagnosis")
                       : Concept(kConditionCategory, "problem-list-item", "Problem List Item")})},
        {"code", Concept(pr.code.system, pr.code.code, pr.code.display, pr.phrase)},
        {"subject", subject},
        {"encounter", encounter}};
    if (pr.acute)
      c["recordedDate"] = Instant(i == 0 ? s.admitted : s.DayTime(std::min(1, s.days - 1), 9));
    out["Condition"].push_back(std::move(c));
  }

  if (s.allergies.empty()) {
    out["AllergyIntolerance"].push_back(Json{
        {"resourceType", "AllergyIntolerance"},
        {"id", fmt::format("allergy-{}-1", n)},
        {"clinicalStatus",
         Concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active",
                 "Active")},
        {"code", Concept(kSnomed, "716186003", "No known allergy")},
        {"patient", subject},
        {"encounter", encounter},
    });
  }
  for (size_t i = 0; i < s.allergies.size(); ++i) {
    const Allergy& a = s.allergies[i];
    out["AllergyIntolerance"].push_back(Json{
        {"resourceType", "AllergyIntolerance"},
        {"id", fmt::format("allergy-{}-{}", n, i + 1)},
        {"clinicalStatus",
         Concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active",
                 "Active")},
        {"category", Json::array({"medication"})},
        {"code", Concept(kRxNorm, a.code, a.substance)},
        {"patient", subject},
        {"encounter", encounter},
        {"reaction",
         Json::array({Json{{"manifestation", Json::array({Json{{"text", a.reaction}}})}}})},
    });
  }

  auto observations = [&](const std::vector<LabSeries>& all, bool vitals) {
    for (const LabSeries& ls : all) {
      const LabSpec& sp = *ls.spec;
      for (const LabPoint& pt : ls.points) {
        const DateTime when = pt.day == 0 ? AddMinutes(s.admitted, vitals ? 5 : 40)
                                          : s.DayTime(pt.day, vitals ? 8 : 5, vitals ? 0 : 30);
        const char* interp = pt.flag == 'H' ? "H" : pt.flag == 'L' ? "L" : "N";
        const char* shown = pt.flag == 'H' ? "High" : pt.flag == 'L' ? "Low" : "Normal";
        out["Observation"].push_back(Json{
            {"resourceType", "Observation"},
            {"id", fmt::format("obs-{}-{}-{}", n, sp.key, pt.day)},
            {"status", "final"},
            {"category",
             Json::array({Concept("http://terminology.hl7.org/CodeSystem/observation-category",
                                  vitals ? "vital-signs" : "laboratory",
                                  vitals ? "Vital Signs" : "Laboratory")})},
            {"code", Concept(kLoinc, sp.loinc, sp.display)},
            {"subject", subject},
            {"encounter", encounter},
            {"effectiveDateTime", Instant(when)},
            {"valueQuantity",
             Json{{"value", pt.value}, {"unit", sp.unit}, {"system", kUcum}, {"code", sp.ucum}}},
            {"interpretation",
             Json::array(
                 {Concept("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                          interp, shown)})},
            {"referenceRange",
             Json::array({Json{
                 {"low",
                  Json{{"value", sp.low}, {"unit", sp.unit}, {"system", kUcum}, {"code", sp.ucum}}},
                 {"high", Json{{"value", sp.high},
                               {"unit", sp.unit},
                               {"system", kUcum},
                               {"code", sp.ucum}}}}})},
        });
      }
    }
  };
  observations(s.labs, false);
  observations(s.vitals, true);
  // Results not final at discharge.
  for (size_t k = 0; k < s.pending.size(); ++k) {
    const Pending& pe = s.pending[k];
    Json o{{"resourceType", "Observation"},
           {"id", fmt::format("obs-{}-pending-{}", n, k + 1)},
           {"status", pe.interim.empty() ? "registered" : "preliminary"},
           {"category",
            Json::array({Concept("http://terminology.hl7.org/CodeSystem/observation-category",
                                 "laboratory", "Laboratory")})},
           {"code", Concept(pe.code.system, pe.code.code, pe.code.display, pe.test)},
           {"subject", subject},
           {"encounter", encounter},
           {"effectiveDateTime", Instant(s.DayTime(pe.day, 6))}};
    if (!pe.interim.empty()) o["valueString"] = pe.interim;
    out["Observation"].push_back(std::move(o));
  }

  // Medications: home list, inpatient orders (with their administrations), and the orders at
  // a new dose that continue past discharge.
  const std::string category_system =
      "http://terminology.hl7.org/CodeSystem/medicationrequest-category";
  for (size_t i = 0; i < s.home_meds.size(); ++i) {
    const MedOrder& m = s.home_meds[i];
    const DischargeMed* d = nullptr;
    for (const DischargeMed& x : s.discharge_meds)
      if (x.drug == m.drug) d = &x;
    const bool held = d && d->change == MedChange::kStopped;
    const bool replaced = d && d->change == MedChange::kChanged;
    Json r{{"resourceType", "MedicationRequest"},
           {"id", fmt::format("medrx-{}-h{}", n, i + 1)},
           {"status", held || replaced ? "stopped" : "active"},
           {"intent", "order"},
           {"category", Json::array({Concept(category_system, "community", "Community")})},
           {"medicationCodeableConcept", MedicationConcept(*m.drug)},
           {"subject", subject},
           {"encounter", encounter},
           {"authoredOn", AddDays(s.admitted.date, -90).Iso()},
           {"dosageInstruction", Dosage(m.dose, m.route, m.frequency)}};
    if (held)
      r["statusReason"] = Json{{"text", "held on admission: " + d->reason}};
    else if (replaced)
      r["statusReason"] = Json{{"text", "dose changed: " + d->reason}};
    out["MedicationRequest"].push_back(std::move(r));
  }
  std::vector<MedOrder> orders = s.inpatient_meds;
  for (const DischargeMed& d : s.discharge_meds) {
    if (d.change != MedChange::kNew && d.change != MedChange::kChanged) continue;
    orders.push_back(MedOrder{d.drug, d.dose, d.route, d.frequency, d.start_day, -1, d.problem});
  }
  for (size_t i = 0; i < orders.size(); ++i) {
    const MedOrder& m = orders[i];
    const std::string id = fmt::format("medrx-{}-{}", n, i + 1);
    Json r{{"resourceType", "MedicationRequest"},
           {"id", id},
           {"status", m.stop_day < 0 ? "active" : "completed"},
           {"intent", "order"},
           {"category", Json::array({Concept(category_system, "inpatient", "Inpatient")})},
           {"medicationCodeableConcept", MedicationConcept(*m.drug)},
           {"subject", subject},
           {"encounter", encounter},
           {"authoredOn",
            Instant(m.start_day == 0 ? AddMinutes(s.admitted, 50) : s.DayTime(m.start_day, 10))},
           {"requester", Json{{"display", attending.Display()}}},
           {"dosageInstruction", Dosage(m.dose, m.route, m.frequency)}};
    if (m.problem >= 0) {
      r["reasonReference"] =
          Json::array({Ref("Condition", fmt::format("cond-{}-{}", n, m.problem + 1))});
    }
    out["MedicationRequest"].push_back(std::move(r));
    const int last = m.stop_day < 0 ? s.days : m.stop_day;
    for (int day = m.start_day; day <= last; ++day) {
      const DateTime from =
          day == m.start_day && day == 0 ? AddMinutes(s.admitted, 90) : s.DayTime(day, 0);
      const DateTime to = day == s.days ? s.discharged : s.DayTime(day, 23, 59);
      out["MedicationAdministration"].push_back(Json{
          {"resourceType", "MedicationAdministration"},
          {"id", fmt::format("medadmin-{}-{}-{}", n, i + 1, day)},
          {"status", "completed"},
          {"medicationCodeableConcept", MedicationConcept(*m.drug)},
          {"subject", subject},
          {"context", encounter},
          {"effectivePeriod", Json{{"start", Instant(from)}, {"end", Instant(to)}}},
          {"request", Ref("MedicationRequest", id)},
          {"dosage", AdministrationDosage(m)},
      });
    }
  }

  for (size_t i = 0; i < s.procedures.size(); ++i) {
    const StayProcedure& pr = s.procedures[i];
    Json r{{"resourceType", "Procedure"},
           {"id", fmt::format("proc-{}-{}", n, i + 1)},
           {"status", "completed"},
           {"code", Concept(pr.code.system, pr.code.code, pr.code.display, pr.phrase)},
           {"subject", subject},
           {"encounter", encounter},
           {"performedDateTime", Instant(s.DayTime(pr.day, 13))},
           {"outcome", Json{{"text", pr.result}}}};
    if (pr.problem >= 0)
      r["reasonReference"] =
          Json::array({Ref("Condition", fmt::format("cond-{}-{}", n, pr.problem + 1))});
    out["Procedure"].push_back(std::move(r));
  }

  for (size_t i = 0; i < s.imaging.size(); ++i) {
    const Imaging& im = s.imaging[i];
    const std::string text = ImagingReportText(s, im);
    out["DiagnosticReport"].push_back(Json{
        {"resourceType", "DiagnosticReport"},
        {"id", fmt::format("dr-{}-{}", n, i + 1)},
        {"status", "final"},
        {"category", Json::array({Concept("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD",
                                          "Radiology")})},
        {"code", Concept(im.code.system, im.code.code, im.code.display, im.title)},
        {"subject", subject},
        {"encounter", encounter},
        {"effectiveDateTime", Instant(s.DayTime(im.day, im.day == 0 ? s.admitted.hour : 11))},
        {"issued", Instant(s.DayTime(im.day, 16))},
        {"conclusion", im.impression},
        {"presentedForm", Json::array({Json{{"contentType", "text/plain; charset=utf-8"},
                                            {"language", "en"},
                                            {"data", Base64Encode(text)},
                                            {"title", im.title}}})},
    });
  }

  auto& docs = out["DocumentReference"];
  docs.push_back(Document(fmt::format("doc-{}-hp", n), kHistoryPhysicalLoinc,
                          "History and physical note", subject, encounter,
                          AddMinutes(s.admitted, 120), attending.Display(), notes.admission.text,
                          notes.admission.language, "Admission history and physical"));
  for (size_t k = 0; k < notes.progress.size(); ++k) {
    const int day = static_cast<int>(k) + 1;
    docs.push_back(Document(fmt::format("doc-{}-pn{}", n, day), kProgressNoteLoinc, "Progress note",
                            subject, encounter, s.DayTime(day, 11), attending.Display(),
                            notes.progress[k].text, notes.progress[k].language,
                            fmt::format("Progress note, hospital day {}", day + 1)));
  }
  for (size_t k = 0; k < notes.consults.size() && k < s.consults.size(); ++k) {
    const Consult& c = s.consults[k];
    docs.push_back(Document(
        fmt::format("doc-{}-cn{}", n, k + 1), kConsultNoteLoinc, "Consult note", subject, encounter,
        s.DayTime(c.day, 15), clinicians[static_cast<size_t>(c.consultant)].Display(),
        notes.consults[k].text, notes.consults[k].language, "Consultation: " + c.specialty));
  }
  docs.push_back(Document(fmt::format("doc-{}-ds", n), kDischargeSummaryLoinc, "Discharge summary",
                          subject, encounter, AddMinutes(s.discharged, 180), attending.Display(),
                          notes.summary.text, "en", "Discharge summary"));
  return out;
}

}  // namespace medscribe::synth
