#include "tune/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "tune/asha.h"

namespace medscribe::tune {
namespace {

std::vector<Param> Space() {
  Param lr{"lr", Param::Kind::kLogUniform, 1e-4, 1e-1, {}};
  Param bs{"batch-size", Param::Kind::kChoice, 0, 0, {"2", "4", "8"}};
  Param wu{"warmup", Param::Kind::kInt, 0, 10, {}};
  return {lr, bs, wu};
}

TEST(SamplerTest, RandomStaysInsideTheSpaceAndDependsOnTheSeedAlone) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const Assignment a = SampleRandom(Space(), seed);
    const double lr = std::strtod(a.at("lr").c_str(), nullptr);
    EXPECT_GE(lr, 1e-4 * 0.999);
    EXPECT_LE(lr, 1e-1 * 1.001);
    EXPECT_TRUE(a.at("batch-size") == "2" || a.at("batch-size") == "4" ||
                a.at("batch-size") == "8");
    const int w = std::atoi(a.at("warmup").c_str());
    EXPECT_TRUE(w >= 0 && w <= 10);
    EXPECT_EQ(a, SampleRandom(Space(), seed));
  }
}

// A known objective: best near lr = 3e-3 (in log scale) and batch size 4. Once past its startup
// trials, TPE's proposals concentrate there: their mean objective is well below random's.
double Objective(const Assignment& a) {
  const double lr = std::strtod(a.at("lr").c_str(), nullptr);
  return std::pow(std::log10(lr) - std::log10(3e-3), 2) + (a.at("batch-size") == "4" ? 0 : 0.5);
}

TEST(SamplerTest, TpeProposesTheGoodRegionMoreOftenThanRandom) {
  const auto run = [](bool tpe, uint64_t seed) {
    std::vector<Observation> history;
    double late = 0;  // the mean objective of trials 16..30
    for (int i = 0; i < 30; ++i) {
      const Assignment a = tpe ? SampleTpe(Space(), history, 5, seed * 1000 + i)
                               : SampleRandom(Space(), seed * 1000 + i);
      const double v = Objective(a);
      if (i >= 15) late += v / 15;
      history.push_back({a, v, false, 0});
    }
    return late;
  };
  double tpe = 0, random = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    tpe += run(true, seed) / 20;
    random += run(false, seed) / 20;
  }
  EXPECT_LT(tpe, 0.5 * random) << "mean objective of trials 16-30: tpe " << tpe << ", random "
                               << random;
}

TEST(SamplerTest, TpeIsRandomBeforeItsStartupTrials) {
  std::vector<Observation> history = {{SampleRandom(Space(), 1), 1.0, false, 0}};
  EXPECT_EQ(SampleTpe(Space(), history, 4, 7), SampleRandom(Space(), 7));
}

TEST(AshaTest, KeepsTheBestThirdAndTheFirstAtARung) {
  EXPECT_TRUE(Promotable(5.0, {5.0}, 3));               // first at the rung
  EXPECT_TRUE(Promotable(1.0, {3.0, 2.0, 1.0}, 3));     // best of three
  EXPECT_FALSE(Promotable(2.0, {3.0, 2.0, 1.0}, 3));    // not among the best 1
  EXPECT_TRUE(Promotable(2.0, {1, 2, 3, 4, 5, 6}, 3));  // best 2 of 6
  EXPECT_FALSE(Promotable(3.0, {1, 2, 3, 4, 5, 6}, 3));
  EXPECT_FALSE(Promotable(NAN, {1.0}, 3));
}

}  // namespace
}  // namespace medscribe::tune
