#include "synth/device.h"

#include <algorithm>
#include <cmath>

namespace medscribe::synth {

const std::vector<DeviceProfile>& DeviceProfiles() {
  using dicom::TransferSyntax;
  static const std::vector<DeviceProfile> kProfiles = [] {
    std::vector<DeviceProfile> p(4);
    p[0] = {"Acme Imaging",
            "AcmeDR 500",
            "4.2.1",
            "ACMEDR",
            "ACME_IMAGING_1.0",
            "DX",
            false,
            TransferSyntax::kExplicitLittle,
            1.0,
            0.0,
            1.0,
            430,
            0.9,
            0.0,
            0.008};
    p[1] = {"Northwind Medical",
            "NW-CR 3000",
            "2.7",
            "NWCR",
            "NORTHWIND CR",
            "CR",
            true,
            TransferSyntax::kJpegLossless,
            2.0,
            -1024.0,
            0.875,
            350,
            1.15,
            0.0,
            0.014};
    p[2] = {"Helios Radiography",
            "HX-Flex",
            "11.0.3",
            "HXFLEX",
            "HELIOS_PRIVATE",
            "DX",
            false,
            TransferSyntax::kJpegLsLossless,
            1.0,
            0.0,
            1.0,
            430,
            1.0,
            5.0,
            0.011};
    p[3] = {"Orion Systems",
            "Orion CR-7",
            "1.9b",
            "ORCR",
            "ORION SYSTEMS",
            "CR",
            false,
            TransferSyntax::kRle,
            0.5,
            100.0,
            0.75,
            400,
            1.05,
            0.0,
            0.02};
    return p;
  }();
  return kProfiles;
}

int MatrixSize(const DeviceProfile& profile, int image_size) {
  const int m = static_cast<int>(std::lround(image_size * profile.matrix_scale / 2.0)) * 2;
  return std::max(64, m);
}

std::vector<uint16_t> ToStoredPixels(const std::vector<float>& brightness,
                                     const DeviceProfile& profile, Rng& rng) {
  std::vector<uint16_t> out(brightness.size());
  const double s = profile.sigmoid;
  const double s_lo = s > 0 ? 1 / (1 + std::exp(s * 0.5)) : 0,
               s_hi = s > 0 ? 1 / (1 + std::exp(-s * 0.5)) : 1;
  for (size_t i = 0; i < brightness.size(); ++i) {
    double v = std::clamp(static_cast<double>(brightness[i]), 0.0, 1.0);
    v = std::pow(v, profile.gamma);
    if (s > 0) v = (1 / (1 + std::exp(-s * (v - 0.5))) - s_lo) / (s_hi - s_lo);
    v += rng.Normal(0, profile.noise);
    v = std::clamp(0.02 + 0.96 * v, 0.0, 1.0);
    if (profile.monochrome1) v = 1.0 - v;
    out[i] = static_cast<uint16_t>(std::lround(v * kMaxStored));
  }
  return out;
}

}  // namespace medscribe::synth
