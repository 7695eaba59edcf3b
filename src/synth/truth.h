// Ground truth of one encounter (a line of truth/labels.jsonl; format in
// docs/formats/synthetic-cohort.md). For tests and evaluation only.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "synth/cohort_types.h"
#include "synth/report.h"

namespace medscribe::synth {

// The identifiers of a patient as they appear in the cohort's files (name forms, MRN, dates of
// birth in ISO and DICOM form, phone, e-mail, address, national ID, SSN, Chinese name).
std::vector<std::string> PatientPhi(const Patient& p);

// The truth record. `phi` lists every PHI string planted for the encounter; it is sorted and
// de-duplicated in the record.
nlohmann::ordered_json TruthRecord(const Encounter& e, const CohortPlan& plan,
                                   const std::string& dictation, const Report& report,
                                   std::vector<std::string> phi);

}  // namespace medscribe::synth
