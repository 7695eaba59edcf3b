// The imaging order of a synthetic encounter: why the clinician asked for the radiograph.
//
// The order is written before the study is read, from what the clinician knows: the department,
// the presentation and the history. It names the finding the image shows only some of the time
// (about 45% of abnormal studies); as in practice, many orders ask to rule out something the image
// does not show ("Rule out pneumonia." on a normal film) and many are routine (line checks,
// pre-operative films, follow-up, the daily ICU film). The reason never names a side.
//
// Thread safety: pure function of its inputs and the given Rng.
#pragma once

#include "common/rng.h"
#include "synth/encounter.h"

namespace medscribe::synth {

// Sets e.indication, e.suspected, e.reason (English, PHI-free, e.g. "Cough and fever. Rule out
// pneumonia."), e.working_diagnosis (the presenting symptom's ICD-10-CM code) and e.priority.
// REQUIRES: e.department, e.findings, e.history and e.visit are set.
void PlanOrder(Encounter& e, Rng& rng);

}  // namespace medscribe::synth
