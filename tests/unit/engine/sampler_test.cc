#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace medscribe::engine {
namespace {

std::vector<float> Logits() { return {1.0f, 3.0f, 2.0f, 0.5f, 2.9f}; }

int32_t Draw(Sampler& s, std::vector<float> logits, std::vector<int32_t> history = {}) {
  return s.Next(logits, history);
}

TEST(Sampler, GreedyTakesTheLargestLogit) {
  Sampler s({});
  EXPECT_EQ(Draw(s, Logits()), 1);
}

TEST(Sampler, RepetitionPenaltyLowersSeenTokensOnce) {
  SamplingParams p;
  p.repetition_penalty = 1.2;
  Sampler s(p);
  // 3.0 / 1.2 = 2.5 < 2.9: token 4 wins once token 1 was seen (however often).
  EXPECT_EQ(Draw(s, Logits(), {1, 1, 1, 1}), 4);
  EXPECT_EQ(Draw(s, Logits(), {}), 1);
}

TEST(Sampler, BannedTokensAreNeverChosen) {
  SamplingParams p;
  p.banned = {1, 4};
  Sampler greedy(p);
  EXPECT_EQ(Draw(greedy, Logits()), 2);
  p.temperature = 2.0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    p.seed = seed;
    Sampler sampled(p);
    const int32_t t = Draw(sampled, Logits());
    EXPECT_NE(t, 1);
    EXPECT_NE(t, 4);
  }
}

TEST(Sampler, ABannedFavouriteRedirectsTheChoiceToTheAllowedWords) {
  SamplingParams p;
  p.banned = {1, 4};
  p.redirect = {0, 3};
  Sampler greedy(p);
  // Token 1 (3.0) is the favourite and banned: the best of {0, 3} is chosen, not token 2.
  EXPECT_EQ(Draw(greedy, Logits()), 0);
  // A favourite that is not banned leaves the redirect aside.
  p.banned = {4};
  EXPECT_EQ(Draw(*std::make_unique<Sampler>(p), Logits()), 1);
  // Every redirect token banned: the plain ban applies.
  p.banned = {1, 0, 3};
  EXPECT_EQ(Draw(*std::make_unique<Sampler>(p), Logits()), 4);
  p.banned = {1, 4};
  p.temperature = 2.0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    p.seed = seed;
    Sampler sampled(p);
    const int32_t t = Draw(sampled, Logits());
    EXPECT_TRUE(t == 0 || t == 3) << t;
  }
  std::vector<float> logits = Logits();
  SamplingParams bans;
  bans.banned = {1};
  bans.redirect = {7, 3};  // ids outside the vocabulary: ignored
  ApplyBans(bans, logits);
  EXPECT_EQ(logits, (std::vector<float>{-INFINITY, -INFINITY, -INFINITY, 0.5f, -INFINITY}));
}

TEST(Sampler, TopKAndTopPRestrictTheCandidates) {
  SamplingParams p;
  p.temperature = 1.0;
  p.top_k = 2;
  p.seed = 5;
  Sampler s(p);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 300; ++i) ++seen[Draw(s, Logits())];
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen.count(1) && seen.count(4));
  // top_p small enough that only the best token stays.
  p.top_k = 0;
  p.top_p = 0.3;
  Sampler nucleus(p);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Draw(nucleus, Logits()), 1);
}

TEST(Sampler, TheSeedMakesSamplingRepeatable) {
  SamplingParams p;
  p.temperature = 1.5;
  p.seed = 42;
  Sampler a(p), b(p);
  p.seed = 43;
  Sampler c(p);
  std::vector<int32_t> ta, tb, tc;
  for (int i = 0; i < 40; ++i) {
    ta.push_back(Draw(a, Logits()));
    tb.push_back(Draw(b, Logits()));
    tc.push_back(Draw(c, Logits()));
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
}

TEST(Sampler, FrequenciesFollowTheSoftmax) {
  SamplingParams p;
  p.temperature = 1.0;
  p.seed = 9;
  Sampler s(p);
  const std::vector<float> two = {0.0f, std::log(3.0f)};  // probabilities 1/4 and 3/4
  int ones = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ones += Draw(s, two) == 1;
  EXPECT_NEAR(ones / static_cast<double>(n), 0.75, 0.02);
}

TEST(Sampler, ImpossibleParametersAreRefusedByName) {
  SamplingParams p;
  p.temperature = -1;
  EXPECT_NE(Validate(p).message().find("temperature"), std::string::npos);
  p = {};
  p.top_p = 0;
  EXPECT_NE(Validate(p).message().find("top_p"), std::string::npos);
  p = {};
  p.repetition_penalty = 0.5;
  EXPECT_NE(Validate(p).message().find("repetition_penalty"), std::string::npos);
  p = {};
  p.max_tokens = 0;
  EXPECT_NE(Validate(p).message().find("max_tokens"), std::string::npos);
  p = {};
  p.stop = {""};
  EXPECT_FALSE(Validate(p).ok());
  EXPECT_TRUE(Validate(SamplingParams{}).ok());
}

TEST(StopChecker, EndTokenLimitAndStopSequences) {
  SamplingParams p;
  p.max_tokens = 3;
  p.stop = {"\nIMPRESSION"};
  StopChecker stop(p, /*eos=*/2);
  size_t cut = 0;
  EXPECT_FALSE(stop.Done(7, 1, "FINDINGS: clear.", &cut));
  EXPECT_TRUE(stop.Done(2, 2, "FINDINGS: clear.", &cut));
  EXPECT_EQ(cut, 16u);
  EXPECT_TRUE(stop.Done(7, 3, "FINDINGS", &cut));
  EXPECT_TRUE(stop.Done(7, 2, "FINDINGS: clear.\nIMPRESSION: none", &cut));
  EXPECT_EQ(cut, 16u) << "the stop sequence is not part of the answer";
}

}  // namespace
}  // namespace medscribe::engine
