// What rules see of a draft report: its text and sections, and what the labeler reads in it.
//
//   draft.text, draft.findings, draft.impression, draft.recommendation, draft.comparison_section
//   draft.comparison   "new" | "increased" | "decreased" | "unchanged" | "no_prior" | ""
//   draft.labels.X     "positive" | "negative" | "uncertain" | "absent" for each CheXpert class,
//                      X in snake case (pneumothorax, pleural_effusion, lung_lesion, ...)
//   draft.sides.X      "left" | "right" | "bilateral" | "" for each positive class
//
// Thread safety: reentrant.
#pragma once

#include <string>
#include <string_view>

#include "clinical/rule_expr.h"

namespace medscribe::clinical {

// The text of the section under `heading` (e.g. "IMPRESSION"), up to the next known heading
// (EXAMINATION, INDICATION, COMPARISON, FINDINGS, IMPRESSION, RECOMMENDATION); "" when absent.
std::string SectionText(std::string_view report, std::string_view heading);

Value DraftValue(std::string_view report);

}  // namespace medscribe::clinical
