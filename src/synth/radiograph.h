// One encounter's chest radiograph: rendered, passed through its device profile, and written as a
// DICOM DX or CR image with the header a real export carries (PHI included).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "synth/cohort_types.h"
#include "synth/device.h"

namespace medscribe::synth {

struct Radiograph {
  int rows = 0, cols = 0;
  double pixel_spacing_mm = 0;
  std::vector<uint16_t> pixels;                // stored values, 12 bits in 16-bit words
  double window_center = 0, window_width = 0;  // in output (rescaled) units
};

// Renders the encounter's image at the profile's matrix for `image_size`. Deterministic.
Radiograph RenderRadiograph(const Encounter& e, int image_size, uint64_t seed);

// SOP Class UIDs used.
inline constexpr std::string_view kDxForPresentationSopClass = "1.2.840.10008.5.1.4.1.1.1.1";
inline constexpr std::string_view kCrSopClass = "1.2.840.10008.5.1.4.1.1.1";

// Writes the DICOM file of the encounter (header from the plan, pixels from `image`) to `path`.
Status WriteRadiographDicom(const Encounter& e, const CohortPlan& cohort, const Radiograph& image,
                            const std::string& path);

}  // namespace medscribe::synth
