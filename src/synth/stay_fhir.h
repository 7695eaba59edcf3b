// FHIR R4 resources of one synthetic inpatient stay, built from its plan and its notes.
//
// Ids derive from the stay id ("stay-000042" -> "obs-s000042-wbc-3"), so that every reference
// resolves inside the cohort's NDJSON files. What the record holds at the time of discharge:
//   Encounter (class IMP, period, discharge disposition), Condition (the problem list and the
//   stay's diagnoses), AllergyIntolerance, Observation (labs and vital signs, one per value),
//   MedicationRequest (home medications, category community, "stopped" with a reason when held;
//   inpatient orders, category inpatient, "completed" or, when they continue past discharge,
//   "active"), MedicationAdministration (one per order and day given), Procedure,
//   DiagnosticReport (imaging), DocumentReference (history and physical, progress and consult
//   notes, and the signed discharge summary, LOINC 18842-5).
// Discharge prescriptions are not written: the discharge medication list is the summary's to
// state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "synth/discharge_summary.h"
#include "synth/note.h"
#include "synth/stay.h"

namespace medscribe::synth {

struct StayNotes {
  Note admission;
  std::vector<Note> progress;  // hospital days 1 .. days-1, in order
  std::vector<Note> consults;  // as Stay::consults
  DischargeSummary summary;
};

// Resources of one stay grouped by resource type (Patient not included).
std::map<std::string, std::vector<nlohmann::ordered_json>> StayResources(
    const Stay& s, const Patient& p, const std::vector<Clinician>& clinicians,
    const StayNotes& notes);

// The resource types an inpatient cohort writes, in file order (Patient first).
const std::vector<std::string>& StayResourceTypes();

// LOINC document types of the stay's notes.
inline constexpr std::string_view kDischargeSummaryLoinc = "18842-5";
inline constexpr std::string_view kProgressNoteLoinc = "11506-3";
inline constexpr std::string_view kConsultNoteLoinc = "11488-4";
inline constexpr std::string_view kHistoryPhysicalLoinc = "34117-2";

}  // namespace medscribe::synth
