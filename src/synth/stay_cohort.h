// `medscribe synth --kind inpatient`: plans and writes a cohort of inpatient stays, the discharge
// scenario's data.
//
// Layout of the output directory:
//   fhir/<ResourceType>.ndjson   (StayResourceTypes(); the signed discharge summaries are the
//                                 DocumentReferences of type LOINC 18842-5)
//   audio/<stay>.wav             (the attending's dictated discharge note, for the stays that have
//                                 one; 16 kHz mono 16-bit PCM; absent with speech off)
//   truth/stays.jsonl            (ground truth; tests and evaluation only)
//   cohort.json                  (kind, seed, options, counts, generator version)
//
// Determinism and all-or-nothing writing as for the radiology cohort (cohort.h): every stay draws
// from its own random streams, and the cohort is staged and committed only when complete.
#pragma once

#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "synth/cohort.h"
#include "synth/stay.h"

namespace medscribe::synth {

struct InpatientPlan {
  uint64_t seed = 0;
  std::vector<Patient> patients;
  std::vector<Clinician> clinicians;  // hospitalists and consultants
  std::vector<Stay> stays;
};

inline constexpr int kNumInpatientClinicians = 24;

// The deterministic plan: patients with one stay, some with a readmission, until
// `options.encounters` stays exist. REQUIRES: ValidateOptions(options).ok().
InpatientPlan PlanInpatientCohort(const SynthOptions& options);

// Plans and writes the cohort (options.kind == "inpatient"). `progress` may be null.
StatusOr<SynthSummary> WriteInpatientCohort(const SynthOptions& options, ProgressBar* progress);

}  // namespace medscribe::synth
