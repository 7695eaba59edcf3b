// Report-level clinical checks beside the CheXpert F1:
//   - laterality: for findings present in both reports, whether the generated side (left, right,
//     bilateral) is the reference's;
//   - severity: for findings present in both whose reference states a severity, whether the
//     generated report states the same (labeler.h maps the words);
//   - lesion size: when the reference gives a nodule or mass size, whether the generated report
//     gives one within 2 mm;
//   - devices: when either report names a support device, whether both name the same set
//     (endotracheal tube, central line, pacemaker, chest tube);
//   - lab integration: when the reference's impression addresses a lab result, whether the
//     generated impression addresses one too;
//   - comparison: the change against the prior study (new, increased, decreased, unchanged, no
//     prior) stated by the report, which the model can only know from the dictation;
//   - hallucination: of the findings the generated reports assert (any class but No Finding),
//     the share that neither the reference nor (when given) the truth has.
#pragma once

#include <array>
#include <optional>
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

// The size in mm of the first nodule or mass an observation sentence measures ("12 mm",
// "12-mm", "4.5 cm"), if any.
std::optional<double> LesionSizeMm(std::string_view report);

// Bit set of the support devices the report asserts: 1 endotracheal tube, 2 central line,
// 4 pacemaker, 8 chest tube.
int DevicesOf(std::string_view report);

// Per support device (endotracheal tube, central line, pacemaker, chest tube: DevicesOf's bit
// order), the side the report gives it: the side word ("right", "left") nearest before the
// device's name in the first observation sentence that asserts the device ("Left chest wall
// pacemaker", "Right-sided thoracostomy tube"; a chest tube named as such is looked for before
// one named a thoracostomy tube); empty where that sentence gives none.
std::array<std::string, 4> DeviceSides(std::string_view report);

// The checks' counts for one report: hits and trials per metric.
struct ReportChecks {
  int side_ok = 0, side_pairs = 0, severity_ok = 0, severity_pairs = 0;
  int size_ok = 0, size_reports = 0, device_ok = 0, device_reports = 0;
  int lab_ok = 0, lab_reports = 0, comparison_ok = 0, comparison_reports = 0;
  int made_up = 0, asserted = 0;
  // Per class: the side pairs that differ, and the assertions counted in made_up.
  std::array<int, kNumClasses> side_missed{}, made_up_by{};
};

struct ClinicalChecks {
  double laterality_accuracy = 0;  // over (report, class) pairs with a reference side
  size_t laterality_pairs = 0;
  double severity_accuracy = 0;  // over (report, class) pairs with a reference severity
  size_t severity_pairs = 0;
  double size_accuracy = 0;  // over reports whose reference measures a lesion
  size_t size_reports = 0;
  double device_accuracy = 0;  // over reports where either names a device
  size_t device_reports = 0;
  double lab_integration = 0;  // over reports whose reference impression addresses a lab
  size_t lab_reports = 0;
  double comparison_accuracy = 0;  // over reports whose reference states a comparison
  size_t comparison_reports = 0;
  double hallucination_rate = 0;  // over findings the generated reports assert
  size_t asserted = 0;
  // Per class: the laterality pairs whose sides differ, and the made-up assertions.
  std::array<int, kNumClasses> side_missed{}, made_up_by{};
};

// Per report. REQUIRES: truth, when given, has one entry per report.
std::vector<ReportChecks> CheckEach(const std::vector<std::string>& generated,
                                    const std::vector<std::string>& reference,
                                    const std::vector<Labels>* truth = nullptr);
// The rates over the reports `indices` (all when null; a bootstrap resample may repeat some).
ClinicalChecks Aggregate(const std::vector<ReportChecks>& each,
                         const std::vector<size_t>* indices = nullptr);
// Aggregate(CheckEach(...)).
ClinicalChecks CheckReports(const std::vector<std::string>& generated,
                            const std::vector<std::string>& reference,
                            const std::vector<Labels>* truth = nullptr);

}  // namespace medscribe::eval
