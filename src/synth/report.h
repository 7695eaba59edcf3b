// The historical radiology report and the dictated addendum of each encounter.
//
// The report is composed from the findings, the labs, the reason for exam and the dictation
// (comparison with the prior study and urgency are known only from the dictation), with several
// templates per finding, synonyms, and a per-radiologist style tied to the annotator id.
//
// Thread safety: pure functions of their inputs and the given Rng.
#pragma once

#include <string>
#include <vector>

#include "common/rng.h"
#include "synth/cohort_types.h"

namespace medscribe::synth {

struct Report {
  std::string examination, indication, comparison, findings, impression, recommendation;
  // "EXAMINATION: ...\nINDICATION: ...\n..." in the order above.
  std::string Text() const;
};

// The spoken addendum: comparison with the prior study, a clinical question, an urgency remark.
std::string ComposeDictation(const Encounter& e, Rng& rng);
// `phi` receives PHI strings the report contains (dates, physician names).
Report ComposeReport(const Encounter& e, const CohortPlan& cohort, Rng& rng,
                     std::vector<std::string>* phi);

}  // namespace medscribe::synth
