// Images sent to the model server: data URLs ("data:image/png;base64,...", image/jpeg,
// application/dicom) decoded to grayscale pixels in [0, 1]. Every decoder treats the bytes as
// untrusted: sizes are checked against the limits before pixels are allocated, and any failure
// is an InvalidArgument that names the problem.
//
// Thread safety: free functions on independent data.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::serve {

struct GrayImage {
  int width = 0, height = 0;
  std::vector<float> pixels;  // row-major, [0, 1]
};

struct ImageLimits {
  size_t max_encoded_bytes = 16 << 20;
  uint64_t max_pixels = uint64_t{64} << 20;  // width x height
  int dicom_size = 512;  // DICOM images are windowed and resized to fit this square
};

// A data URL with a PNG, JPEG or DICOM payload.
StatusOr<GrayImage> DecodeDataUrl(std::string_view url, const ImageLimits& limits = {});
StatusOr<GrayImage> DecodePng(std::string_view bytes, const ImageLimits& limits = {});
StatusOr<GrayImage> DecodeJpeg(std::string_view bytes, const ImageLimits& limits = {});
StatusOr<GrayImage> DecodeDicom(std::string_view bytes, const ImageLimits& limits = {});

}  // namespace medscribe::serve
