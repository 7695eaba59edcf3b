// NumPy .npy files (format version 1.0): the tensor format of dataset shards and image exports.
//
// Example:
//   std::string bytes = EncodeNpyFloat32(pixels.data(), {rows, cols});
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace medscribe {

// Little-endian float32, C order. REQUIRES: data holds the product of `shape` elements.
std::string EncodeNpyFloat32(const float* data, const std::vector<size_t>& shape);

}  // namespace medscribe
