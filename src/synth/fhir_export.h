// FHIR R4 resources of one encounter, built from the plan.
//
// References use "ResourceType/id" with ids derived from the encounter id, so that every
// reference resolves inside the cohort's NDJSON files. Patient resources are made separately (once
// per patient).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "synth/cohort_types.h"
#include "synth/note.h"
#include "synth/report.h"

namespace medscribe::synth {

using Json = nlohmann::ordered_json;

Json PatientResource(const Patient& p);

// Resources of one encounter grouped by resource type (Encounter, ServiceRequest, ImagingStudy,
// Observation, Condition, Procedure, DocumentReference, DiagnosticReport).
std::map<std::string, std::vector<Json>> EncounterResources(const Encounter& e,
                                                            const CohortPlan& cohort,
                                                            const Note& note, const Report& report);

// The resource types written, in file order.
const std::vector<std::string>& FhirResourceTypes();

}  // namespace medscribe::synth
