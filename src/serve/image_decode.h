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
  // > 0: DICOM images that state their pixel spacing are resampled to this many mm per pixel
  // instead (dicom::ImageDecodeOptions::mm_per_pixel): the model's vision.mm_per_pixel.
  double mm_per_pixel = 0;
};

// Whether an image prepared by the caller matches how the model reads images: `prepared_mm` is
// its pixel spacing in mm at `width` pixels (the sample source's mm_per_pixel; 0 when fitted to
// the square) and `spacing_stated` whether its DICOM stated one (pixel_spacing_mm). With
// limits.mm_per_pixel > 0 (at limits.dicom_size pixels, the model's input), a fitted image whose
// spacing was stated, or one resampled to another spacing (beyond 1%), is InvalidArgument
// naming both and what to change; so is a resampled image for a model that fits. An image
// without a stated spacing can only be fitted and passes.
Status CheckImageSpacing(double prepared_mm, bool spacing_stated, int width,
                         const ImageLimits& limits);

// A data URL with a PNG, JPEG or DICOM payload.
StatusOr<GrayImage> DecodeDataUrl(std::string_view url, const ImageLimits& limits = {});
StatusOr<GrayImage> DecodePng(std::string_view bytes, const ImageLimits& limits = {});
StatusOr<GrayImage> DecodeJpeg(std::string_view bytes, const ImageLimits& limits = {});
StatusOr<GrayImage> DecodeDicom(std::string_view bytes, const ImageLimits& limits = {});

}  // namespace medscribe::serve
