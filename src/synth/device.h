// Vendor/device profiles of the synthetic cohort and the detector model that turns rendered
// brightness into stored pixel values.
//
// Four profiles differ the way real exports do: modality (DX or CR), contrast curve, noise,
// matrix size and pixel spacing, MONOCHROME1 vs MONOCHROME2, rescale slope/intercept and transfer
// syntax (uncompressed, JPEG lossless, JPEG-LS lossless, RLE).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/rng.h"
#include "dicom/transfer_syntax.h"

namespace medscribe::synth {

struct DeviceProfile {
  std::string manufacturer;
  std::string model;
  std::string software_version;
  std::string station_prefix;
  std::string private_creator;  // private block that repeats the patient name
  std::string modality;         // "DX" or "CR"
  bool monochrome1 = false;
  dicom::TransferSyntax transfer_syntax = dicom::TransferSyntax::kExplicitLittle;
  double rescale_slope = 1.0, rescale_intercept = 0.0;
  double matrix_scale = 1.0;      // matrix = image_size * matrix_scale (rounded to even)
  double field_of_view_mm = 430;  // detector width
  double gamma = 1.0;             // contrast curve exponent
  double sigmoid = 0.0;           // > 0: S-shaped contrast of this strength
  double noise = 0.01;            // Gaussian noise, fraction of full scale
};

const std::vector<DeviceProfile>& DeviceProfiles();

inline constexpr int kBitsStored = 12;
inline constexpr uint16_t kMaxStored = (1 << kBitsStored) - 1;

// Stored 12-bit values (in 16-bit words) for rendered brightness in [0, 1], with the profile's
// contrast curve, noise and photometric interpretation applied.
std::vector<uint16_t> ToStoredPixels(const std::vector<float>& brightness,
                                     const DeviceProfile& profile, Rng& rng);

// Matrix size for a profile at a requested image size (even, at least 64).
int MatrixSize(const DeviceProfile& profile, int image_size);

}  // namespace medscribe::synth
