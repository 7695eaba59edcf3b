// The discharge-summary prompt: one function, used by training and by serving, turns a stay
// sample (ingest/stay_sample.h; docs/formats/dataset.md, "Stay samples") into the text the
// decoder reads after the task token:
//
//   <discharge>
//   <patient> 67 female; inpatient, 5 days; disposition home
//   <problems> [P1] J18.9 Pneumonia (day 0); [P2] I10 Essential (primary) hypertension (history)
//   <allergies> [A1] penicillin: hives
//   <home medications> [M1] lisinopril 10 mg oral daily: stopped (held on admission: acute
//   kidney injury); [M2] aspirin 81 mg oral daily: active
//   <hospital medications> [M4] ceftriaxone 1 g intravenous daily, days 0-2, completed, for P1;
//   [M9] amoxicillin 1 g oral three times daily, days 3-5, active, for P1
//   <labs> WBC 10*3/uL: day 0 15.2 H [L1], day 5 7.9 [L61]; ...
//   <vitals> temperature Cel: day 0 38.9 H [V1], day 5 36.8 [V6]; ...
//   <procedures> [R1] day 1 Echocardiography: Left ventricular ejection fraction 30 to 35%.
//   <imaging> [I1] day 0: Consolidation in the right lower lobe, consistent with pneumonia.
//   <pending> [L70] day 0 Bacteria identified in Blood by Culture: preliminary, No growth to date
//   <notes> [N1] day 0 admission: <assessment and plan> [N6] day 4 progress: <assessment and
//   plan> [N8] day 1 consult: <recommendations>
//   <dictation> <transcript> | none
//   <summary>
// The target follows <summary> and ends with </s>.
//
// Long records are selected and compressed, problem-oriented, to fit `max_chars`: every problem,
// allergy, medication (home list with its status and reason; hospital orders with their days,
// status and the problems they treat), procedure, imaging conclusion and result still pending; per
// analyte only the first, the most abnormal and the last value, and only analytes that were ever
// abnormal; of the notes only their assessment and plan (consults: recommendations), the admission
// note's and the latest progress note's first, then consults, then earlier progress notes, newest
// first, while they fit; segments that held an identifier are dropped. Every quoted item keeps
// its source tag ([M4], [L61]) so that a draft sentence can cite it. The result is a function of
// the sample and the options alone.
#pragma once

#include <string>

#include "common/status.h"
#include "model/json.h"
#include "model/prompt.h"

namespace medscribe::model {

struct DischargePromptOptions {
  size_t max_chars = 6000;  // the whole prompt; notes give way first, then labs
  bool dictation = true;    // false: ablation without the dictated discharge note
};

// InvalidArgument when `sample` is not a stay sample (task "discharge_summary").
StatusOr<Prompt> BuildDischargePrompt(const json::Value& sample,
                                      const DischargePromptOptions& options = {});

}  // namespace medscribe::model
