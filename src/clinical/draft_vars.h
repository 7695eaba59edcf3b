// What rules see of a draft report: its text and sections, and what the labeler reads in it.
//
//   draft.text, draft.findings, draft.impression, draft.recommendation, draft.comparison_section
//   draft.sections.X   the text under every upper-case heading ("HOSPITAL COURSE:" ->
//                      draft.sections.hospital_course), for reports of any kind
//   draft.medications  the lines of a discharge summary's DISCHARGE MEDICATIONS section:
//                      {line, change ("new" | "changed" | "continued" | "stopped" | ""), reason}
//   draft.comparison   "new" | "increased" | "decreased" | "unchanged" | "no_prior" | ""
//   draft.labels.X     "positive" | "negative" | "uncertain" | "absent" for each CheXpert class,
//                      X in snake case (pneumothorax, pleural_effusion, lung_lesion, ...)
//   draft.sides.X      "left" | "right" | "bilateral" | "" for each positive class
//
// Thread safety: reentrant.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clinical/rule_expr.h"

namespace medscribe::clinical {

// The text of the section under `heading` (e.g. "IMPRESSION"), up to the next known heading
// (EXAMINATION, INDICATION, COMPARISON, FINDINGS, IMPRESSION, RECOMMENDATION); "" when absent.
std::string SectionText(std::string_view report, std::string_view heading);

// The sections of a report written with upper-case headings on lines of their own ("HOSPITAL
// COURSE:"), in order: (heading, text). A discharge medication list's START/CHANGE/CONTINUE/STOP
// groups are not headings.
std::vector<std::pair<std::string, std::string>> SummarySections(std::string_view text);

Value DraftValue(std::string_view report);

}  // namespace medscribe::clinical
