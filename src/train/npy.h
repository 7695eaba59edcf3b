// Reading the float32 NumPy arrays of a dataset (`<key>.img.npy`) without NumPy. Untrusted bytes:
// the magic, version, header dictionary (little-endian float32, C order) and the element count
// against the data are checked.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <torch/types.h>

#include "common/status.h"

namespace medscribe::train {

// A float32 tensor of the array's shape. DataLoss with the reason otherwise.
StatusOr<torch::Tensor> ReadNpyFloat32(std::string_view bytes);

}  // namespace medscribe::train
