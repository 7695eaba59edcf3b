#include "eval/phrasebook.h"

#include <gtest/gtest.h>

#include "eval/labeler.h"

namespace medscribe::eval {
namespace {

Labels Want(std::initializer_list<int> classes) {
  Labels l;
  for (int c : classes) l.mention[c] = Mention::kPositive;
  return l;
}

bool SameClasses(const Labels& a, const Labels& b) {
  for (int c = 1; c < kNumClasses; ++c)
    if (a.positive(c) != b.positive(c)) return false;
  return true;
}

TEST(PhrasebookTest, WritesTheMostCommonTrainingSentence) {
  const Phrasebook book({"FINDINGS: Small left pleural effusion. IMPRESSION: Effusion.",
                         "FINDINGS: Small left pleural effusion.",
                         "FINDINGS: Large right pleural effusion."});
  EXPECT_EQ(book.Write(Want({kPleuralEffusion})), "FINDINGS: Small left pleural effusion.");
}

TEST(PhrasebookTest, EveryClassCanBeWrittenEvenWhenTrainingReportsNeverPhraseIt) {
  // Training reports that name only effusions: every other class comes from the built-in
  // sentences, and the labeler reads each written report back as the labels asked for.
  const Phrasebook book({"FINDINGS: Small left pleural effusion."});
  for (int c : {kCardiomegaly, kLungLesion, kEdema, kAtelectasis, kPneumothorax, kFracture,
                kSupportDevices}) {
    const Labels want = Want({c});
    const std::string report = book.Write(want);
    EXPECT_TRUE(SameClasses(LabelReport(report), want)) << kClassNames[c] << ": " << report;
  }
  const Labels many = Want({kFracture, kPleuralEffusion, kSupportDevices});
  EXPECT_TRUE(SameClasses(LabelReport(book.Write(many)), many)) << book.Write(many);
}

TEST(PhrasebookTest, NoFindingWritesANegativeSentence) {
  const Phrasebook book({});
  const Labels read = LabelReport(book.Write(Labels{}));
  for (int c = 1; c < kNumClasses; ++c) EXPECT_FALSE(read.positive(c)) << kClassNames[c];
}

}  // namespace
}  // namespace medscribe::eval
