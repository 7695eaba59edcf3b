#include "synth/raster.h"

#include "common/rng.h"

namespace medscribe::synth {
namespace {

double SegmentDistance(Pt p, Pt a, Pt b, double aspect) {
  // Distance in units of image width (v scaled by height/width).
  const double ax = a.u, ay = a.v * aspect, bx = b.u, by = b.v * aspect, px = p.u,
               py = p.v * aspect;
  const double dx = bx - ax, dy = by - ay;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  const double ex = ax + t * dx - px, ey = ay + t * dy - py;
  return std::sqrt(ex * ex + ey * ey);
}

}  // namespace

void AddEllipse(Canvas& c, double cx, double cy, double rx, double ry, double density,
                double edge_px, const Canvas* mask, double angle) {
  int x0, y0, x1, y1;
  const double r = std::max(rx, ry) * 1.05;
  c.Box(cx - r, cy - r, cx + r, cy + r, x0, y0, x1, y1);
  const double e = edge_px / (std::min(rx, ry) * c.w());
  const double ca = std::cos(angle), sa = std::sin(angle);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const double du = c.U(x) - cx, dv = c.V(y) - cy;
      const double a = (du * ca + dv * sa) / rx, b = (-du * sa + dv * ca) / ry;
      const double cov = Smoothstep(1 + e, 1 - e, std::sqrt(a * a + b * b));
      if (cov <= 0) continue;
      c.at(x, y) += static_cast<float>(density * cov * (mask ? mask->at(x, y) : 1.0f));
    }
  }
}

// Each segment visits only its own bounding box, keeping the nearest distance per pixel.
void AddPolyline(Canvas& c, const std::vector<Pt>& pts, double half_width, double density,
                 double profile, const Canvas* mask) {
  if (pts.size() < 2) return;
  double u0 = 1e9, v0 = 1e9, u1 = -1e9, v1 = -1e9;
  for (const Pt& p : pts) {
    u0 = std::min(u0, p.u), v0 = std::min(v0, p.v), u1 = std::max(u1, p.u), v1 = std::max(v1, p.v);
  }
  const double aspect = static_cast<double>(c.h()) / c.w();
  const double edge = 0.8 / c.w();
  const double reach = half_width + edge;
  int x0, y0, x1, y1;
  c.Box(u0 - reach, v0 - reach / aspect, u1 + reach, v1 + reach / aspect, x0, y0, x1, y1);
  if (x1 <= x0 || y1 <= y0) return;
  const int bw = x1 - x0;
  std::vector<float> nearest(static_cast<size_t>(bw) * (y1 - y0), 1e9f);
  for (size_t i = 0; i + 1 < pts.size(); ++i) {
    int sx0, sy0, sx1, sy1;
    c.Box(std::min(pts[i].u, pts[i + 1].u) - reach,
          std::min(pts[i].v, pts[i + 1].v) - reach / aspect,
          std::max(pts[i].u, pts[i + 1].u) + reach,
          std::max(pts[i].v, pts[i + 1].v) + reach / aspect, sx0, sy0, sx1, sy1);
    for (int y = std::max(sy0, y0); y < std::min(sy1, y1); ++y) {
      for (int x = std::max(sx0, x0); x < std::min(sx1, x1); ++x) {
        float& d = nearest[static_cast<size_t>(y - y0) * bw + (x - x0)];
        d = std::min(
            d, static_cast<float>(SegmentDistance({c.U(x), c.V(y)}, pts[i], pts[i + 1], aspect)));
      }
    }
  }
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const double best = nearest[static_cast<size_t>(y - y0) * bw + (x - x0)];
      if (best > reach) continue;
      double cov = Smoothstep(reach, half_width - edge, best);
      if (profile > 0) {
        const double r = best / half_width;
        cov *= 1.0 - profile + profile * r * r;
      }
      c.at(x, y) += static_cast<float>(density * cov * (mask ? mask->at(x, y) : 1.0f));
    }
  }
}

ValueNoise::ValueNoise(uint64_t seed, int n) : n_(n), g_(static_cast<size_t>(n) * n) {
  Rng rng(seed);
  for (auto& v : g_) v = rng.Uniform();
}

double ValueNoise::At(double u, double v) const {
  const double x = std::clamp(u, 0.0, 1.0) * (n_ - 1), y = std::clamp(v, 0.0, 1.0) * (n_ - 1);
  const int ix = std::min(static_cast<int>(x), n_ - 2), iy = std::min(static_cast<int>(y), n_ - 2);
  const double fx = Smoothstep(0, 1, x - ix), fy = Smoothstep(0, 1, y - iy);
  auto g = [&](int a, int b) { return g_[static_cast<size_t>(b) * n_ + a]; };
  return (g(ix, iy) * (1 - fx) + g(ix + 1, iy) * fx) * (1 - fy) +
         (g(ix, iy + 1) * (1 - fx) + g(ix + 1, iy + 1) * fx) * fy;
}

}  // namespace medscribe::synth
