#include "synth/fhir_export.h"

#include <fmt/format.h>

#include "common/base64.h"
#include "synth/device.h"
#include "synth/fhir_json.h"
#include "synth/radiograph.h"

namespace medscribe::synth {
namespace {

using fhir_json::Coding;
using fhir_json::Concept;
using fhir_json::Instant;
using fhir_json::Ref;

constexpr const char* kMrnSystem = "http://riverside-general.example.org/fhir/mrn";
constexpr const char* kAccessionSystem = "http://riverside-general.example.org/fhir/accession";
constexpr const char* kDcm = "http://dicom.nema.org/resources/ontology/DCM";

Json EncounterClass(Department d) {
  constexpr const char* kSys = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
  switch (d) {
    case Department::kED:
      return Coding(kSys, "EMER", "emergency");
    case Department::kICU:
      return Coding(kSys, "ACUTE", "inpatient acute");
    case Department::kCardiology:
      return Coding(kSys, "IMP", "inpatient encounter");
    default:
      return Coding(kSys, "AMB", "ambulatory");
  }
}

}  // namespace

const std::vector<std::string>& FhirResourceTypes() {
  static const std::vector<std::string> kTypes = {
      "Patient",   "Encounter", "ServiceRequest",    "ImagingStudy",    "Observation",
      "Condition", "Procedure", "DocumentReference", "DiagnosticReport"};
  return kTypes;
}

Json PatientResource(const Patient& p) {
  Json name{{"use", "official"}, {"family", p.family}, {"given", Json::array({p.given})}};
  Json names = Json::array({name});
  if (p.chinese) {
    names.push_back(Json{{"use", "usual"},
                         {"text", p.ZhName()},
                         {"family", p.zh_family},
                         {"given", Json::array({p.zh_given})}});
  }
  return Json{
      {"resourceType", "Patient"},
      {"id", p.id},
      {"identifier",
       Json::array({Json{{"use", "usual"},
                         {"type", Concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MR",
                                          "Medical record number")},
                         {"system", kMrnSystem},
                         {"value", p.mrn}},
                    Json{{"type", Concept("http://terminology.hl7.org/CodeSystem/v2-0203", "SS",
                                          "Social Security number")},
                         {"system", "http://hl7.org/fhir/sid/us-ssn"},
                         {"value", p.ssn}},
                    Json{{"type", Concept("http://terminology.hl7.org/CodeSystem/v2-0203", "NI",
                                          "National unique individual identifier")},
                         {"system", "urn:oid:2.16.886.101.20003.20001"},
                         {"value", p.national_id}}})},
      {"name", names},
      {"telecom", Json::array({Json{{"system", "phone"}, {"value", p.phone}, {"use", "home"}},
                               Json{{"system", "email"}, {"value", p.email}}})},
      {"gender", p.sex == 'F' ? "female" : "male"},
      {"birthDate", p.birth_date.Iso()},
      {"address", Json::array({Json{{"line", Json::array({p.address_line})},
                                    {"city", p.city},
                                    {"state", p.state},
                                    {"postalCode", p.postal_code},
                                    {"country", "US"}}})},
  };
}

