#include "synth/render.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/rng.h"
#include "synth/raster.h"

namespace medscribe::synth {
namespace {

constexpr double kPi = std::numbers::pi;

double ThoraxHalfWidth(const Anatomy& a) { return 0.37 * a.habitus; }

const Finding* FindFinding(const std::vector<Finding>& fs, FindingType t, Side side = Side::kNone) {
  for (const Finding& f : fs) {
    if (f.type != t) continue;
    if (side == Side::kNone || f.side == side || f.side == Side::kBilateral) return &f;
  }
  return nullptr;
}

double SeverityScale(Severity s) {
  switch (s) {
    case Severity::kMild:
      return 1.0;
    case Severity::kModerate:
      return 2.0;
    case Severity::kSevere:
      return 3.0;
    case Severity::kNone:
      break;
  }
  return 1.0;
}

// Lung coverage mask (soft-edged) for one lung.
Canvas LungMask(const Canvas& like, const LungGeometry& g) {
  Canvas m(like.w(), like.h());
  const double e = 1.5 / like.w();
  for (int y = 0; y < m.h(); ++y) {
    const double v = m.V(y);
    for (int x = 0; x < m.w(); ++x) {
      const double u = m.U(x);
      const double r = g.Radius(u, v);
      if (r > 1.1) continue;
      const double cov = Smoothstep(1 + e / g.rx, 1 - e / g.rx, r) *
                         Smoothstep(g.Diaphragm(u) + e, g.Diaphragm(u) - e, v);
      m.at(x, y) = static_cast<float>(cov);
    }
  }
  return m;
}

void DrawVesselTree(Canvas& c, Rng& rng, Pt start, double angle, double length, double width,
                    int depth) {
  const Pt end{start.u + length * std::cos(angle), start.v + length * std::sin(angle)};
  AddPolyline(c, {start, end}, width, 0.10 + 1.6 * width);
  if (depth == 0) return;
  const double spread = rng.Uniform(0.25, 0.55);
  DrawVesselTree(c, rng, end, angle - spread, length * rng.Uniform(0.62, 0.8), width * 0.72,
                 depth - 1);
  DrawVesselTree(c, rng, end, angle + spread, length * rng.Uniform(0.62, 0.8), width * 0.72,
                 depth - 1);
}

}  // namespace

double LungGeometry::Radius(double u, double v) const {
  const double a = (u - cx) / rx, b = (v - cy) / ry;
  return std::sqrt(a * a + b * b);
}

double LungGeometry::Diaphragm(double u) const {
  const double t = (u - cx) / rx;
  return dome_v + 0.06 * t * t;
}

LungGeometry LungFor(const Anatomy& a, Side side, const std::vector<Finding>& findings) {
  const double tw = ThoraxHalfWidth(a);
  const double sgn = side == Side::kLeft ? 1.0 : -1.0;  // patient's left lung is on image right
  LungGeometry g{};
  g.cx = 0.5 + sgn * 0.52 * tw;
  g.cy = side == Side::kLeft ? 0.465 : 0.455;
  g.rx = 0.41 * tw;
  g.ry = 0.35;
  g.dome_v = a.diaphragm + (side == Side::kLeft ? 0.025 : 0.0);
  if (const Finding* f = FindFinding(findings, FindingType::kAtelectasis, side);
      f && f->severity == Severity::kSevere && f->side != Side::kBilateral) {
    g.dome_v -= 0.035;  // volume loss elevates the hemidiaphragm
  }
  return g;
}

void PlaceFinding(const Anatomy& a, Finding& f, double jitter_u, double jitter_v) {
  Side side = f.side == Side::kBilateral ? Side::kRight : f.side;
  if (side == Side::kNone) return;
  const LungGeometry g = LungFor(a, side, {});
  double v = 0.41;
  if (f.zone == Zone::kUpper) v = 0.25;
  if (f.zone == Zone::kLower) v = g.dome_v - 0.11;
  v += 0.035 * jitter_v;
  // Lateral position: stay within the lung at this height, away from the mediastinum.
  const double half = g.rx * std::sqrt(std::max(0.0, 1 - std::pow((v - g.cy) / g.ry, 2)));
  double u = g.cx + (side == Side::kLeft ? 0.12 : -0.12) * g.rx + 0.4 * half * jitter_u;
  f.u = u;
  f.v = v;
}

std::vector<float> RenderChest(const RenderSpec& spec) {
  const Anatomy& a = spec.anatomy;
  const auto& fs = spec.findings;
  Canvas c(spec.width, spec.height);
  Rng rng(a.texture_seed);
  const double tw = ThoraxHalfWidth(a);
  const double cx = 0.5;
  const double px = 1.0 / spec.width;                            // one pixel, normalized
  const double mm = 1.0 / (spec.pixel_spacing_mm * spec.width);  // one millimetre, normalized

  // Body: soft tissue with a chord-length profile (thinner at the edges); neck and shoulders.
  for (int y = 0; y < c.h(); ++y) {
    const double v = c.V(y);
    const double shoulders = Smoothstep(0.04, 0.17, v);
    const double hw = 0.10 + shoulders * (tw + 0.09 - 0.10) - 0.03 * Smoothstep(0.85, 1.0, v);
    for (int x = 0; x < c.w(); ++x) {
      const double du = std::abs(c.U(x) - cx) / hw;
      if (du >= 1.02) continue;
      const double chord = std::sqrt(std::max(0.0, 1 - du * du));
      c.at(x, y) += static_cast<float>(Smoothstep(1.02, 0.98, du) * (0.35 + 0.75 * chord));
    }
  }

  // Lungs: air removes density; thicker (darker) in the middle of each lung.
  const LungGeometry right = LungFor(a, Side::kRight, fs), left = LungFor(a, Side::kLeft, fs);
  Canvas mask_r = LungMask(c, right), mask_l = LungMask(c, left);
  for (int y = 0; y < c.h(); ++y) {
    for (int x = 0; x < c.w(); ++x) {
      const double u = c.U(x), v = c.V(y);
      const float m = std::max(mask_r.at(x, y), mask_l.at(x, y));
      if (m <= 0) continue;
      const LungGeometry& g = mask_r.at(x, y) > 0 ? right : left;
      const double r = std::min(1.0, g.Radius(u, v));
      c.at(x, y) -= static_cast<float>(m * (0.55 + 0.22 * std::sqrt(1 - r * r)));
    }
  }

  // Pneumothorax: the lung collapses towards its hilum; the space outside has no markings.
  Canvas collapsed_r = mask_r, collapsed_l = mask_l;
  for (Side side : {Side::kRight, Side::kLeft}) {
    const Finding* f = FindFinding(fs, FindingType::kPneumothorax, side);
    if (!f) continue;
    const LungGeometry& g = side == Side::kRight ? right : left;
    Canvas& mask = side == Side::kRight ? mask_r : mask_l;
    Canvas& col = side == Side::kRight ? collapsed_r : collapsed_l;
    const double s = 1.0 - 0.09 * SeverityScale(f->severity) - 0.02;  // lung size after collapse
    const Pt hilum{g.cx + (side == Side::kRight ? 0.55 : -0.55) * g.rx, g.cy + 0.08};
    for (int y = 0; y < c.h(); ++y) {
      for (int x = 0; x < c.w(); ++x) {
        const float m = mask.at(x, y);
        if (m <= 0) continue;
        const double u = hilum.u + (c.U(x) - hilum.u) / s, v = hilum.v + (c.V(y) - hilum.v) / s;
        const double r = g.Radius(u, v);
        const bool above_dome = v < g.Diaphragm(u);
        double inside = Smoothstep(1 + 1.2 * px / g.rx, 1 - 1.2 * px / g.rx, r);
        if (!above_dome) inside = 1.0;  // the collapsed lung stays on the diaphragm
        col.at(x, y) = static_cast<float>(m * inside);
        // Air without lung tissue: clearly darker than aerated lung.
        c.at(x, y) -= static_cast<float>(0.32 * m * (1 - inside));
        // The visceral pleural line along the collapsed lung's edge, about 2.5 mm wide (FWHM),
        // so that it survives resizing to 256 px (1.7 mm per pixel).
        if (above_dome) {
          const double d = (r - 1) * g.rx * s / mm;  // distance in mm
          c.at(x, y) += static_cast<float>(0.3 * m * std::exp(-d * d / 2.2));
        }
      }
    }
  }

  // Pulmonary vessels, clipped to aerated lung; edema makes them more prominent.
  {
    Canvas vessels(c.w(), c.h());
    const Finding* edema = FindFinding(fs, FindingType::kEdema);
    for (const LungGeometry* g : {&right, &left}) {
      const bool is_right = g == &right;
      const Pt hilum{g->cx + (is_right ? 0.55 : -0.55) * g->rx, g->cy + 0.05};
      for (int k = 0; k < 8; ++k) {
        const double base = is_right ? kPi : 0.0;  // point laterally
        double ang = base + (is_right ? 1 : -1) * (-1.25 + 2.5 * (k + rng.Uniform(0.1, 0.9)) / 8);
        DrawVesselTree(vessels, rng, hilum, ang, rng.Uniform(0.07, 0.1), 0.0045, 4);
      }
    }
    const double boost = edema ? 1.0 + 0.25 * SeverityScale(edema->severity) : 1.0;
    for (int y = 0; y < c.h(); ++y) {
      for (int x = 0; x < c.w(); ++x) {
        const float m = std::max(collapsed_r.at(x, y), collapsed_l.at(x, y));
        c.at(x, y) += static_cast<float>(0.45 * boost * m * std::min(vessels.at(x, y), 0.6f));
      }
    }
  }

  // Mediastinum, trachea, aortic knob, heart, spine.
  for (int y = 0; y < c.h(); ++y) {
    const double v = c.V(y);
    if (v > 0.70) break;
    const double hw = 0.045 + 0.03 * v;
    const double vert = Smoothstep(0.02, 0.06, v);
    for (int x = 0; x < c.w(); ++x) {
      const double du = std::abs(c.U(x) - cx - 0.005);
      c.at(x, y) += static_cast<float>(0.32 * vert * Smoothstep(hw + 2 * px, hw - 2 * px, du));
      const double tr = 0.013 + 0.004 * (1 - v);
      if (v < 0.33) {
        c.at(x, y) -=
            static_cast<float>(0.28 * Smoothstep(tr + px, tr - px, du) * Smoothstep(0.33, 0.30, v));
      }
    }
  }
  AddEllipse(c, cx + 0.06, 0.28, 0.035, 0.03, 0.35, 2);
  {
    const double heart_w = a.ctr * 2 * tw * (a.ap_view ? 1.08 : 1.0);
    AddEllipse(c, cx + 0.14 * heart_w, a.diaphragm - 0.075, heart_w / 2, 0.11, 0.5, 2.5);
  }
  for (int y = 0; y < c.h(); ++y) {
    const double v = c.V(y);
    const double endplate = 0.5 + 0.5 * std::cos(2 * kPi * (v / 0.052));
    for (int x = 0; x < c.w(); ++x) {
      const double du = std::abs(c.U(x) - cx);
      c.at(x, y) += static_cast<float>((0.2 + 0.1 * endplate * endplate * endplate) *
                                       Smoothstep(0.034, 0.030, du));
    }
  }

  // Clavicles and posterior ribs; a fracture breaks one rib and offsets its lateral part.
  const double clav_v = a.ap_view ? 0.10 : 0.13;
  for (double sgn : {-1.0, 1.0}) {
    AddPolyline(c,
                {{cx + sgn * 0.05, clav_v + 0.05},
                 {cx + sgn * 0.18, clav_v + 0.01},
                 {cx + sgn * (tw + 0.02), clav_v - 0.02}},
                0.011, 0.5, 0.4);
  }
  for (double sgn : {-1.0, 1.0}) {
    const Side side = sgn < 0 ? Side::kRight : Side::kLeft;
    const Finding* fx = FindFinding(fs, FindingType::kRibFracture, side);
    for (int i = 0; i < 11; ++i) {
      const double y0 = 0.10 + 0.058 * i;
      std::vector<Pt> seg;
      std::vector<Pt> distal;
      const bool broken = fx && fx->rib == i + 1;
      for (int k = 0; k <= 16; ++k) {
        const double t = k / 16.0;
        Pt p{cx + sgn * (0.035 + t * tw * 0.98), y0 + 0.15 * t * t - 0.045 * std::sin(kPi * t)};
        if (broken && t > 0.6) {
          // Displaced by 4 mm laterally and 5 mm down, with a 3% gap: about 3 pixels at 256.
          p.u += sgn * 4.0 * mm;
          p.v += 5.0 * mm;
          if (t > 0.66) distal.push_back(p);
        } else {
          seg.push_back(p);
        }
      }
      AddPolyline(c, seg, 0.0095, 0.17, 0.6);
      AddPolyline(c, distal, 0.0095, 0.17, 0.6);
    }
  }

  // Findings.
  for (const Finding& f : fs) {
    const std::vector<Side> sides = f.side == Side::kBilateral
                                        ? std::vector<Side>{Side::kRight, Side::kLeft}
                                        : std::vector<Side>{f.side};
    const double sev = SeverityScale(f.severity);
    switch (f.type) {
      case FindingType::kPleuralEffusion:
        for (Side s : sides) {
          const LungGeometry& g = s == Side::kRight ? right : left;
          const Canvas& mask = s == Side::kRight ? mask_r : mask_l;
          const double height = 0.045 + 0.07 * sev;  // fluid column above the dome
          for (int y = 0; y < c.h(); ++y) {
            for (int x = 0; x < c.w(); ++x) {
              const float m = mask.at(x, y);
              if (m <= 0) continue;
              const double u = c.U(x), v = c.V(y);
              const double lateral =
                  std::clamp((s == Side::kRight ? g.cx - u : u - g.cx) / g.rx + 0.3, 0.0, 1.3);
              const double level = g.Diaphragm(u) - height - 0.06 * lateral * lateral;  // meniscus
              c.at(x, y) +=
                  static_cast<float>(0.78 * m * Smoothstep(level - 0.012, level + 0.02, v));
            }
          }
        }
        break;
      case FindingType::kConsolidation: {
        ValueNoise noise(a.texture_seed ^ 0xC0, 12);
        for (Side s : sides) {
          const Canvas& mask = s == Side::kRight ? mask_r : mask_l;
          const double r = 0.035 + 0.025 * sev;
          for (int y = 0; y < c.h(); ++y) {
            for (int x = 0; x < c.w(); ++x) {
              const float m = mask.at(x, y);
              if (m <= 0) continue;
              const double du = c.U(x) - f.u, dv = c.V(y) - f.v;
              const double d = std::sqrt(du * du + dv * dv) / r;
              if (d > 1.6) continue;
              const double patch = 0.55 + 0.45 * noise.At(c.U(x) * 3, c.V(y) * 3);
              c.at(x, y) += static_cast<float>(0.55 * m * patch * Smoothstep(1.4, 0.6, d));
            }
          }
        }
        break;
      }
      case FindingType::kEdema:
        for (const LungGeometry* g : {&right, &left}) {
          const Canvas& mask = g == &right ? mask_r : mask_l;
          const Pt hilum{g->cx + (g == &right ? 0.5 : -0.5) * g->rx, g->cy + 0.06};
          for (int y = 0; y < c.h(); ++y) {
            for (int x = 0; x < c.w(); ++x) {
              const float m = mask.at(x, y);
              if (m <= 0) continue;
              const double du = (c.U(x) - hilum.u) / 0.11, dv = (c.V(y) - hilum.v) / 0.16;
              c.at(x, y) +=
                  static_cast<float>((0.1 + 0.08 * sev) * m * std::exp(-(du * du + dv * dv)));
            }
          }
          // Kerley B lines: short horizontal lines at the lateral lung bases.
          const double lat = g == &right ? -1 : 1;
          for (int k = 0; k < 5; ++k) {
            const double v = g->dome_v - 0.025 - 0.018 * k;
            const double u_edge =
                g->cx +
                lat * g->rx * std::sqrt(std::max(0.0, 1 - std::pow((v - g->cy) / g->ry, 2)));
            AddPolyline(c, {{u_edge - lat * 0.004, v}, {u_edge - lat * 0.035, v}}, 0.0035,
                        0.12 + 0.06 * sev, 0, &mask);
          }
        }
        break;
      case FindingType::kNodule:
      case FindingType::kMass: {
        const Canvas& mask = f.side == Side::kLeft ? mask_l : mask_r;
        const double r = 0.5 * f.size_mm * mm;
        const bool mass = f.type == FindingType::kMass;
        int x0, y0, x1, y1;
        c.Box(f.u - 1.4 * r, f.v - 1.4 * r, f.u + 1.4 * r, f.v + 1.4 * r, x0, y0, x1, y1);
        const double phase = rng.Uniform(0, 2 * kPi);
        for (int y = y0; y < y1; ++y) {
          for (int x = x0; x < x1; ++x) {
            const double du = c.U(x) - f.u, dv = c.V(y) - f.v;
            double rr = r;
            if (mass) {
              const double th = std::atan2(dv, du);
              rr *= 1 + 0.12 * std::sin(3 * th + phase) + 0.07 * std::sin(5 * th + 2 * phase);
            }
            const double d = std::sqrt(du * du + dv * dv);
            const double cov = Smoothstep(rr + 1.2 * px, rr - 1.2 * px, d);
            const double dome = std::sqrt(std::max(0.0, 1 - std::pow(d / rr, 2)));
            c.at(x, y) += static_cast<float>((mass ? 0.55 : 0.5) * cov * (0.6 + 0.4 * dome) *
                                             std::max(0.3f, mask.at(x, y)));
          }
        }
        break;
      }
      case FindingType::kAtelectasis:
        for (Side s : sides) {
          const LungGeometry& g = s == Side::kRight ? right : left;
          const Canvas& mask = s == Side::kRight ? mask_r : mask_l;
          const double lat = s == Side::kRight ? -1 : 1;
          AddEllipse(c, g.cx + lat * 0.1 * g.rx, g.dome_v - 0.06, 0.075, 0.009 + 0.006 * sev, 0.5,
                     1.5, &mask, lat * 0.18);
        }
        break;
      case FindingType::kEndotrachealTube: {
        const double tip = 0.33 - 0.05;
        AddPolyline(c, {{cx + 0.002, -0.01}, {cx + 0.002, tip}}, 0.009, 0.25, 0.9);
        AddPolyline(c, {{cx - 0.004, -0.01}, {cx - 0.004, tip}}, 0.0018, 1.2);
        break;
      }
      case FindingType::kCentralLine:
        AddPolyline(c,
                    {{cx - tw + 0.02, clav_v + 0.02},
                     {cx - 0.2, clav_v + 0.05},
                     {cx - 0.08, clav_v + 0.09},
                     {cx - 0.035, 0.26},
                     {cx - 0.03, 0.37}},
                    0.0038, 1.0);
        break;
      case FindingType::kPacemaker: {
        const Pt gen{cx + 0.24, clav_v + 0.08};
        AddEllipse(c, gen.u, gen.v, 0.04, 0.028, 2.5, 1.0);
        AddPolyline(c,
                    {gen,
                     {cx + 0.15, clav_v + 0.06},
                     {cx + 0.04, 0.30},
                     {cx - 0.02, 0.45},
                     {cx + 0.02, 0.58},
                     {cx + 0.1, 0.66}},
                    0.0022, 1.3);
        break;
      }
      case FindingType::kChestTube: {
        const LungGeometry& g = f.side == Side::kLeft ? left : right;
        const double lat = f.side == Side::kLeft ? 1 : -1;
        const double wall = g.cx + lat * 0.97 * g.rx;
        const std::vector<Pt> path = {{wall + lat * 0.05, g.dome_v + 0.06},
                                      {wall - lat * 0.01, g.dome_v - 0.04},
                                      {g.cx + lat * 0.55 * g.rx, 0.30},
                                      {g.cx + lat * 0.2 * g.rx, 0.17}};
        AddPolyline(c, path, 0.0065, 0.3, 0.9);
        AddPolyline(c, path, 0.0015, 0.9);
        break;
      }
      case FindingType::kCardiomegaly:  // drawn through Anatomy::ctr
      case FindingType::kPneumothorax:  // drawn with the lungs
      case FindingType::kRibFracture:   // drawn with the ribs
        break;
    }
  }

  // Attenuation to brightness.
  std::vector<float>& d = c.data();
  for (float& x : d) x = static_cast<float>(1.0 - std::exp(-1.35 * std::max(0.0f, x)));
  return std::move(d);
}

}  // namespace medscribe::synth
