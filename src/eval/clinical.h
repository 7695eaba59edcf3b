// Report-level clinical checks beside the CheXpert F1:
//   - laterality: for findings present in both reports, whether the generated side (left, right,
//     bilateral) is the reference's;
//   - lab integration: when the reference's impression addresses a lab result, whether the
//     generated impression addresses one too;
//   - comparison: the change against the prior study (new, increased, decreased, unchanged, no
//     prior) stated by the report, which the model can only know from the dictation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eval/labeler.h"

namespace medscribe::eval {

// "new", "increased", "decreased", "unchanged", "no_prior", or "" when the report states none.
std::string ComparisonOf(std::string_view report);

// True when the impression (the text after "IMPRESSION:", up to "RECOMMENDATION:") mentions a
// lab result (WBC, leukocytosis, BNP, SpO2, hypoxemia, CRP, procalcitonin, fever, troponin, ...).
bool ImpressionAddressesLab(std::string_view report);

struct ClinicalChecks {
  double laterality_accuracy = 0;  // over (report, class) pairs with a reference side
  size_t laterality_pairs = 0;
  double lab_integration = 0;  // over reports whose reference impression addresses a lab
  size_t lab_reports = 0;
  double comparison_accuracy = 0;  // over reports whose reference states a comparison
  size_t comparison_reports = 0;
};

ClinicalChecks CheckReports(const std::vector<std::string>& generated,
                            const std::vector<std::string>& reference);

}  // namespace medscribe::eval
