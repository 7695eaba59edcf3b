// The record of an inpatient stay: every FHIR resource of one inpatient Encounter (class IMP,
// with a discharge disposition: a stay that is being or has been discharged), grouped, in the
// order a reader of the chart needs it. The discharge scenario's inputs (the
// prompt builder, the evaluation's baselines) read stays through this.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "fhir/resources.h"

namespace medscribe::ingest {

inline constexpr std::string_view kDischargeSummaryLoinc = "18842-5";
inline constexpr std::string_view kProgressNoteLoinc = "11506-3";

struct StayRecord {
  fhir::Encounter encounter;
  std::optional<fhir::Patient> patient;
  std::vector<fhir::Condition> conditions;
  std::vector<fhir::AllergyIntolerance> allergies;
  std::vector<fhir::Observation> observations;  // by effective time
  std::vector<fhir::MedicationRequest> medication_requests;
  std::vector<fhir::MedicationAdministration> administrations;
  std::vector<fhir::Procedure> procedures;
  std::vector<fhir::DiagnosticReport> reports;
  std::vector<fhir::DocumentReference> notes;  // by date; the discharge summary is not among them
  // The signed discharge summary (LOINC 18842-5), when the record has one.
  std::optional<fhir::DocumentReference> discharge_summary;

  // The latest note of LOINC type `type_code`, or nullptr.
  const fhir::DocumentReference* LatestNote(std::string_view type_code) const;
};

// Groups `resources` by inpatient encounter, in the order the encounters appear. Resources of
// other encounters (and those without one) are left out; so are encounters of other classes and
// inpatient encounters without a discharge disposition.
std::vector<StayRecord> GroupStays(const std::vector<fhir::Resource>& resources);

// Reads a FHIR directory or file (fhir/reader.h) and groups its stays. InvalidArgument naming the
// first rejected line when any line is not accepted; NotFound when there is no inpatient
// encounter.
StatusOr<std::vector<StayRecord>> ReadStays(const std::string& fhir_path);

}  // namespace medscribe::ingest
