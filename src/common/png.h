// PNG export of grayscale images (libpng).
#pragma once

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

// An 8-bit grayscale reading of PNG bytes (untrusted), values in [0, 1]. InvalidArgument when
// the bytes are not a PNG or it is larger than 16384 pixels a side.
StatusOr<std::vector<float>> DecodePngGray(std::string_view bytes, int* width, int* height);

}  // namespace medscribe
