#include "model/dictated_change.h"

#include <gtest/gtest.h>

namespace medscribe::model {
namespace {

TEST(DictatedChangeTest, ReadsTheCohortsDictationsAsTranscribed) {
  EXPECT_EQ(ChangeOfDictation("addendum no prior studies are available for comparison clinical "
                              "question new onset dyspnea routine reading"),
            DictatedChange::kNoPrior);
  EXPECT_EQ(ChangeOfDictation("addendum compared with the prior study there is no interval change "
                              "clinical question shortness of breath"),
            DictatedChange::kUnchanged);
  EXPECT_EQ(ChangeOfDictation("dictation addendum compared with the prior study the abnormality "
                              "is new clinical question hypoxemia"),
            DictatedChange::kNew);
  EXPECT_EQ(ChangeOfDictation("addendum this is a new finding since the previous film"),
            DictatedChange::kNew);
  EXPECT_EQ(ChangeOfDictation("addendum interval worsening since the previous film"),
            DictatedChange::kIncreased);
  EXPECT_EQ(ChangeOfDictation("compared with the previous film the left pleural effusion is "
                              "larger"),
            DictatedChange::kIncreased);
  EXPECT_EQ(ChangeOfDictation("addendum interval improvement since the previous film"),
            DictatedChange::kDecreased);
  EXPECT_EQ(
      ChangeOfDictation("The right pneumothorax has decreased compared with the prior study."),
      DictatedChange::kDecreased);
  EXPECT_EQ(ChangeOfDictation("Compared with the prior study, the main finding is unchanged."),
            DictatedChange::kUnchanged);
  EXPECT_EQ(ChangeOfDictation("Stable since the prior exam. No new findings."),
            DictatedChange::kUnchanged);
}

TEST(DictatedChangeTest, AChangeWordFarFromAnyComparisonSaysNothing) {
  EXPECT_EQ(ChangeOfDictation("clinical question new cough and fever for three days"),
            DictatedChange::kNotStated);
  EXPECT_EQ(ChangeOfDictation("addendum no interval"), DictatedChange::kNotStated);
  EXPECT_EQ(ChangeOfDictation("compared with the prior study clinical question follow up of a "
                              "known nodule the patient says her cough has improved"),
            DictatedChange::kNotStated);
  EXPECT_EQ(ChangeOfDictation(""), DictatedChange::kNotStated);
  EXPECT_EQ(ChangeOfDictation("no"), DictatedChange::kNotStated);
}

TEST(DictatedChangeTest, EveryStatedChangeHasItsOwnToken) {
  EXPECT_EQ(ChangeToken(DictatedChange::kNotStated), "");
  EXPECT_EQ(ChangeToken(DictatedChange::kNoPrior), "<change_no_prior>");
  EXPECT_EQ(ChangeToken(DictatedChange::kNew), "<change_new>");
  EXPECT_EQ(ChangeToken(DictatedChange::kIncreased), "<change_increased>");
  EXPECT_EQ(ChangeToken(DictatedChange::kDecreased), "<change_decreased>");
  EXPECT_EQ(ChangeToken(DictatedChange::kUnchanged), "<change_unchanged>");
}

}  // namespace
}  // namespace medscribe::model
