// Procedural chest radiograph renderer.
//
// RenderChest draws a frontal chest radiograph (patient's right on the image's left, as displayed)
// from an anatomy description and a list of findings. It models X-ray attenuation additively:
// every structure adds (bone, soft tissue, fluid, metal) or removes (air in the lungs) density
// along the beam, and brightness = 1 - exp(-k * density), so overlapping structures combine as
// they do on film. Findings are drawn where their attributes say (side, zone, size in mm via the
// pixel spacing, severity), so the pixels carry what the report describes.
//
// Coordinates are normalized: u runs left to right across the image, v top to bottom, both in
// [0, 1]. The output is row-major brightness in [0, 1] (1 = most attenuating, shown white in
// MONOCHROME2), before any detector noise or contrast curve.
//
// Thread safety: pure function of its inputs.
#pragma once

#include <cstdint>
#include <vector>

#include "synth/findings.h"

namespace medscribe::synth {

// Patient geometry drawn from the encounter's random stream.
struct Anatomy {
  double habitus = 1.0;       // thorax width factor, 0.9 (slim) .. 1.08 (broad)
  double diaphragm = 0.70;    // right hemidiaphragm dome (v); the left lies a little lower
  double ctr = 0.45;          // cardiothoracic ratio (cardiomegaly when > 0.5)
  bool ap_view = false;       // AP projection: magnified heart, higher clavicles
  uint64_t texture_seed = 1;  // vessels and patchy opacities
};

struct RenderSpec {
  int width = 512;
  int height = 512;
  double pixel_spacing_mm = 0.84;  // at the detector; sizes in mm are converted with it
  Anatomy anatomy;
  std::vector<Finding> findings;
};

// Normalized geometry of one lung (exposed for tests that check where findings land).
struct LungGeometry {
  double cx, cy, rx, ry;  // ellipse
  double dome_v;          // diaphragm dome at the lung's centre line
  // Normalized ellipse radius of (u, v): < 1 inside the ellipse.
  double Radius(double u, double v) const;
  // Diaphragm height at u (domed: lower laterally).
  double Diaphragm(double u) const;
};

// Lungs for an anatomy; index 0 is the patient's right lung (image left), 1 the left lung.
// Findings that change lung shape (atelectasis with volume loss) are taken into account.
LungGeometry LungFor(const Anatomy& a, Side side, const std::vector<Finding>& findings);

// Fills in a finding's position (u, v) from its side and zone, inside the lung.
void PlaceFinding(const Anatomy& a, Finding& f, double jitter_u, double jitter_v);

std::vector<float> RenderChest(const RenderSpec& spec);

}  // namespace medscribe::synth
