#include "synth/render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace medscribe::synth {
namespace {

constexpr int kSize = 256;

RenderSpec BaseSpec() {
  RenderSpec s;
  s.width = s.height = kSize;
  s.pixel_spacing_mm = 430.0 / kSize;
  s.anatomy.texture_seed = 11;
  return s;
}

// Mean brightness over the normalized box [u0,u1] x [v0,v1].
double Mean(const std::vector<float>& img, double u0, double v0, double u1, double v1) {
  double sum = 0;
  int n = 0;
  for (int y = static_cast<int>(v0 * kSize); y < static_cast<int>(v1 * kSize); ++y)
    for (int x = static_cast<int>(u0 * kSize); x < static_cast<int>(u1 * kSize); ++x, ++n)
      sum += img[static_cast<size_t>(y) * kSize + x];
  return n ? sum / n : 0;
}

double MeanDisk(const std::vector<float>& img, double u, double v, double r) {
  double sum = 0;
  int n = 0;
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      const double du = (x + 0.5) / kSize - u, dv = (y + 0.5) / kSize - v;
      if (du * du + dv * dv <= r * r) sum += img[static_cast<size_t>(y) * kSize + x], ++n;
    }
  return sum / n;
}

std::vector<float> RenderWith(const std::vector<Finding>& fs, double ctr = 0.45) {
  RenderSpec s = BaseSpec();
  s.findings = fs;
  s.anatomy.ctr = ctr;
  return RenderChest(s);
}

TEST(RenderTest, DeterministicAndInRange) {
  const auto a = RenderWith({}), b = RenderWith({});
  EXPECT_EQ(a, b);
  EXPECT_GE(*std::min_element(a.begin(), a.end()), 0.0f);
  EXPECT_LE(*std::max_element(a.begin(), a.end()), 1.0f);
  // Lungs are darker than the mediastinum and the subdiaphragmatic soft tissue.
  const LungGeometry r = LungFor(Anatomy{}, Side::kRight, {});
  EXPECT_LT(Mean(a, r.cx - 0.03, 0.35, r.cx + 0.03, 0.45) + 0.15, Mean(a, 0.3, 0.85, 0.4, 0.9));
}

TEST(RenderTest, RightEffusionBrightensOnlyTheRightBase) {
  const auto base = RenderWith({});
  const auto eff = RenderWith(
      {{FindingType::kPleuralEffusion, Side::kRight, Zone::kLower, Severity::kModerate}});
  const LungGeometry r = LungFor(Anatomy{}, Side::kRight, {}),
                     l = LungFor(Anatomy{}, Side::kLeft, {});
  const double dr = Mean(eff, r.cx - 0.05, r.dome_v - 0.07, r.cx + 0.05, r.dome_v - 0.01) -
                    Mean(base, r.cx - 0.05, r.dome_v - 0.07, r.cx + 0.05, r.dome_v - 0.01);
  const double dl = Mean(eff, l.cx - 0.05, l.dome_v - 0.07, l.cx + 0.05, l.dome_v - 0.01) -
                    Mean(base, l.cx - 0.05, l.dome_v - 0.07, l.cx + 0.05, l.dome_v - 0.01);
  EXPECT_GT(dr, 0.08);
  EXPECT_LT(std::abs(dl), 1e-6);
  // The upper right lung is untouched by a moderate effusion.
  EXPECT_LT(std::abs(Mean(eff, r.cx - 0.03, 0.2, r.cx + 0.03, 0.3) -
                     Mean(base, r.cx - 0.03, 0.2, r.cx + 0.03, 0.3)),
            1e-6);
}

