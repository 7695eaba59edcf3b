// Every finding is visible at the size the model is given: rendered at its mildest (smallest)
// on the widest field of view (430 mm at 512 px, 0.84 mm per pixel), reduced to 256 px as ingest
// does, it changes enough pixels by clearly more than the detector noise.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "synth/render.h"

namespace medscribe::synth {
namespace {

constexpr int kNative = 512, kModel = 256;
// The noisiest device profile's noise (0.02 of full scale) halves when 2x2 pixels are averaged;
// a change counts as visible at 5 times that.
constexpr double kVisible = 0.05;

std::vector<float> At256(const std::vector<Finding>& fs, double ctr = 0.45) {
  RenderSpec s;
  s.width = s.height = kNative;
  s.pixel_spacing_mm = 430.0 / kNative;
  s.anatomy.texture_seed = 5;
  s.anatomy.ctr = ctr;
  s.findings = fs;
  const std::vector<float> full = RenderChest(s);
  std::vector<float> out(static_cast<size_t>(kModel) * kModel);
  for (int y = 0; y < kModel; ++y)
    for (int x = 0; x < kModel; ++x) {
      float sum = 0;
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx)
          sum += full[static_cast<size_t>(2 * y + dy) * kNative + 2 * x + dx];
      out[static_cast<size_t>(y) * kModel + x] = sum / 4;
    }
  return out;
}

struct Case {
  const char* name;
  Finding finding;
  int min_pixels;  // pixels at 256 px that must change by kVisible or more
};

TEST(VisibilityTest, EveryFindingAtItsMildestChangesPixelsAt256) {
  const Anatomy a;
  auto placed = [&](Finding f) {
    PlaceFinding(a, f, 0.3, -0.2);
    return f;
  };
  Finding ptx{FindingType::kPneumothorax, Side::kRight, Zone::kUpper, Severity::kMild};
  ptx.size_mm = 12;
  Finding nodule{FindingType::kNodule, Side::kLeft, Zone::kUpper};
  nodule.size_mm = 8;
  Finding mass{FindingType::kMass, Side::kRight, Zone::kMiddle};
  mass.size_mm = 32;
  Finding rib{FindingType::kRibFracture, Side::kLeft};
  rib.rib = 6;
  const Case cases[] = {
      {"pleural effusion (mild)",
       {FindingType::kPleuralEffusion, Side::kRight, Zone::kLower, Severity::kMild},
       200},
      {"consolidation (mild)",
       placed({FindingType::kConsolidation, Side::kLeft, Zone::kLower, Severity::kMild}), 100},
      {"edema (mild)", {FindingType::kEdema, Side::kBilateral, Zone::kNone, Severity::kMild}, 40},
      {"pneumothorax (mild, 12 mm)", ptx, 40},
      {"nodule (8 mm)", placed(nodule), 6},
      {"mass (32 mm)", placed(mass), 100},
      {"atelectasis (mild)",
       {FindingType::kAtelectasis, Side::kRight, Zone::kLower, Severity::kMild},
       30},
      {"rib fracture", rib, 6},
      {"endotracheal tube", {FindingType::kEndotrachealTube}, 30},
      {"central line", {FindingType::kCentralLine, Side::kRight}, 30},
      {"pacemaker", {FindingType::kPacemaker, Side::kLeft}, 30},
      {"chest tube", {FindingType::kChestTube, Side::kRight}, 30},
  };
  const std::vector<float> normal = At256({});
  std::printf("%-28s %8s %8s\n", "finding at 256 px", "pixels", "max diff");
  for (const Case& c : cases) {
    const std::vector<float> with = At256({c.finding});
    int changed = 0;
    double most = 0;
    for (size_t i = 0; i < normal.size(); ++i) {
      const double d = std::abs(with[i] - normal[i]);
      changed += d >= kVisible;
      most = std::max(most, d);
    }
    std::printf("%-28s %8d %8.3f\n", c.name, changed, most);
    EXPECT_GE(changed, c.min_pixels) << c.name;
  }
  // Mild cardiomegaly (ratio 0.54) against the largest normal heart (0.48).
  const std::vector<float> big = At256({}, 0.54), large_normal = At256({}, 0.48);
  int changed = 0;
  for (size_t i = 0; i < big.size(); ++i) changed += std::abs(big[i] - large_normal[i]) >= kVisible;
  std::printf("%-28s %8d\n", "cardiomegaly (0.54 vs 0.48)", changed);
  EXPECT_GE(changed, 100);
}

}  // namespace
}  // namespace medscribe::synth
