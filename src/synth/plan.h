// Planning a cohort: patients, their encounters, and everything each encounter will contain,
// drawn from per-encounter random streams before anything is rendered or written.
#pragma once

#include "synth/cohort_types.h"

namespace medscribe::synth {

// The deterministic plan of the whole cohort (cheap: no pixels, text or audio). Patients are
// drawn one at a time with one to three encounters at increasing dates until
// `options.encounters` encounters exist. REQUIRES: ValidateOptions(options).ok().
CohortPlan PlanCohort(const SynthOptions& options);

}  // namespace medscribe::synth
