#include "speech/pronounce.h"

#include <gtest/gtest.h>

namespace medscribe::speech {
namespace {

TEST(PronounceTest, MapsEspeakMnemonicsToArpabet) {
  EXPECT_EQ(*EspeakToArpabet(",eItlI2kt'A:siz"), "EY T L IH K T AA S IY Z");
  EXPECT_EQ(*EspeakToArpabet("baIb'azIl3"), "B AY B AE Z IH L ER");
  EXPECT_EQ(*EspeakToArpabet("In'tu:beIt#I#d"), "IH N T UW B EY T IH D");
  EXPECT_FALSE(EspeakToArpabet("k$").ok());
  EXPECT_FALSE(EspeakToArpabet("''").ok());
}

TEST(PronounceTest, PronouncesReportVocabulary) {
  auto p = Pronounce("pneumothorax");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->substr(0, 4), "N UW");
  EXPECT_NE(p->find("TH"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::speech