TEST(RenderTest, ConsolidationAndNoduleAppearWhereTheyArePlaced) {
  Finding c{FindingType::kConsolidation, Side::kLeft, Zone::kMiddle, Severity::kModerate};
  PlaceFinding(Anatomy{}, c, 0, 0);
  EXPECT_GT(c.u, 0.5);  // patient's left is on the image's right
  Finding n{FindingType::kNodule, Side::kRight, Zone::kUpper, Severity::kNone, 20};
  PlaceFinding(Anatomy{}, n, 0, 0);
  EXPECT_LT(n.u, 0.5);
  EXPECT_LT(n.v, 0.35);
  const auto base = RenderWith({});
  const auto img = RenderWith({c, n});
  EXPECT_GT(MeanDisk(img, c.u, c.v, 0.03) - MeanDisk(base, c.u, c.v, 0.03), 0.1);
  EXPECT_GT(MeanDisk(img, n.u, n.v, 0.01) - MeanDisk(base, n.u, n.v, 0.01), 0.1);
  // 20 mm nodule: nothing changes 25 mm from its centre (outside the consolidation).
  const double off = 25.0 / 430.0;
  EXPECT_LT(std::abs(MeanDisk(img, n.u, n.v + off, 0.005) - MeanDisk(base, n.u, n.v + off, 0.005)),
            1e-6);
}

TEST(RenderTest, PneumothoraxDarkensThePeripheryOfItsSideOnly) {
  const auto base = RenderWith({});
  const auto ptx =
      RenderWith({{FindingType::kPneumothorax, Side::kLeft, Zone::kUpper, Severity::kSevere}});
  const LungGeometry l = LungFor(Anatomy{}, Side::kLeft, {}),
                     r = LungFor(Anatomy{}, Side::kRight, {});
  // Lateral periphery of the left lung at mid height.
  const double u = l.cx + 0.85 * l.rx;
  EXPECT_LT(Mean(ptx, u - 0.01, 0.4, u + 0.01, 0.5),
            Mean(base, u - 0.01, 0.4, u + 0.01, 0.5) - 0.03);
  const double ur = r.cx - 0.85 * r.rx;
  EXPECT_LT(std::abs(Mean(ptx, ur - 0.01, 0.4, ur + 0.01, 0.5) -
                     Mean(base, ur - 0.01, 0.4, ur + 0.01, 0.5)),
            1e-6);
}

TEST(RenderTest, CardiomegalyWidensTheHeart) {
  const auto normal = RenderWith({}, 0.42);
  const auto big = RenderWith({{FindingType::kCardiomegaly}}, 0.65);
  // Just beyond the normal heart's left border (image right), at heart height.
  const double u = 0.5 + 0.5 * 0.65 * 0.74 * 0.95, v = 0.70 - 0.075;
  EXPECT_GT(MeanDisk(big, u, v, 0.015) - MeanDisk(normal, u, v, 0.015), 0.1);
}

TEST(RenderTest, SupportDevicesAreRadiopaque) {
  const auto base = RenderWith({});
  const auto ett = RenderWith({{FindingType::kEndotrachealTube}});
  EXPECT_GT(Mean(ett, 0.49, 0.12, 0.51, 0.2), Mean(base, 0.49, 0.12, 0.51, 0.2) + 0.02);
  const auto pacer = RenderWith({{FindingType::kPacemaker, Side::kLeft}});
  float max_diff = 0;
  for (size_t i = 0; i < base.size(); ++i) max_diff = std::max(max_diff, pacer[i] - base[i]);
  EXPECT_GT(max_diff, 0.2f);
}

TEST(RenderTest, RibFractureChangesOnlyItsSide) {
  const auto base = RenderWith({});
  Finding fx{FindingType::kRibFracture, Side::kRight};
  fx.rib = 6;
  const auto img = RenderWith({fx});
  double left = 0, right = 0;
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      const double d = std::abs(img[static_cast<size_t>(y) * kSize + x] -
                                base[static_cast<size_t>(y) * kSize + x]);
      (x < kSize / 2 ? right : left) += d;
    }
  EXPECT_GT(right, 1.0);
  EXPECT_EQ(left, 0.0);
}

TEST(RenderTest, EveryFindingTypeRenders) {
  for (int t = 0; t < kNumFindingTypes; ++t) {
    Finding f{static_cast<FindingType>(t), Side::kRight, Zone::kLower, Severity::kSevere, 30};
    f.rib = 4;
    PlaceFinding(Anatomy{}, f, 0.5, -0.5);
    const auto img = RenderWith({f});
    for (float v : img) ASSERT_TRUE(v >= 0 && v <= 1) << FindingName(f.type);
  }
}

}  // namespace
}  // namespace medscribe::synth
