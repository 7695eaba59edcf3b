// Raster primitives for the radiograph renderer: a density canvas addressed in normalized
// coordinates, soft-edged ellipses and thick polylines, and smooth value noise. Internal to
// src/synth.
//
// Thread safety: a Canvas is a plain value; use one per thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace medscribe::synth {

struct Pt {
  double u, v;
};

inline double Smoothstep(double e0, double e1, double x) {
  double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

// A density buffer in image pixels, addressed with normalized coordinates.
class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), d_(static_cast<size_t>(w) * h, 0.0f) {}
  int w() const { return w_; }
  int h() const { return h_; }
  double U(int x) const { return (x + 0.5) / w_; }
  double V(int y) const { return (y + 0.5) / h_; }
  float& at(int x, int y) { return d_[static_cast<size_t>(y) * w_ + x]; }
  float at(int x, int y) const { return d_[static_cast<size_t>(y) * w_ + x]; }
  std::vector<float>& data() { return d_; }
  // Pixel bounding box of a normalized box, clamped to the image.
  void Box(double u0, double v0, double u1, double v1, int& x0, int& y0, int& x1, int& y1) const {
    x0 = std::clamp(static_cast<int>(std::floor(u0 * w_)) - 1, 0, w_);
    x1 = std::clamp(static_cast<int>(std::ceil(u1 * w_)) + 1, 0, w_);
    y0 = std::clamp(static_cast<int>(std::floor(v0 * h_)) - 1, 0, h_);
    y1 = std::clamp(static_cast<int>(std::ceil(v1 * h_)) + 1, 0, h_);
  }

 private:
  int w_, h_;
  std::vector<float> d_;
};

// Adds density * coverage of a soft ellipse (edge `edge_px` pixels wide, rotated by `angle`
// radians), multiplied by `mask` where one is given.
void AddEllipse(Canvas& c, double cx, double cy, double rx, double ry, double density,
                double edge_px, const Canvas* mask = nullptr, double angle = 0);

// Adds a thick polyline of half width `half_width` (normalized to the image width). Coverage is
// the maximum over its segments, so joints do not double up. `profile` shapes the cross-section:
// 0 = flat, > 0 brighter edges (bone cortex, tube walls).
void AddPolyline(Canvas& c, const std::vector<Pt>& pts, double half_width, double density,
                 double profile = 0, const Canvas* mask = nullptr);

// Smooth value noise in [0, 1] over a coarse lattice, for patchy opacities.
class ValueNoise {
 public:
  explicit ValueNoise(uint64_t seed, int n = 16);
  double At(double u, double v) const;

 private:
  int n_;
  std::vector<double> g_;
};

}  // namespace medscribe::synth
