#include "deid/names.h"

#include <gtest/gtest.h>

#include <string>

namespace medscribe::deid {
namespace {

std::string Scrub(const std::string& text) { return ScrubDictionaryNames(text, nullptr); }

TEST(NamesTest, DictionariesKnowCommonNamesOfBothLists) {
  EXPECT_TRUE(IsGivenName("Agnes"));
  EXPECT_TRUE(IsGivenName("AGNES"));
  EXPECT_TRUE(IsGivenName("Mary-Jane") == (IsGivenName("Mary") && IsGivenName("Jane")));
  EXPECT_TRUE(IsSurname("Fitzgerald"));
  EXPECT_TRUE(IsSurname("O'Connor"));
  EXPECT_TRUE(IsSurname("Sokolova"));  // feminine form of a listed Sokolov
  EXPECT_TRUE(IsSurname("Kowalska"));  // of Kowalski
  EXPECT_FALSE(IsSurname("Pneumothorax"));
  EXPECT_FALSE(IsGivenName("Impression"));
}

TEST(NamesTest, NamesInTheirUsualShapesAreReplaced) {
  EXPECT_EQ(Scrub("Spoke to pt's grandson Tobias by phone."),
            "Spoke to pt's grandson [NAME] by phone.");
  EXPECT_EQ(Scrub("Wife (Ingrid Novak) at bedside."), "Wife ([NAME]) at bedside.");
  EXPECT_EQ(Scrub("cc: Siobhan Fitzgerald, RN"), "cc: [NAME], RN");
  EXPECT_EQ(Scrub("Novak, Ingrid"), "[NAME]");
  EXPECT_EQ(Scrub("Seen with Agnes M. Hale today."), "Seen with [NAME] today.");
  EXPECT_EQ(Scrub("Xavier Quenneville called."), "[NAME] called.");  // unknown surname
  EXPECT_EQ(Scrub("Rosalind Pemberton-Okafor signed."), "[NAME] signed.");
  EXPECT_EQ(Scrub("PATIENT: JOHN SMITH"), "PATIENT: [NAME]");
  EXPECT_EQ(Scrub("Mark Kowalski"), "[NAME]");  // a word-like given name before a surname
}

TEST(NamesTest, ClinicalEponymsAndCommonWordsStay) {
  for (const char* text : {"Wilson disease on the problem list.",
                           "Foley catheter removed.",
                           "Hunter syndrome ruled out.",
                           "Apgar 9 at birth.",
                           "Gleason 7 on biopsy.",
                           "Epstein-Barr virus serology.",
                           "Parkinson's disease.",
                           "Murphy sign negative.",
                           "Swan-Ganz catheter in place.",
                           "Bishop score 8.",
                           "Virchow node palpable.",
                           "Kerley B lines.",
                           "Thomas splint applied.",
                           "Will repeat in May.",
                           "Long-standing hypertension.",
                           "White matter changes.",
                           "Brown sputum.",
                           "Grace period.",
                           "Chest PA and lateral.",
                           "Right lower lobe.",
                           "EXAMINATION: XR CHEST PA 1 VIEW",
                           "IMPRESSION: No acute cardiopulmonary process.",
                           "Jackson-Pratt drain output 30 mL.",
                           "Glasgow Coma Scale 15."}) {
    EXPECT_EQ(Scrub(text), text);
  }
}

TEST(NamesTest, CountsReplacementsAndLeavesOtherScriptsIntact) {
  ScrubStats stats;
  const std::string out = ScrubDictionaryNames("家屬Ingrid Novak與病人\xff同住", &stats);
  EXPECT_EQ(out, "家屬[NAME]與病人\xff同住");
  EXPECT_EQ(stats.by_category["name"], 1);
}

}  // namespace
}  // namespace medscribe::deid
