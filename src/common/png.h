// PNG export of grayscale and RGB images, and grayscale import (libpng).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe {

// Writes an 8-bit grayscale PNG of `pixels` (row-major, values in [0, 1], clamped).
// REQUIRES: pixels.size() == width * height. IoError when the file cannot be written.
Status WritePngGray(const std::string& path, const std::vector<float>& pixels, int width,
                    int height);

// The same image as PNG bytes in memory. InvalidArgument when the sizes disagree.
StatusOr<std::string> EncodePngGray(const std::vector<float>& pixels, int width, int height);

// An 8-bit RGB PNG of `pixels` (row-major, R G B interleaved, values in [0, 1], clamped).
// InvalidArgument when the sizes disagree.
StatusOr<std::string> EncodePngRgb(const std::vector<float>& pixels, int width, int height);

// An 8-bit grayscale reading of PNG bytes (untrusted), values in [0, 1]. The size is checked
// from the header before any pixel is allocated. InvalidArgument when the bytes are not a PNG,
// it has no pixels, more than 16384 a side, or more than `max_pixels`.
StatusOr<std::vector<float>> DecodePngGray(std::string_view bytes, int* width, int* height,
                                           uint64_t max_pixels = uint64_t{1} << 28);

}  // namespace medscribe
