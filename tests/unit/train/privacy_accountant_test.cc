// The RDP accountant against values published with Google's dp_accounting library (its RDP
// accountant tests) and against closed forms.
#include "train/privacy_accountant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

namespace medscribe::train {
namespace {

// A_alpha = E_{z ~ N(0, sigma^2)} [(1 - q + q exp((2z - 1) / (2 sigma^2)))^alpha] by the
// trapezoid rule: the definition the series compute.
double LogAByIntegration(double q, double sigma, double alpha) {
  double sum = 0;
  const double h = 1e-3;
  for (double z = -40 * sigma; z < 40 * sigma; z += h) {
    const double density = std::exp(-z * z / (2 * sigma * sigma)) / (sigma * std::sqrt(2 * M_PI));
    sum += density * std::pow(1 - q + q * std::exp((2 * z - 1) / (2 * sigma * sigma)), alpha) * h;
  }
  return std::log(sum);
}

TEST(PrivacyAccountant, SampledGaussianRdpMatchesPublishedValues) {
  // q = 0.01, sigma = 2.5, 50 steps (dp_accounting: test_compute_rdp_poisson_sampled_gaussian);
  // fractional and integer orders take different series. (Its value at order 1.5,
  // 6.70579741e-4, lies above the integral of the definition, 6.5007e-4, which the fractional
  // series reaches: see the next test.)
  const std::vector<double> orders = {2.5, 5, 50, 100};
  const std::vector<double> expected = {1.08548710e-03, 2.18075656e-03, 2.38460375e-02,
                                        1.67416308e02};
  auto rdp = SampledGaussianRdp(0.01, 2.5, 50, orders);
  ASSERT_TRUE(rdp.ok()) << rdp.status().message();
  for (size_t k = 0; k < orders.size(); ++k)
    EXPECT_NEAR((*rdp)[k], expected[k], 1e-4 * expected[k]) << "order " << orders[k];
}

TEST(PrivacyAccountant, FractionalOrdersMatchTheIntegralOfTheDefinition) {
  for (const auto& [q, sigma, alpha] : {std::tuple{0.01, 2.5, 1.5}, std::tuple{0.01, 2.5, 2.5},
                                        std::tuple{0.1, 1.0, 3.7}, std::tuple{0.05, 0.8, 1.25}}) {
    auto rdp = SampledGaussianRdp(q, sigma, 1, {alpha});
    ASSERT_TRUE(rdp.ok());
    const double expected = LogAByIntegration(q, sigma, alpha) / (alpha - 1);
    EXPECT_NEAR((*rdp)[0], expected, 1e-4 * expected) << q << " " << sigma << " " << alpha;
  }
}

TEST(PrivacyAccountant, EpsilonFromRdpMatchesTheConversionByHand) {
  // A constant RDP curve (pure DP) over orders 2..32: epsilon 1.32783806176 at order 32.
  std::vector<double> orders, rdp;
  for (int a = 2; a <= 32; ++a) {
    orders.push_back(a);
    rdp.push_back(1.1);
  }
  auto spent = EpsilonFromRdp(orders, rdp, 1e-5);
  ASSERT_TRUE(spent.ok());
  EXPECT_NEAR(spent->epsilon, 1.32783806176, 1e-9);
  EXPECT_EQ(spent->order, 32);
}

TEST(PrivacyAccountant, TheGaussianMechanismWithoutSamplingGivesItsKnownEpsilon) {
  // sigma 4.530877117 without subsampling is exactly (1, 1e-6)-DP over orders 1.001..99.999.
  std::vector<double> orders;
  for (int k = 1001; k < 100000; ++k) orders.push_back(k / 1000.0);
  auto rdp = SampledGaussianRdp(1, 4.530877117, 1, orders);
  ASSERT_TRUE(rdp.ok());
  EXPECT_NEAR((*rdp)[0], 1.001 / (2 * 4.530877117 * 4.530877117), 1e-12);
  auto spent = EpsilonFromRdp(orders, *rdp, 1e-6);
  ASSERT_TRUE(spent.ok());
  EXPECT_NEAR(spent->epsilon, 1.0, 1e-4);
}

TEST(PrivacyAccountant, MoreNoiseFewerStepsOrRarerSamplesSpendLess) {
  const double base = DpSgdEpsilon(0.01, 1.0, 1000, 1e-5)->epsilon;
  EXPECT_GT(base, 0);
  EXPECT_LT(DpSgdEpsilon(0.01, 2.0, 1000, 1e-5)->epsilon, base);
  EXPECT_LT(DpSgdEpsilon(0.01, 1.0, 100, 1e-5)->epsilon, base);
  EXPECT_LT(DpSgdEpsilon(0.001, 1.0, 1000, 1e-5)->epsilon, base);
  EXPECT_EQ(DpSgdEpsilon(0, 1.0, 1000, 1e-5)->epsilon, 0);              // nothing sampled
  EXPECT_TRUE(std::isinf(DpSgdEpsilon(0.01, 0, 1000, 1e-5)->epsilon));  // no noise
}

TEST(PrivacyAccountant, TheNoiseForATargetEpsilonSpendsAtMostIt) {
  for (double target : {1.0, 3.0, 8.0}) {
    auto sigma = NoiseForEpsilon(0.01, 1000, target, 1e-5);
    ASSERT_TRUE(sigma.ok()) << sigma.status().message();
    EXPECT_LE(DpSgdEpsilon(0.01, *sigma, 1000, 1e-5)->epsilon, target);
    EXPECT_GT(DpSgdEpsilon(0.01, *sigma * 0.99, 1000, 1e-5)->epsilon, target) << target;
  }
}

TEST(PrivacyAccountant, ArgumentsOutOfRangeAreRefusedWithTheReason) {
  EXPECT_NE(SampledGaussianRdp(1.5, 1, 1, {2}).status().message().find("sampling rate"),
            std::string::npos);
  EXPECT_FALSE(SampledGaussianRdp(0.1, -1, 1, {2}).ok());
  EXPECT_FALSE(SampledGaussianRdp(0.1, 1, 1, {1.0}).ok());
  EXPECT_NE(EpsilonFromRdp({2}, {1}, 0).status().message().find("delta"), std::string::npos);
  EXPECT_FALSE(NoiseForEpsilon(1, 1000000, 0.01, 1e-5).ok());
}

}  // namespace
}  // namespace medscribe::train
