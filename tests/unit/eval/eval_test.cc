#include <gtest/gtest.h>

#include <cmath>

#include "eval/labeler.h"
#include "eval/text_metrics.h"

namespace medscribe::eval {
namespace {

TEST(TextMetricsTest, BleuRougeAndCiderAgainstHandComputedValues) {
  // Identical texts: BLEU 1, ROUGE-L 1.
  auto same = ScoreTexts({"the lungs are clear"}, {"the lungs are clear"});
  for (double b : same.bleu) EXPECT_NEAR(b, 1.0, 1e-12);
  EXPECT_NEAR(same.rouge_l, 1.0, 1e-12);
  // hyp "the heart is normal" vs ref "the heart size is normal":
  // unigram precision 4/4, bigram 2/3 ("the heart", "is normal"), trigram 0/2 -> BLEU-3 = 0;
  // brevity penalty exp(1 - 5/4).
  auto s = ScoreTexts({"The heart is normal."}, {"The heart size is normal."});
  const double bp = std::exp(1.0 - 5.0 / 4.0);
  EXPECT_NEAR(s.bleu[0], bp * 1.0, 1e-9);
  EXPECT_NEAR(s.bleu[1], bp * std::sqrt(1.0 * 2.0 / 3.0), 1e-9);
  EXPECT_NEAR(s.bleu[2], 0.0, 1e-9);
  // ROUGE-L: LCS 4, P = 4/4, R = 4/5, beta 1.2: (1 + 1.44) P R / (R + 1.44 P).
  const double p = 1.0, r = 0.8;
  EXPECT_NEAR(s.rouge_l, 2.44 * p * r / (r + 1.44 * p), 1e-9);
  // CIDEr-D over two documents of four words: a perfect match of distinct reports scores 1 for
  // each n-gram order (cosine 1, no length penalty), averaged and x10 -> 10; with three words
  // there is no 4-gram, so 3 of 4 orders score -> 7.5; a disjoint hypothesis scores 0.
  auto c = ScoreTexts({"small left pleural effusion", "no acute cardiopulmonary disease"},
                      {"small left pleural effusion", "no acute cardiopulmonary disease"});
  EXPECT_NEAR(c.cider_d, 10.0, 1e-9);
  auto three = ScoreTexts({"small left effusion", "no acute disease"},
                          {"small left effusion", "no acute disease"});
  EXPECT_NEAR(three.cider_d, 7.5, 1e-9);
  auto z = ScoreTexts({"alpha beta gamma", "delta"}, {"small left effusion", "no acute disease"});
  EXPECT_NEAR(z.cider_d, 0.0, 1e-12);
  EXPECT_EQ(Words("Left-sided, 12-mm NODULE."),
            (std::vector<std::string>{"left", "sided", "12", "mm", "nodule"}));
}

TEST(LabelerTest, PositiveNegativeAndUncertainSentences) {
  auto l = LabelReport(
      "FINDINGS: Moderate cardiomegaly. Small left pleural effusion. No pneumothorax.\n"
      "IMPRESSION: Possible right lower zone pneumonia. Pneumothorax is not seen.");
  EXPECT_EQ(l.mention[2], Mention::kPositive);   // cardiomegaly
  EXPECT_EQ(l.mention[10], Mention::kPositive);  // effusion
  EXPECT_EQ(l.side[10], "left");
  EXPECT_EQ(l.mention[9], Mention::kNegative);   // pneumothorax
  EXPECT_EQ(l.mention[7], Mention::kUncertain);  // pneumonia
  EXPECT_TRUE(l.positive(7));                    // uncertain counts as positive
  EXPECT_FALSE(l.positive(0));                   // not "No Finding"
  auto normal = LabelReport(
      "FINDINGS: The lungs are clear. No pleural effusion or pneumothorax. "
      "The endotracheal tube terminates above the carina.\nIMPRESSION: No acute findings.");
  EXPECT_TRUE(normal.positive(0));
  EXPECT_TRUE(normal.positive(13));  // support devices do not prevent "No Finding"
  EXPECT_EQ(normal.mention[10], Mention::kNegative);
  auto ex = LabelReport(
      "A right apical pneumothorax cannot be excluded. Nodule suspicious for malignancy.");
  EXPECT_EQ(ex.mention[9], Mention::kUncertain);
  EXPECT_EQ(ex.mention[4], Mention::kPositive);  // the cue follows "nodule", it is not a pre-cue
}

TEST(LabelerTest, F1AsTheFieldComputesIt) {
  const Labels pos = LabelReport("Cardiomegaly."), neg = LabelReport("No cardiomegaly.");
  // Cardiomegaly: tp 1, fp 1, fn 1 -> F1 0.5; No Finding: ref [neg: yes, pos: no] gen [pos, neg].
  auto f = ClinicalF1({pos, pos, neg}, {pos, neg, pos});
  EXPECT_NEAR(f.per_class[2], 0.5, 1e-12);
  auto perfect = ClinicalF1({pos, neg}, {pos, neg});
  EXPECT_NEAR(perfect.micro, 1.0, 1e-12);
}

}  // namespace
}  // namespace medscribe::eval

#include "eval/clinical.h"

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
  EXPECT_EQ(c.lab_reports, 1u);
  EXPECT_DOUBLE_EQ(c.lab_integration, 0.0);
  EXPECT_EQ(c.comparison_reports, 1u);
  EXPECT_DOUBLE_EQ(c.comparison_accuracy, 1.0);
}

}  // namespace
}  // namespace medscribe::eval
