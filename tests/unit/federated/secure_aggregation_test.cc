#include "federated/secure_aggregation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace medscribe::federated {
namespace {

constexpr double kScale = 1 << 16;

std::vector<float> RandomUpdate(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 0.05f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

struct Round {
  std::vector<MaskingClient> clients;
  std::map<int, std::string> keys;
};

Round StartRound(int64_t round, int n) {
  Round r;
  for (int id = 0; id < n; ++id) {
    r.clients.push_back(MaskingClient::Create(round, id).value());
    r.keys[id] = r.clients.back().public_key();
  }
  return r;
}

TEST(SecureAggregation, MasksCancelAndTheSumIsExact) {
  const size_t n = 10000;
  Round r = StartRound(1, 3);
  MaskedSum sum(n, {0, 1, 2});
  std::vector<uint32_t> expected(n, 0);
  std::vector<double> float_sum(n, 0);
  for (int id = 0; id < 3; ++id) {
    const std::vector<float> update = RandomUpdate(n, 10 + id);
    const std::vector<uint32_t> encoded = EncodeFixed(update, kScale);
    for (size_t i = 0; i < n; ++i) {
      expected[i] += encoded[i];
      float_sum[i] += update[i];
    }
    auto masked = r.clients[id].Mask(encoded, r.keys);
    ASSERT_TRUE(masked.ok()) << masked.status().message();
    ASSERT_TRUE(sum.Add(id, *masked).ok());
  }
  EXPECT_TRUE(sum.Dropped().empty());
  auto total = sum.Sum();
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(*total, expected) << "the masks cancel to the bit";
  const std::vector<double> decoded = DecodeFixed(*total, kScale);
  for (size_t i = 0; i < n; ++i) ASSERT_NEAR(decoded[i], float_sum[i], 1.5 / kScale) << i;
}

// What one client sends, alone, says nothing about its update: its words are uniform and
// uncorrelated with the encoded update.
TEST(SecureAggregation, AMaskedUpdateAloneIsUncorrelatedWithTheUpdate) {
  const size_t n = 100000;
  Round r = StartRound(2, 3);
  const std::vector<float> update = RandomUpdate(n, 3);
  const std::vector<uint32_t> encoded = EncodeFixed(update, kScale);
  const std::vector<uint32_t> masked = r.clients[1].Mask(encoded, r.keys).value();
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  size_t high = 0;
  for (size_t i = 0; i < n; ++i) {
    const double x = update[i], y = static_cast<int32_t>(masked[i]);
    sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    high += masked[i] >> 31;
  }
  const double cov = sxy / n - sx / n * sy / n;
  const double corr = cov / std::sqrt((sxx / n - sx * sx / n / n) * (syy / n - sy * sy / n / n));
  EXPECT_LT(std::abs(corr), 0.02) << "correlation " << corr;
  EXPECT_NEAR(static_cast<double>(high) / n, 0.5, 0.01) << "the top bit is a fair coin";
  // The update itself is far from uniform: its encodings sit near zero.
  size_t small = 0;
  for (uint32_t w : encoded) small += std::abs(static_cast<int32_t>(w)) < (1 << 16);
  EXPECT_GT(small, n * 9 / 10);
}

TEST(SecureAggregation, ADroppedClientsMasksAreRemovedFromTheSurvivorsSeeds) {
  const size_t n = 4096;
  Round r = StartRound(3, 4);
  MaskedSum sum(n, {0, 1, 2, 3});
  std::vector<uint32_t> expected(n, 0);
  std::vector<std::vector<uint32_t>> masked(4);
  for (int id = 0; id < 4; ++id) {
    const std::vector<uint32_t> encoded = EncodeFixed(RandomUpdate(n, 20 + id), kScale);
    masked[id] = r.clients[id].Mask(encoded, r.keys).value();
    if (id == 2) continue;  // client 2 published its key, masked, and never delivered
    for (size_t i = 0; i < n; ++i) expected[i] += encoded[i];
    ASSERT_TRUE(sum.Add(id, masked[id]).ok());
  }
  EXPECT_EQ(sum.Dropped(), (std::vector<int>{2}));
  EXPECT_EQ(sum.Sum().status().code(), ErrorCode::kFailedPrecondition);
  const std::vector<int> delivered = sum.Survivors();
  for (int s : delivered) {
    // A survivor never reveals its seed with another survivor.
    for (int other : delivered) {
      if (other != s) {
        EXPECT_FALSE(r.clients[s].RevealSeed(other, delivered).ok());
      }
    }
    auto seed = r.clients[s].RevealSeed(2, delivered);
    ASSERT_TRUE(seed.ok()) << seed.status().message();
    ASSERT_TRUE(sum.RemoveMask(s, 2, *seed).ok());
  }
  auto total = sum.Sum();
  ASSERT_TRUE(total.ok()) << total.status().message();
  EXPECT_EQ(*total, expected) << "the survivors' exact sum";
  EXPECT_FALSE(sum.RemoveMask(0, 2, std::string(32, 'x')).ok()) << "each mask is removed once";
}

TEST(SecureAggregation, BadInputsAreRefused) {
  Round r = StartRound(4, 2);
  MaskedSum sum(8, {0, 1});
  EXPECT_FALSE(sum.Add(5, std::vector<uint32_t>(8)).ok());
  EXPECT_FALSE(sum.Add(0, std::vector<uint32_t>(7)).ok());
  ASSERT_TRUE(sum.Add(0, std::vector<uint32_t>(8)).ok());
  EXPECT_FALSE(sum.Add(0, std::vector<uint32_t>(8)).ok());
  std::map<int, std::string> bad = r.keys;
  bad[1] = "short";
  EXPECT_EQ(r.clients[0].Mask(std::vector<uint32_t>(8), bad).status().code(),
            ErrorCode::kInvalidArgument);
  bad[1] = r.keys[0];  // our own key replayed as a peer's
  EXPECT_EQ(r.clients[0].Mask(std::vector<uint32_t>(8), bad).status().code(),
            ErrorCode::kInvalidArgument);
  // Fixed point clamps instead of wrapping.
  const std::vector<uint32_t> e = EncodeFixed({1e9f, -1e9f, NAN}, kScale);
  EXPECT_EQ(static_cast<int32_t>(e[0]), 2147483647);
  EXPECT_EQ(static_cast<int32_t>(e[1]), -2147483647);
  EXPECT_EQ(e[2], 0u);
}

}  // namespace
}  // namespace medscribe::federated
