#include "model/dictated_change.h"

#include <algorithm>
#include <string>
#include <vector>

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

TEST(DictatedChangeTest, EveryChangeWordIsReadAsItsChange) {
  for (const DictatedChange c : {DictatedChange::kNew, DictatedChange::kIncreased,
                                 DictatedChange::kDecreased, DictatedChange::kUnchanged}) {
    ASSERT_FALSE(ChangeWords(c).empty());
    for (const std::string_view w : ChangeWords(c)) {
      EXPECT_EQ(
          ChangeOfDictation("compared with the prior study the effusion is " + std::string(w)), c)
          << w;
    }
  }
  EXPECT_TRUE(ChangeWords(DictatedChange::kNoPrior).empty());
  EXPECT_TRUE(ChangeWords(DictatedChange::kNotStated).empty());
}

bool Holds(const std::vector<std::string_view>& words, std::string_view w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

TEST(DictatedChangeTest, ContradictingWordsAreEveryOtherChange) {
  const auto increased = ContradictingWords(DictatedChange::kIncreased);
  EXPECT_TRUE(Holds(increased, "new"));
  EXPECT_TRUE(Holds(increased, "improved"));
  EXPECT_TRUE(Holds(increased, "stable"));
  EXPECT_FALSE(Holds(increased, "increased"));
  EXPECT_FALSE(Holds(increased, "larger"));
  const auto none = ContradictingWords(DictatedChange::kNoPrior);
  EXPECT_TRUE(Holds(none, "new"));
  EXPECT_TRUE(Holds(none, "unchanged"));
  EXPECT_TRUE(ContradictingWords(DictatedChange::kNotStated).empty());
}

TEST(DictatedChangeTest, OnlyWordsThatAreOneTokenAreBanned) {
  // A toy vocabulary: "new" and "New" are tokens 7 and 8, "stable" is 9; "unchanged" splits.
  const auto encode = [](std::string_view w) -> std::vector<int> {
    if (w == "new") return {7};
    if (w == "New") return {8};
    if (w == "stable") return {9};
    if (w == "unchanged") return {10, 11};
    return {static_cast<int>(w.size()) + 100, 1};
  };
  std::vector<std::string> split;
  EXPECT_EQ(ContradictingTokens(DictatedChange::kIncreased, encode, &split),
            (std::vector<int>{7, 8, 9}));
  EXPECT_NE(std::find(split.begin(), split.end(), "unchanged"), split.end());
  EXPECT_NE(std::find(split.begin(), split.end(), "improved"), split.end());
  EXPECT_EQ(std::find(split.begin(), split.end(), "new"), split.end());
  EXPECT_EQ(ContradictingTokens(DictatedChange::kNew, encode), (std::vector<int>{9}));
  EXPECT_TRUE(ContradictingTokens(DictatedChange::kNotStated, encode).empty());
}

TEST(DictatedChangeTest, StatingTokensAreTheChangesOwnOneTokenWords) {
  // A toy tokenizer: "improved" and "Improved" are one token each, everything else is split.
  const auto encode = [](std::string_view w) {
    if (w == "improved") return std::vector<int>{21};
    if (w == "Improved") return std::vector<int>{22};
    if (w == "new") return std::vector<int>{9};
    return std::vector<int>{1, 2};
  };
  EXPECT_EQ(StatingTokens(DictatedChange::kDecreased, encode), (std::vector<int>{21, 22}));
  EXPECT_EQ(StatingTokens(DictatedChange::kNew, encode), (std::vector<int>{9}));
  EXPECT_TRUE(StatingTokens(DictatedChange::kNoPrior, encode).empty());
  EXPECT_TRUE(StatingTokens(DictatedChange::kNotStated, encode).empty());
}

TEST(DictatedChangeTest, EveryChangeWordHasAWordStartPieceInBothCases) {
  const std::vector<std::string> pieces = ChangeWordPieces();
  for (const DictatedChange c : {DictatedChange::kNew, DictatedChange::kIncreased,
                                 DictatedChange::kDecreased, DictatedChange::kUnchanged}) {
    for (const std::string_view w : ChangeWords(c)) {
      std::string upper(w);
      upper[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[0])));
      for (const std::string& form : {std::string(w), upper}) {
        EXPECT_NE(std::find(pieces.begin(), pieces.end(), "\u2581" + form), pieces.end()) << form;
      }
    }
  }
  EXPECT_EQ(pieces.size(), 2 * (ContradictingWords(DictatedChange::kNoPrior).size()));
}

}  // namespace
}  // namespace medscribe::model
