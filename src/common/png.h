// PNG export of grayscale images (libpng).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe {

// Writes an 8-bit grayscale PNG of `pixels` (row-major, values in [0, 1], clamped).
// REQUIRES: pixels.size() == width * height. IoError when the file cannot be written.
Status WritePngGray(const std::string& path, const std::vector<float>& pixels, int width,
                    int height);

// The same image as PNG bytes in memory. InvalidArgument when the sizes disagree.
StatusOr<std::string> EncodePngGray(const std::vector<float>& pixels, int width, int height);

}  // namespace medscribe
