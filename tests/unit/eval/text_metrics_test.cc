#include "eval/text_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

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

}  // namespace
}  // namespace medscribe::eval
