// The FHIR R4 resource subset MedScribe reads, as plain structs.
//
// Only the elements ingest and the model use are kept; everything else in a resource is ignored.
// References are split into type and id ("Patient/pat-1" -> {"Patient", "pat-1"}); dates stay as
// the FHIR strings they were.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace medscribe::fhir {

struct Reference {
  std::string type, id;  // empty when absent or not a relative "Type/id" reference
  bool empty() const { return id.empty(); }
};

struct Coding {
  std::string system, code, display;
};

struct Identifier {
  std::string system, type_code, value;  // type_code from identifier.type.coding[0].code
};

struct HumanName {
  std::string family, text;
  std::vector<std::string> given;
};

struct Patient {
  std::string id, gender, birth_date;
  std::vector<Identifier> identifiers;
  std::vector<HumanName> names;
  std::vector<std::string> telecom;  // phone numbers, e-mail addresses
  std::vector<std::string> address;  // lines, city, postal code
};

struct Encounter {
  std::string id, status, class_code, service_type, start, end;
  std::string discharge_disposition;  // hospitalization.dischargeDisposition.coding[0].code
  Reference subject;
};

struct ServiceRequest {
  std::string id, accession, authored_on, reason;  // reason: reasonCode[0].text
  Reference subject, encounter;
  std::vector<Coding> code;
  std::vector<Coding> reason_codes;  // reasonCode[*].coding (the working diagnosis)
};

struct ImagingStudy {
  std::string id, study_uid, accession, started;
  Reference subject, encounter;
  std::vector<std::string> series_uids, instance_uids;
};

struct Observation {
  std::string id, status, effective, unit, interpretation;
  std::string value_string;  // valueString (an interim or text result)
  Reference subject, encounter;
  std::vector<Coding> code;
  std::optional<double> value, low, high;
};

struct Condition {
  std::string id, recorded, onset;  // recordedDate, onsetDateTime
  std::string category;             // category[0].coding[0].code: "problem-list-item", ...
  std::string verification;         // verificationStatus code: "confirmed", "provisional", ...
  Reference subject, encounter;     // encounter empty for a problem-list item of the patient
  std::vector<Coding> code;
};

struct Procedure {
  std::string id, performed;
  Reference subject, encounter;
  std::vector<Coding> code;
  std::string outcome;  // outcome.text
};

struct DocumentReference {
  std::string id, date, language, text;  // text: the decoded text/plain attachment
  std::string type_code;                 // type.coding[0].code (LOINC: 18842-5 discharge summary)
  std::string audio;                     // the decoded audio/* attachment (a dictation), or ""
  Reference subject, encounter;
};

struct DiagnosticReport {
  std::string id, status, effective, conclusion, text;  // text: decoded presentedForm
  std::string interpreter;  // resultsInterpreter[0]: its reference, else its display (PHI)
  Reference subject, encounter;
  std::vector<Reference> imaging_studies;
};

struct MedicationRequest {
  std::string id, status, intent, authored_on;
  std::string category;       // category[0].coding[0].code: "inpatient", "community", ...
  std::string dosage;         // dosageInstruction[0].text
  std::string status_reason;  // statusReason.text
  Reference subject, encounter;
  std::vector<Coding> medication;  // medicationCodeableConcept
  std::vector<Reference> reasons;  // reasonReference
};

struct MedicationAdministration {
  std::string id, status, start, end;  // effectivePeriod (or effectiveDateTime as start)
  std::string dosage;                  // dosage.text
  Reference subject, encounter;        // encounter: context
  Reference request;
  std::vector<Coding> medication;
};

struct AllergyIntolerance {
  std::string id, clinical_status;  // clinicalStatus.coding[0].code
  Reference subject, encounter;     // subject: patient
  std::vector<Coding> code;
  std::vector<std::string> reactions;  // reaction[*].manifestation[*].text
};

using Resource = std::variant<Patient, Encounter, ServiceRequest, ImagingStudy, Observation,
                              Condition, Procedure, DocumentReference, DiagnosticReport,
                              MedicationRequest, MedicationAdministration, AllergyIntolerance>;

// "Patient", "Encounter", ... for a resource.
std::string ResourceTypeOf(const Resource& r);
const std::string& IdOf(const Resource& r);

}  // namespace medscribe::fhir
