#include "train/npy.h"

#include <cstring>
#include <string>

namespace medscribe::train {

StatusOr<torch::Tensor> ReadNpyFloat32(std::string_view b) {
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
  const std::string header(b.substr(header_at, header_len));
  if (header.find("'descr': '<f4'") == std::string::npos)
    return DataLossError(".npy is not little-endian float32");
  if (header.find("'fortran_order': False") == std::string::npos)
    return DataLossError(".npy is not in C order");
  const size_t open = header.find("'shape': (");
  if (open == std::string::npos) return DataLossError(".npy header has no shape");
  const size_t close = header.find(')', open);
  if (close == std::string::npos) return DataLossError(".npy shape is malformed");
  std::vector<int64_t> shape;
  uint64_t count = 1;
  std::string num;
  for (size_t i = open + 10; i <= close; ++i) {
    const char c = header[i];
    if (c >= '0' && c <= '9') {
      if (num.size() > 12) return DataLossError(".npy dimension too large");
      num += c;
    } else if (c == ',' || c == ')') {
      if (!num.empty()) {
        shape.push_back(std::stoll(num));
        if (shape.back() != 0 &&
            count > (uint64_t{1} << 40) / static_cast<uint64_t>(shape.back())) {
          return DataLossError(".npy array too large");
        }
        count *= static_cast<uint64_t>(shape.back());
        num.clear();
      }
    } else if (c != ' ') {
      return DataLossError(".npy shape is malformed");
    }
  }
  const size_t data_at = header_at + header_len;
  if (count * 4 != b.size() - data_at) {
    return DataLossError(".npy holds " + std::to_string(b.size() - data_at) +
                         " bytes of data, shape needs " + std::to_string(count * 4));
  }
  torch::Tensor t = torch::empty(shape, torch::kFloat32);
  if (count) std::memcpy(t.data_ptr<float>(), b.data() + data_at, count * 4);
  return t;
}

}  // namespace medscribe::train
