#include "eval/bootstrap.h"

#include <gtest/gtest.h>

#include <cmath>

namespace medscribe::eval {
namespace {

double Mean(const std::vector<double>& x, const std::vector<size_t>& idx) {
  double s = 0;
  for (size_t i : idx) s += x[i];
  return s / static_cast<double>(idx.size());
}

TEST(BootstrapTest, IntervalOfAProportionMatchesTheNormalApproximation) {
  // 400 reports, 300 right: p = 0.75, standard error sqrt(p(1-p)/n) = 0.02165; the 95%
  // percentile interval is close to p +- 1.96 SE = [0.7076, 0.7924].
  std::vector<double> hits(400, 0.0);
  for (size_t i = 0; i < 300; ++i) hits[i] = 1.0;
  const Interval ci = Bootstrap(
      hits.size(), [&](const std::vector<size_t>& idx) { return Mean(hits, idx); }, 2000);
  EXPECT_DOUBLE_EQ(ci.value, 0.75);
  EXPECT_NEAR(ci.low, 0.7076, 0.012);
  EXPECT_NEAR(ci.high, 0.7924, 0.012);
  EXPECT_LT(ci.low, ci.value);
  EXPECT_GT(ci.high, ci.value);
  // Same seed, same interval.
  const Interval again = Bootstrap(
      hits.size(), [&](const std::vector<size_t>& idx) { return Mean(hits, idx); }, 2000);
  EXPECT_EQ(ci.low, again.low);
  // A constant metric has a zero-width interval.
  const Interval flat = Bootstrap(
      10, [](const std::vector<size_t>&) { return 0.5; }, 50);
  EXPECT_EQ(flat.low, 0.5);
  EXPECT_EQ(flat.high, 0.5);
}

TEST(BootstrapTest, PercentilesInterpolate) {
  std::vector<double> v;
  for (int i = 0; i <= 100; ++i) v.push_back(i);
  const Interval ci = PercentileInterval(50, v);
  EXPECT_DOUBLE_EQ(ci.low, 2.5);
  EXPECT_DOUBLE_EQ(ci.high, 97.5);
}

}  // namespace
}  // namespace medscribe::eval
