// Free text of the cohort: reason for exam, clinical notes with planted PHI (English and
// Traditional Chinese), the dictated addendum, and the historical radiology report.
//
// The report is composed from the findings, the labs, the note's reason for exam and the
// dictation (comparison with the prior study and urgency are known only from the dictation), with
// several templates per finding, synonyms, and a per-radiologist style tied to the annotator id.
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

struct Note {
  std::string text;
  std::string language;          // BCP-47: "en" or "zh-TW"
  std::vector<std::string> phi;  // every PHI string planted in `text`, verbatim
};

// English reason for exam (PHI-free), e.g. "Fever and cough for 3 days. Evaluate for pneumonia."
std::string ReasonForExam(const Encounter& e, Rng& rng);
Note ComposeNote(const Encounter& e, const CohortPlan& cohort, Rng& rng);
// The spoken addendum: comparison with the prior study, a clinical question, an urgency remark.
std::string ComposeDictation(const Encounter& e, Rng& rng);
// `phi` receives PHI strings the report contains (dates, physician names).
Report ComposeReport(const Encounter& e, const CohortPlan& cohort, Rng& rng,
                     std::vector<std::string>* phi);

}  // namespace medscribe::synth