std::map<std::string, std::vector<Json>> EncounterResources(const Encounter& e,
                                                            const CohortPlan& cohort,
                                                            const Note& note,
                                                            const Report& report) {
  const Patient& p = cohort.patients[static_cast<size_t>(e.patient)];
  const Clinician& ref = cohort.referring[static_cast<size_t>(e.referring)];
  const Clinician& rad = cohort.radiologists[static_cast<size_t>(e.radiologist)];
  const DeviceProfile& dev = DeviceProfiles()[static_cast<size_t>(e.device)];
  const Json subject = Ref("Patient", p.id);
  const Json encounter = Ref("Encounter", e.id);
  const std::string sr_id = "sr-" + e.id.substr(4), is_id = "is-" + e.id.substr(4);
  const Json exam_code =
      Concept(kCpt, "71045", "Radiologic examination, chest; single view", "XR Chest 1 view");
  const Json accession_id{
      {"type", Concept("http://terminology.hl7.org/CodeSystem/v2-0203", "ACSN", "Accession ID")},
      {"system", kAccessionSystem},
      {"value", e.accession}};
  std::map<std::string, std::vector<Json>> out;

  out["Encounter"].push_back(Json{
      {"resourceType", "Encounter"},
      {"id", e.id},
      {"status", "finished"},
      {"class", EncounterClass(e.department)},
      {"serviceType", Json{{"text", DepartmentLabel(e.department)}}},
      {"subject", subject},
      {"period",
       Json{{"start", Instant(e.start)}, {"end", Instant(AddMinutes(e.report_time, 60))}}},
      {"serviceProvider", Json{{"display", kInstitution}}},
  });

  out["ServiceRequest"].push_back(Json{
      {"resourceType", "ServiceRequest"},
      {"id", sr_id},
      {"identifier", Json::array({accession_id})},
      {"status", "completed"},
      {"intent", "order"},
      {"priority", e.priority},
      {"code", exam_code},
      {"subject", subject},
      {"encounter", encounter},
      {"authoredOn", Instant(AddMinutes(e.study_time, -40))},
      {"requester", Json{{"display", ref.Display()}}},
      {"reasonCode",
       Json::array({Json{
           {"coding", Json::array({Coding(e.working_diagnosis.system, e.working_diagnosis.code,
                                          e.working_diagnosis.display)})},
           {"text", e.reason}}})},
  });

  out["ImagingStudy"].push_back(Json{
      {"resourceType", "ImagingStudy"},
      {"id", is_id},
      {"identifier",
       Json::array(
           {Json{{"system", "urn:dicom:uid"}, {"value", "urn:oid:" + e.study_uid}}, accession_id})},
      {"status", "available"},
      {"modality", Json::array({Coding(
                       kDcm, dev.modality,
                       dev.modality == "DX" ? "Digital Radiography" : "Computed Radiography")})},
      {"subject", subject},
      {"encounter", encounter},
      {"started", Instant(e.study_time)},
      {"basedOn", Json::array({Ref("ServiceRequest", sr_id)})},
      {"numberOfSeries", 1},
      {"numberOfInstances", 1},
      {"description", "XR CHEST 1 VIEW"},
      {"series",
       Json::array({Json{
           {"uid", e.series_uid},
           {"number", 1},
           {"modality",
            Coding(kDcm, dev.modality,
                   dev.modality == "DX" ? "Digital Radiography" : "Computed Radiography")},
           {"description", e.anatomy.ap_view ? "CHEST AP PORTABLE" : "CHEST PA"},
           {"numberOfInstances", 1},
           {"bodySite", Coding(kSnomed, "51185008", "Thoracic structure")},
           {"instance",
            Json::array({Json{
                {"uid", e.sop_uid},
                {"sopClass",
                 Coding("urn:ietf:rfc:3986",
                        "urn:oid:" + std::string(dev.modality == "DX" ? kDxForPresentationSopClass
                                                                      : kCrSopClass),
                        dev.modality == "DX" ? "Digital X-Ray Image Storage - For Presentation"
                                             : "Computed Radiography Image Storage")},
                {"number", 1}}})}}})},
  });

  for (const LabResult& lab : e.labs) {
    const LabSpec& s = *lab.spec;
    const char* cat = s.vital_sign ? "vital-signs" : "laboratory";
    Json obs{
        {"resourceType", "Observation"},
        {"id", fmt::format("obs-{}-{}", e.id.substr(4), s.key)},
        {"status", "final"},
        {"category",
         Json::array({Concept("http://terminology.hl7.org/CodeSystem/observation-category", cat,
                              s.vital_sign ? "Vital Signs" : "Laboratory")})},
        {"code", Concept(kLoinc, s.loinc, s.display)},
        {"subject", subject},
        {"encounter", encounter},
        {"effectiveDateTime", Instant(e.labs_time)},
        {"valueQuantity", Json{{"value", lab.value},
                               {"unit", s.unit},
                               {"system", "http://unitsofmeasure.org"},
                               {"code", s.ucum}}},
    };
    const char* interp = lab.flag == 'H' ? "H" : lab.flag == 'L' ? "L" : "N";
    const char* interp_display = lab.flag == 'H' ? "High" : lab.flag == 'L' ? "Low" : "Normal";
    obs["interpretation"] =
        Json::array({Concept("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                             interp, interp_display)});
    Json range{{"low", Json{{"value", s.low},
                            {"unit", s.unit},
                            {"system", "http://unitsofmeasure.org"},
                            {"code", s.ucum}}},
               {"high", Json{{"value", s.high},
                             {"unit", s.unit},
                             {"system", "http://unitsofmeasure.org"},
                             {"code", s.ucum}}}};
    obs["referenceRange"] = Json::array({range});
    out["Observation"].push_back(std::move(obs));
  }

  // The patient's problem list, written once (with the first encounter), without encounter.
  const std::string pat_no = p.id.substr(4);
  if (e.visit == 0) {
    for (size_t i = 0; i < e.history.size(); ++i) {
      const Problem& pr = e.history[i];
      const std::string onset = pr.onset.Iso();
      out["Condition"].push_back(Json{
          {"resourceType", "Condition"},
          {"id", fmt::format("prob-{}-{}", pat_no, i + 1)},
          {"clinicalStatus",
           Concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")},
          {"verificationStatus",
           Concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed",
                   "Confirmed")},
          {"category",
           Json::array({Concept("http://terminology.hl7.org/CodeSystem/condition-category",
                                "problem-list-item", "Problem List Item")})},
          {"code", Concept(kIcd10Cm, ChronicCode(pr.condition), ChronicDisplay(pr.condition))},
          {"subject", subject},
          {"onsetDateTime", onset},
          {"recordedDate", AddDays(pr.onset, 14).Iso()},
      });
    }
  }
  auto encounter_diagnosis = [&](const std::string& id, const Code& c, const char* verification,
                                 const DateTime& recorded) {
    out["Condition"].push_back(Json{
        {"resourceType", "Condition"},
        {"id", id},
        {"clinicalStatus",
         Concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")},
        {"verificationStatus",
         Concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification,
                 std::string(verification) == "confirmed" ? "Confirmed" : "Provisional")},
        {"category",
         Json::array({Concept("http://terminology.hl7.org/CodeSystem/condition-category",
                              "encounter-diagnosis", "Encounter Diagnosis")})},
        {"code", Concept(c.system, c.code, c.display)},
        {"subject", subject},
        {"encounter", encounter},
        {"recordedDate", Instant(recorded)},
    });
  };
  // The working diagnosis of the order (before the study) and the final diagnoses, coded after
  // the report was signed.
  encounter_diagnosis(fmt::format("cond-{}-w", e.id.substr(4)), e.working_diagnosis, "provisional",
                      AddMinutes(e.study_time, -40));
  for (size_t i = 0; i < e.conditions.size(); ++i) {
    encounter_diagnosis(fmt::format("cond-{}-{}", e.id.substr(4), i + 1), e.conditions[i],
                        "confirmed", AddMinutes(e.report_time, 45));
  }

  for (size_t i = 0; i < e.procedures.size(); ++i) {
    const Code& c = e.procedures[i];
    Json proc{
        {"resourceType", "Procedure"},
        {"id", fmt::format("proc-{}-{}", e.id.substr(4), i + 1)},
        {"status", "completed"},
        {"code", Concept(c.system, c.code, c.display)},
        {"subject", subject},
        {"encounter", encounter},
        {"performedDateTime", Instant(i == 0 ? e.study_time : AddMinutes(e.study_time, -90))},
    };
    if (i == 0) proc["basedOn"] = Json::array({Ref("ServiceRequest", sr_id)});
    out["Procedure"].push_back(std::move(proc));
  }

  out["DocumentReference"].push_back(Json{
      {"resourceType", "DocumentReference"},
      {"id", "doc-" + e.id.substr(4)},
      {"status", "current"},
      {"docStatus", "final"},
      {"type", Concept(kLoinc, "34117-2", "History and physical note")},
      {"subject", subject},
      {"date", Instant(AddMinutes(e.study_time, -60))},
      {"author", Json::array({Json{{"display", ref.Display()}}})},
      {"description", "Reason for exam and history"},
      {"content",
       Json::array({Json{{"attachment", Json{{"contentType", "text/plain; charset=utf-8"},
                                             {"language", note.language},
                                             {"data", Base64Encode(note.text)}}}}})},
      {"context", Json{{"encounter", Json::array({encounter})}}},
  });

  const std::string text = report.Text();
  out["DiagnosticReport"].push_back(Json{
      {"resourceType", "DiagnosticReport"},
      {"id", "dr-" + e.id.substr(4)},
      {"identifier", Json::array({accession_id})},
      {"basedOn", Json::array({Ref("ServiceRequest", sr_id)})},
      {"status", "final"},
      {"category",
       Json::array({Concept("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD", "Radiology")})},
      {"code", Concept(kLoinc, "18748-4", "Diagnostic imaging study", "XR Chest 1 view")},
      {"subject", subject},
      {"encounter", encounter},
      {"effectiveDateTime", Instant(e.study_time)},
      {"issued", Instant(e.report_time)},
      {"resultsInterpreter", Json::array({Json{{"display", rad.Display()}}})},
      {"imagingStudy", Json::array({Ref("ImagingStudy", is_id)})},
      {"conclusion", report.impression},
      {"presentedForm", Json::array({Json{{"contentType", "text/plain; charset=utf-8"},
                                          {"language", "en"},
                                          {"data", Base64Encode(text)},
                                          {"title", "Radiology report"}}})},
  });
  return out;
}

}  // namespace medscribe::synth
