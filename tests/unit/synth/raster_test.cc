#include "synth/raster.h"

#include <gtest/gtest.h>

namespace medscribe::synth {
namespace {

TEST(RasterTest, EllipseCoversItsInsideOnly) {
  Canvas c(100, 100);
  AddEllipse(c, 0.5, 0.5, 0.2, 0.1, 1.0, 1.0);
  EXPECT_FLOAT_EQ(c.at(50, 50), 1.0f);
  EXPECT_FLOAT_EQ(c.at(50, 35), 0.0f);  // beyond ry
  EXPECT_FLOAT_EQ(c.at(25, 50), 0.0f);  // beyond rx
  EXPECT_FLOAT_EQ(c.at(65, 50), 1.0f);
}

TEST(RasterTest, PolylineJointsDoNotDoubleUp) {
  Canvas c(100, 100);
  AddPolyline(c, {{0.2, 0.5}, {0.5, 0.5}, {0.5, 0.8}}, 0.02, 1.0);
  EXPECT_FLOAT_EQ(c.at(49, 49), 1.0f);  // the joint: max of two segments, not their sum
  EXPECT_FLOAT_EQ(c.at(35, 49), 1.0f);
  EXPECT_FLOAT_EQ(c.at(35, 40), 0.0f);
  float max = 0;
  for (float v : c.data()) max = std::max(max, v);
  EXPECT_FLOAT_EQ(max, 1.0f);
}

TEST(RasterTest, PolylineProfileBrightensEdges) {
  Canvas c(200, 200);
  AddPolyline(c, {{0.1, 0.5}, {0.9, 0.5}}, 0.03, 1.0, /*profile=*/0.8);
  EXPECT_LT(c.at(100, 99), c.at(100, 94));  // centre darker than near the wall
}

TEST(RasterTest, ValueNoiseIsSmoothBoundedAndSeeded) {
  ValueNoise a(1), b(1), other(2);
  for (double u = 0; u <= 1; u += 0.05) {
    EXPECT_GE(a.At(u, 0.3), 0.0);
    EXPECT_LE(a.At(u, 0.3), 1.0);
    EXPECT_EQ(a.At(u, 0.3), b.At(u, 0.3));
    EXPECT_LT(std::abs(a.At(u, 0.3) - a.At(u + 0.001, 0.3)), 0.02);
  }
  EXPECT_NE(a.At(0.37, 0.61), other.At(0.37, 0.61));
}

}  // namespace
}  // namespace medscribe::synth
