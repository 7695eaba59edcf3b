#include "dataset/split.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <string>

namespace medscribe::dataset {
namespace {

TEST(SplitTest, ParsesFractionsAndRejectsNonsense) {
  auto f = ParseSplitFractions("0.7,0.2,0.1");
  ASSERT_TRUE(f.ok());
  EXPECT_DOUBLE_EQ(f->val, 0.2);
  for (const char* bad : {"0.8,0.1", "0.8,0.1,0.2", "a,b,c", "0.8,-0.1,0.3", "0.8,0.1,0.1,0", ""}) {
    EXPECT_EQ(ParseSplitFractions(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(SplitTest, StableProportionalAndBalancedWithinStrata) {
  const SplitFractions f;
  std::array<int, 3> counts{};
  std::map<int, std::array<int, 3>>
      by_stratum;  // a stratum is any partition independent of the hash
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    const std::string pid = "P" + std::to_string(1000003LL * i);
    const Split s = AssignSplit(7, pid, f);
    EXPECT_EQ(s, AssignSplit(7, pid, f));  // a function of (seed, patient) only
    counts[static_cast<int>(s)]++;
    by_stratum[i % 6][static_cast<int>(s)]++;
  }
  EXPECT_NEAR(counts[0] / double(n), 0.8, 0.01);
  EXPECT_NEAR(counts[1] / double(n), 0.1, 0.01);
  EXPECT_NEAR(counts[2] / double(n), 0.1, 0.01);
  for (const auto& [stratum, c] : by_stratum) {
    const double total = c[0] + c[1] + c[2];
    EXPECT_NEAR(c[1] / total, 0.1, 0.015) << "stratum " << stratum;
  }
  int moved = 0;
  for (int i = 0; i < 1000; ++i)
    moved +=
        AssignSplit(7, "P" + std::to_string(i), f) != AssignSplit(8, "P" + std::to_string(i), f);
  EXPECT_GT(moved, 100);  // another seed gives another split
}

}  // namespace
}  // namespace medscribe::dataset
