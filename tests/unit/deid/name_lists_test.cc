#include "deid/name_lists.h"

#include <gtest/gtest.h>

#include "deid/text_deid.h"

namespace medscribe::deid {
namespace {

TEST(NameListsTest, CensusHereDocumentsGiveGivenNamesAndSurnames) {
  const std::string module =
      "our $VERSION = '0.46';\n"
      "$COMMON_MALE_FIRSTNAMES = <<ENDNAMES;\n"
      "JAMES          3.318  3.318      1\n"
      "JOHN           3.271  6.589      2\n"
      "ENDNAMES\n"
      "my $x = 1;\n"
      "$COMMON_FEMALE_FIRSTNAMES = <<ENDNAMES;\n"
      "MARY           2.629  2.629      1\r\n"
      "1234           0.1    0.1        2\n"
      "ENDNAMES\n"
      "$COMMON_SURNAMES = <<ENDNAMES;\n"
      "SMITH          1.006  1.006      1\n"
      "ENDNAMES\n"
      "SOMETHING AFTER\n";
  NameLists lists;
  ParseCensusNames(module, &lists);
  EXPECT_EQ(lists.given, (std::unordered_set<std::string>{"james", "john", "mary"}));
  EXPECT_EQ(lists.surnames, (std::unordered_set<std::string>{"smith"}));
  NameLists none;
  ParseCensusNames("no here-documents\nENDNAMES\n", &none);
  EXPECT_TRUE(none.given.empty());
  EXPECT_TRUE(none.surnames.empty());
}

TEST(NameListsTest, OnlyLowerCaseEntriesAreEnglishWords) {
  NameLists lists;
  ParseEnglishWords("brain\nMary\nchance\nO'Neil\ncan't\n\nx-ray\n", &lists);
  EXPECT_EQ(lists.english, (std::unordered_set<std::string>{"brain", "chance"}));
}

// With the packaged lists installed (scripts/bootstrap.sh installs them), a name only they know
// is taken beside a word that introduces a person, and never alone.
TEST(NameListsTest, APackagedNameIsANameAfterACueButNeverAlone) {
  if (PackagedNames().given.empty() || PackagedNames().english.empty())
    GTEST_SKIP() << PackagedNames().source;
  const TextScrubber s({}, 0);
  EXPECT_EQ(s.ScrubField("Spoke with daughter brianna today."),
            "Spoke with daughter [NAME] today.");
  for (const char* keep : {"Carina is midline.", "INFERIOR VENA CAVA: patent.",
                           "The son chance called.", "Vena cava filter in place."})
    EXPECT_EQ(s.ScrubField(keep), keep);
}

}  // namespace
}  // namespace medscribe::deid
