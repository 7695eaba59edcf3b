#include "eval/labeler.h"

#include <gtest/gtest.h>

namespace medscribe::eval {
namespace {

// One sentence per class: what it says positively, negated and uncertainly.
struct ClassCase {
  int cls;
  const char* positive;
  const char* negated;
  const char* uncertain;
};
const ClassCase kCases[] = {
    {kEnlargedCardiomediastinum, "The mediastinum shows mediastinal widening.",
     "No mediastinal widening.", "Possible mediastinal widening."},
    {kCardiomegaly, "The heart is moderately enlarged.", "No cardiomegaly.",
     "Borderline cardiomegaly."},
    {kLungOpacity, "Patchy opacity in the left lower zone.", "No focal opacity.",
     "Questionable opacity at the right base."},
    {kLungLesion, "There is a 12 mm nodule in the right upper zone.", "No suspicious nodule.",
     "Possible nodule in the left apex."},
    {kEdema, "Mild pulmonary edema.", "No pulmonary edema.", "Findings may represent edema."},
    {kConsolidation, "Dense consolidation in the right lower zone.", "No focal consolidation.",
     "Consolidation cannot be excluded."},
    {kPneumonia, "Findings consistent with pneumonia.", "No evidence of pneumonia.",
     "Opacity, which may represent pneumonia."},
    {kAtelectasis, "Linear atelectasis at the left lung base.", "No atelectasis.",
     "Likely atelectasis at the right base."},
    {kPneumothorax, "Small right apical pneumothorax.", "No pneumothorax.",
     "A tiny pneumothorax is not excluded."},
    {kPleuralEffusion, "Small left pleural effusion.", "No pleural effusion.",
     "Possible small right pleural effusion."},
    {kPleuralOther, "Right apical pleural thickening.", "No pleural thickening.",
     "Possible pleural plaque."},
    {kFracture, "Acute fracture of the right 5th rib.", "No acute fracture.",
     "Questionable fracture of the left 7th rib."},
    {kSupportDevices, "Right central line terminating in the SVC.",
     "The chest tube has been removed.", "Possible retained catheter fragment."},
};

TEST(LabelerTest, EveryClassPositiveNegatedUncertainAndInTheIndication) {
  for (const ClassCase& c : kCases) {
    SCOPED_TRACE(kClassNames[c.cls]);
    const Labels pos = LabelReport(std::string("FINDINGS: ") + c.positive);
    EXPECT_EQ(pos.mention[c.cls], Mention::kPositive) << c.positive;
    EXPECT_TRUE(pos.positive(c.cls));
    const Labels neg = LabelReport(std::string("FINDINGS: ") + c.negated);
    EXPECT_EQ(neg.mention[c.cls], Mention::kNegative) << c.negated;
    EXPECT_FALSE(neg.positive(c.cls));
    const Labels unc = LabelReport(std::string("IMPRESSION: ") + c.uncertain);
    EXPECT_EQ(unc.mention[c.cls], Mention::kUncertain) << c.uncertain;
    EXPECT_TRUE(unc.positive(c.cls));  // uncertain counts as positive
    // The same words as the question of the order, or in the history or comparison, are not
    // observations.
    for (const char* header :
         {"INDICATION: ", "HISTORY: ", "COMPARISON: ", "Reason for exam: ", "RECOMMENDATION: "}) {
      const Labels q = LabelReport(std::string(header) + c.positive +
                                   "\nFINDINGS: The lungs are clear.\nIMPRESSION: Normal.");
      EXPECT_EQ(q.mention[c.cls], Mention::kAbsent) << header << c.positive;
    }
  }
}

TEST(LabelerTest, SectionsNegationScopeAndUnmentions) {
  auto l = LabelReport(
      "EXAMINATION: Chest radiograph.\nINDICATION: Fever. Evaluate for pneumonia. Rule out "
      "effusion.\nFINDINGS: Moderate cardiomegaly. Small left pleural effusion. No pneumothorax.\n"
      "IMPRESSION: Possible right lower zone pneumonia. Pneumothorax is not seen.\n"
      "RECOMMENDATION: Chest CT for the nodule.");
  EXPECT_EQ(l.mention[kCardiomegaly], Mention::kPositive);
  EXPECT_EQ(l.severity[kCardiomegaly], "moderate");
  EXPECT_EQ(l.mention[kPleuralEffusion], Mention::kPositive);
  EXPECT_EQ(l.side[kPleuralEffusion], "left");
  EXPECT_EQ(l.severity[kPleuralEffusion], "mild");
  EXPECT_EQ(l.mention[kPneumothorax], Mention::kNegative);
  EXPECT_EQ(l.mention[kPneumonia], Mention::kUncertain);
  EXPECT_EQ(l.mention[kLungLesion], Mention::kAbsent);  // only in the recommendation
  EXPECT_FALSE(l.positive(kNoFinding));
  // A pleural line is the edge of a pneumothorax, not a device; Kerley B lines are edema.
  auto ptx = LabelReport(
      "FINDINGS: Right apical pneumothorax with a visible visceral pleural line. The pleural line "
      "lies 15 mm from the chest wall. Kerley B line at the right base.");
  EXPECT_FALSE(ptx.positive(kSupportDevices));
  EXPECT_TRUE(ptx.positive(kPneumothorax));
  EXPECT_EQ(ptx.side[kPneumothorax], "right");
  // A nodular or masslike opacity is a lesion, not a parenchymal opacity.
  auto nod = LabelReport(
      "A 12-mm nodular opacity is seen in the left upper zone. Right upper "
      "zone masslike opacity measuring 4.5 cm.");
  EXPECT_TRUE(nod.positive(kLungLesion));
  EXPECT_FALSE(nod.positive(kLungOpacity));
  // A negation's scope ends at "but" / "with"; it does not reach the next finding.
  auto scope = LabelReport(
      "No pneumothorax but a small right pleural effusion. No pneumothorax "
      "with right chest tube in place.");
  EXPECT_EQ(scope.mention[kPneumothorax], Mention::kNegative);
  EXPECT_TRUE(scope.positive(kPleuralEffusion));
  EXPECT_TRUE(scope.positive(kSupportDevices));
  // One negation covers a list.
  auto list = LabelReport("No pleural effusion or pneumothorax.");
  EXPECT_EQ(list.mention[kPleuralEffusion], Mention::kNegative);
  EXPECT_EQ(list.mention[kPneumothorax], Mention::kNegative);
  auto normal = LabelReport(
      "FINDINGS: The lungs are clear. No pleural effusion or pneumothorax. "
      "The endotracheal tube terminates above the carina.\nIMPRESSION: No acute findings.");
  EXPECT_TRUE(normal.positive(kNoFinding));
  EXPECT_TRUE(normal.positive(kSupportDevices));  // devices do not prevent "No Finding"
  auto ex = LabelReport(
      "A right apical pneumothorax cannot be excluded. Nodule suspicious for malignancy.");
  EXPECT_EQ(ex.mention[kPneumothorax], Mention::kUncertain);
  EXPECT_EQ(ex.mention[kLungLesion], Mention::kPositive);  // the cue follows "nodule"
  // Text under no header counts (a model's draft may have none).
  EXPECT_TRUE(LabelReport("Large left pleural effusion.").positive(kPleuralEffusion));
  EXPECT_EQ(LabelReport("Large left pleural effusion.").severity[kPleuralEffusion], "severe");
}

TEST(LabelerTest, AssertedPhrasesIgnoreNegatedMentions) {
  const std::vector<std::vector<std::string>> phrases = {{"chest", "tube"}, {"pacemaker"}};
  EXPECT_EQ(AssertedPhrases("FINDINGS: No chest tube. Pacemaker in place.", phrases),
            (std::vector<bool>{false, true}));
  EXPECT_EQ(AssertedPhrases("INDICATION: Chest tube check.", phrases),
            (std::vector<bool>{false, false}));
}

TEST(LabelerTest, F1AsTheFieldComputesItOverPresentClasses) {
  const Labels pos = LabelReport("Cardiomegaly."), neg = LabelReport("No cardiomegaly.");
  // Cardiomegaly: tp 1, fp 1, fn 1 -> F1 0.5; No Finding: ref [neg: yes, pos: no] gen [pos, neg].
  auto f = ClinicalF1({pos, pos, neg}, {pos, neg, pos});
  EXPECT_NEAR(f.per_class[kCardiomegaly], 0.5, 1e-12);
  EXPECT_NEAR(f.precision[kCardiomegaly], 0.5, 1e-12);
  EXPECT_EQ(f.support[kCardiomegaly], 2);
  // Only Cardiomegaly and No Finding are present: macro over those two.
  EXPECT_EQ(f.classes_used, 2);
  EXPECT_TRUE(f.present[kCardiomegaly]);
  EXPECT_FALSE(f.present[kPleuralOther]);
  EXPECT_NEAR(f.macro, (f.per_class[kCardiomegaly] + f.per_class[kNoFinding]) / 2, 1e-12);
  auto perfect = ClinicalF1({pos, neg}, {pos, neg});
  EXPECT_NEAR(perfect.micro, 1.0, 1e-12);
  EXPECT_NEAR(perfect.macro, 1.0, 1e-12);
  // A false positive of an absent class still lowers micro-F1.
  const Labels extra = LabelReport("Cardiomegaly. Pleural thickening.");
  EXPECT_LT(ClinicalF1({extra, neg}, {pos, neg}).micro, 1.0);
}

}  // namespace
}  // namespace medscribe::eval
