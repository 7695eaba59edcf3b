// NumPy .npy files: the tensor format of dataset shards and image exports. Writing gives format
// version 1.0; reading (untrusted bytes) accepts versions 1 to 3 of little-endian float32 in C
// order, checking the magic, the header dictionary and the element count against the data.
//
// Example:
//   std::string bytes = EncodeNpyFloat32(pixels.data(), {rows, cols});
//   ASSIGN_OR_RETURN(NpyFloat32Layout layout, ParseNpyFloat32(bytes));
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe {

// Little-endian float32, C order. REQUIRES: data holds the product of `shape` elements.
std::string EncodeNpyFloat32(const float* data, const std::vector<size_t>& shape);

// Where the array of a float32 .npy file lies: its shape, and `count` floats from byte
// `data_offset` of the file.
struct NpyFloat32Layout {
  std::vector<int64_t> shape;
  size_t data_offset = 0;
  uint64_t count = 0;
};

// DataLoss with the reason unless `b` is a float32 C-order .npy file whose data holds exactly
// its shape's elements (at most 2^40). Header-only, so that the ML core, which links only
// LibTorch and the standard library, reads shards with the same checks.
inline StatusOr<NpyFloat32Layout> ParseNpyFloat32(std::string_view b) {
  if (b.size() < 10 || b.substr(0, 6) != "\x93NUMPY") return DataLossError("not a .npy file");
  const int major = static_cast<unsigned char>(b[6]);
  size_t header_len = 0, header_at = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(b[8]) |
                 (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
    header_at = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) return DataLossError(".npy header truncated");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    header_at = 12;
  } else {
    return DataLossError(".npy version " + std::to_string(major) + " is not supported");
  }
  if (header_len > 65536 || header_at + header_len > b.size())
    return DataLossError(".npy header truncated");
  const std::string_view header = b.substr(header_at, header_len);
  if (header.find("'descr': '<f4'") == std::string_view::npos)
    return DataLossError(".npy is not little-endian float32");
  if (header.find("'fortran_order': False") == std::string_view::npos)
    return DataLossError(".npy is not in C order");
  const size_t open = header.find("'shape': (");
  if (open == std::string_view::npos) return DataLossError(".npy header has no shape");
  const size_t close = header.find(')', open);
  if (close == std::string_view::npos) return DataLossError(".npy shape is malformed");
  NpyFloat32Layout out;
  out.count = 1;
  uint64_t num = 0;
  int digits = 0;
  for (size_t i = open + 10; i <= close; ++i) {
    const char c = header[i];
    if (c >= '0' && c <= '9') {
      if (++digits > 12) return DataLossError(".npy dimension too large");
      num = num * 10 + static_cast<uint64_t>(c - '0');
    } else if (c == ',' || c == ')') {
      if (digits > 0) {
        if (num != 0 && out.count > (uint64_t{1} << 40) / num)
          return DataLossError(".npy array too large");
        out.shape.push_back(static_cast<int64_t>(num));
        out.count *= num;
        num = 0;
        digits = 0;
      }
    } else if (c != ' ') {
      return DataLossError(".npy shape is malformed");
    }
  }
  out.data_offset = header_at + header_len;
  if (out.count * 4 != b.size() - out.data_offset) {
    return DataLossError(".npy holds " + std::to_string(b.size() - out.data_offset) +
                         " bytes of data, shape needs " + std::to_string(out.count * 4));
  }
  return out;
}

}  // namespace medscribe
