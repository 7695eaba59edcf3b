#include "eval/clinical.h"

#include <numeric>

#include <gtest/gtest.h>

namespace medscribe::eval {
namespace {

TEST(ClinicalTest, ComparisonLabsAndLaterality) {
  EXPECT_EQ(
      ComparisonOf(
          "COMPARISON: 2024-01-02.\nThe effusion has increased compared with the prior study."),
      "increased");
  EXPECT_EQ(ComparisonOf("COMPARISON: None. No prior studies are available for comparison."),
            "no_prior");
  EXPECT_EQ(ComparisonOf("Compared with the prior study, there is no interval change."),
            "unchanged");
  EXPECT_EQ(ComparisonOf("The lungs are clear."), "");
  EXPECT_EQ(ComparisonOf("INDICATION: Decreased breath sounds.\nCOMPARISON: 2024-01-02.\n"
                         "IMPRESSION: No acute process, no interval change from the prior study."),
            "unchanged");
  EXPECT_EQ(ComparisonOf("EXAMINATION: Chest radiograph.\nINDICATION: New cough.\n"
                         "COMPARISON: Chest radiograph of 2024-01-02.\nIMPRESSION: Pneumonia."),
            "");
  EXPECT_TRUE(ImpressionAddressesLab(
      "FINDINGS: x.\nIMPRESSION: Pneumonia in the setting of leukocytosis (WBC 17.2)."));
  EXPECT_FALSE(
      ImpressionAddressesLab("FINDINGS: WBC 17.\nIMPRESSION: Pneumonia.\nRECOMMENDATION: CRP."));
  const auto c =
      CheckReports({"IMPRESSION: Small right effusion. Increased since the prior study.",
                    "IMPRESSION: Pneumonia."},
                   {"IMPRESSION: Small left effusion. Increased compared with the prior study.",
                    "IMPRESSION: Pneumonia with hypoxemia (SpO2 85%)."});
  EXPECT_EQ(c.laterality_pairs, 1u);
  EXPECT_DOUBLE_EQ(c.laterality_accuracy, 0.0);
  EXPECT_EQ(c.severity_pairs, 1u);
  EXPECT_DOUBLE_EQ(c.severity_accuracy, 1.0);
  EXPECT_EQ(c.lab_reports, 1u);
  EXPECT_DOUBLE_EQ(c.lab_integration, 0.0);
  EXPECT_EQ(c.comparison_reports, 1u);
  EXPECT_DOUBLE_EQ(c.comparison_accuracy, 1.0);
}

TEST(ClinicalTest, LesionSizeDevicesAndHallucinations) {
  EXPECT_EQ(LesionSizeMm("FINDINGS: A 12-mm nodular opacity in the left upper zone."), 12.0);
  EXPECT_EQ(LesionSizeMm("FINDINGS: Right upper zone mass measuring 4.5 cm."), 45.0);
  // A pneumothorax's size is not a lesion's; an indication's nodule is not an observation.
  EXPECT_FALSE(LesionSizeMm("FINDINGS: Right pneumothorax measuring 15 mm.").has_value());
  EXPECT_FALSE(LesionSizeMm("INDICATION: Follow-up of 8 mm nodule.\nFINDINGS: Clear.").has_value());
  EXPECT_EQ(DevicesOf("FINDINGS: Endotracheal tube 5 cm above the carina. Right central line "
                      "terminating in the SVC. No chest tube."),
            1 | 2);
  EXPECT_EQ(DevicesOf("FINDINGS: Left-sided thoracostomy tube in place. Dual-chamber cardiac "
                      "pacemaker."),
            4 | 8);
  // A device's side: the side word before its name in the sentence that first asserts it.
  EXPECT_EQ(DeviceSides("FINDINGS: Left chest wall pacemaker with leads in the right atrium. "
                        "Endotracheal tube in place. Right-sided thoracostomy tube. No left "
                        "central line."),
            (std::array<std::string, 4>{"", "", "left", "right"}));
  EXPECT_EQ(DeviceSides("INDICATION: Right central line.\nFINDINGS: Central line in place. "
                        "Dual-chamber cardiac pacemaker. Left chest tube in place."),
            (std::array<std::string, 4>{"", "", "", "left"}));
  const std::vector<std::string> ref = {
      "FINDINGS: 10 mm nodule in the right upper zone. Pacemaker in place.",
      "FINDINGS: Small left pleural effusion."};
  const std::vector<std::string> gen = {
      "FINDINGS: 11 mm nodule in the right upper zone. Pacemaker in place.",
      "FINDINGS: Small left pleural effusion. Right rib fracture."};
  const auto c = CheckReports(gen, ref);
  EXPECT_EQ(c.size_reports, 1u);
  EXPECT_DOUBLE_EQ(c.size_accuracy, 1.0);  // within 2 mm
  EXPECT_EQ(c.device_reports, 1u);
  EXPECT_DOUBLE_EQ(c.device_accuracy, 1.0);
  // Asserted: lesion, devices, effusion, fracture; the fracture is neither in the reference nor
  // in a truth.
  EXPECT_EQ(c.asserted, 4u);
  EXPECT_DOUBLE_EQ(c.hallucination_rate, 0.25);
  EXPECT_EQ(c.made_up_by[kFracture], 1);
  EXPECT_EQ(std::accumulate(c.made_up_by.begin(), c.made_up_by.end(), 0), 1);
  // The laterality misses by class: the nodule's side differs, the effusion's does not.
  const auto sides = CheckReports({"FINDINGS: 10 mm nodule in the left upper zone. Small left "
                                   "pleural effusion."},
                                  {"FINDINGS: 10 mm nodule in the right upper zone. Small left "
                                   "pleural effusion."});
  EXPECT_EQ(sides.laterality_pairs, 2u);
  EXPECT_EQ(sides.side_missed[kLungLesion], 1);
  EXPECT_EQ(sides.side_missed[kPleuralEffusion], 0);
  // With a truth that has it (the reference missed it), it is not made up.
  std::vector<Labels> truth(2);
  truth[1].mention[kFracture] = Mention::kPositive;
  EXPECT_DOUBLE_EQ(CheckReports(gen, ref, &truth).hallucination_rate, 0.0);
  // The aggregate over a resample counts a repeated report twice.
  const auto each = CheckEach(gen, ref);
  const std::vector<size_t> twice = {1, 1};
  EXPECT_EQ(Aggregate(each, &twice).asserted, 4u);
  EXPECT_DOUBLE_EQ(Aggregate(each, &twice).hallucination_rate, 0.5);
}

}  // namespace
}  // namespace medscribe::eval
