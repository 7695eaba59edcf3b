#include "monitor/drift.h"

#include <gtest/gtest.h>

#include <cmath>

namespace medscribe::monitor {
namespace {

FeatureHistogram Categories(std::map<std::string, double> counts) {
  FeatureHistogram h;
  h.counts = std::move(counts);
  return h;
}

TEST(Drift, PsiAndJensenShannonMatchTheirDefinitions) {
  const FeatureHistogram r = Categories({{"ED", 50}, {"ICU", 50}});
  const FeatureHistogram c = Categories({{"ED", 90}, {"ICU", 10}});
  // (0.9 - 0.5) ln(0.9 / 0.5) + (0.1 - 0.5) ln(0.1 / 0.5)
  EXPECT_NEAR(Psi(r, c), 0.4 * std::log(1.8) + 0.4 * std::log(5.0), 1e-9);
  const double m1 = 0.7, m2 = 0.3;
  const double js = 0.5 * (0.5 * std::log2(0.5 / m1) + 0.5 * std::log2(0.5 / m2)) +
                    0.5 * (0.9 * std::log2(0.9 / m1) + 0.1 * std::log2(0.1 / m2));
  EXPECT_NEAR(JensenShannon(r, c), js, 1e-9);
  EXPECT_NEAR(Psi(r, r), 0, 1e-12);
  EXPECT_NEAR(JensenShannon(r, r), 0, 1e-12);
  // A category the reference never saw counts as rare (share 1e-4), not impossible.
  const FeatureHistogram n = Categories({{"ED", 50}, {"ICU", 40}, {"ONCOLOGY", 10}});
  EXPECT_TRUE(std::isfinite(Psi(r, n)));
  EXPECT_GT(Psi(r, n), 0.1);
  // Disjoint supports: JS is at its maximum of 1 bit (up to the floor).
  EXPECT_NEAR(JensenShannon(Categories({{"a", 1}}), Categories({{"b", 1}})), 1.0, 2e-3);
}

TEST(Drift, NumericFeaturesAreBinnedAtTheReferencesQuantiles) {
  ProfileBuilder ref_builder;
  for (int i = 0; i < 1000; ++i) ref_builder.AddNumber("lab:2160-0", i / 1000.0);
  const Profile ref = ref_builder.Build();
  const FeatureHistogram& h = ref.features.at("lab:2160-0");
  EXPECT_TRUE(h.numeric);
  EXPECT_EQ(h.edges.size(), 9u);
  for (const auto& [bin, n] : h.counts) EXPECT_NEAR(n, 100, 1) << bin;
  // The same distribution: no drift; shifted by a fifth of its range: PSI well above 0.25.
  ProfileBuilder same(&ref), shifted(&ref);
  for (int i = 0; i < 1000; ++i) {
    same.AddNumber("lab:2160-0", (i + 0.5) / 1000.0);
    shifted.AddNumber("lab:2160-0", 0.2 + i / 1000.0);
  }
  const Thresholds t;
  const auto stable = Compare(ref, same.Build(), t);
  ASSERT_EQ(stable.size(), 1u);
  EXPECT_LT(stable[0].psi, 0.01);
  EXPECT_FALSE(stable[0].alert);
  const auto moved = Compare(ref, shifted.Build(), t);
  EXPECT_GT(moved[0].psi, 0.25);
  EXPECT_TRUE(moved[0].alert);
  EXPECT_EQ(shifted.Build().features.at("lab:2160-0").edges, h.edges);
}

TEST(Drift, FewValuesAreReportedButNeverAlertedOn) {
  Profile ref, cur;
  ref.features["department"] = Categories({{"ED", 100}});
  cur.features["department"] = Categories({{"ICU", 10}});
  Thresholds t;
  t.min_count = 30;
  const auto rows = Compare(ref, cur, t);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_GT(rows[0].psi, 1);
  EXPECT_FALSE(rows[0].alert);
  t.min_count = 5;
  EXPECT_TRUE(Compare(ref, cur, t)[0].alert);
}

TEST(Drift, ProfilesRoundTripThroughJsonAndMetricsAreEscaped) {
  ProfileBuilder b;
  b.AddCategory("device_model", "HX-Flex");
  b.AddCategory("device_model", "Orion CR-7");
  for (int i = 0; i < 50; ++i) b.AddNumber("image_mean", i * 0.01);
  const Profile p = b.Build();
  auto back = ProfileFromJson(ToJson(p));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->features.at("device_model").counts, p.features.at("device_model").counts);
  EXPECT_EQ(back->features.at("image_mean").edges, p.features.at("image_mean").edges);
  EXPECT_TRUE(back->features.at("image_mean").numeric);
  EXPECT_FALSE(ProfileFromJson("{}").ok());
  EXPECT_FALSE(
      ProfileFromJson(R"({"format":"medscribe-profile","features":{"x":{"counts":{"a":"b"}}}})")
          .ok());
  FeatureDrift d;
  d.feature = "odd\"name";
  d.psi = 0.5;
  d.alert = true;
  const std::string text = PrometheusText({d});
  EXPECT_NE(text.find("medscribe_drift_psi{feature=\"odd\\\"name\"} 0.5"), std::string::npos)
      << text;
  EXPECT_NE(text.find("medscribe_drift_alert{feature=\"odd\\\"name\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::monitor
