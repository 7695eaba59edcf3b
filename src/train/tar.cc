#include "train/tar.h"

#include <algorithm>
#include <cstdint>

namespace medscribe::train {
namespace {

constexpr size_t kBlock = 512;

// Octal field (NUL/space padded); -1 when malformed.
int64_t Octal(std::string_view f) {
  int64_t v = 0;
  bool digits = false;
  for (char c : f) {
    if (c == '\0' || c == ' ') {
      if (digits) break;
      continue;
    }
    if (c < '0' || c > '7') return -1;
    if (v > (int64_t{1} << 40)) return -1;
    v = v * 8 + (c - '0');
    digits = true;
  }
  return digits ? v : 0;
}

std::string Field(std::string_view f) {
  return std::string(f.substr(0, std::min(f.find('\0'), f.size())));
}

}  // namespace

StatusOr<std::vector<TarMember>> ReadTar(std::string_view bytes, size_t max_members) {
  std::vector<TarMember> out;
  size_t pos = 0;
  while (true) {
    if (pos + kBlock > bytes.size()) return DataLossError("tar ends inside a header (truncated)");
    const std::string_view h = bytes.substr(pos, kBlock);
    if (std::all_of(h.begin(), h.end(), [](char c) { return c == '\0'; })) return out;  // end
    uint32_t sum = 0;
    for (size_t i = 0; i < kBlock; ++i) {
      sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    }
    if (Octal(h.substr(148, 8)) != static_cast<int64_t>(sum)) {
      return DataLossError("tar header checksum mismatch at byte " + std::to_string(pos));
    }
    const int64_t size = Octal(h.substr(124, 12));
    if (size < 0)
      return DataLossError("tar member size is malformed at byte " + std::to_string(pos));
    const size_t data_at = pos + kBlock;
    if (static_cast<uint64_t>(size) > bytes.size() - data_at) {
      return DataLossError("tar member runs past the end of the file (truncated)");
    }
    std::string name = Field(h.substr(0, 100));
    const std::string prefix = Field(h.substr(345, 155));
    if (!prefix.empty()) name = prefix + "/" + name;
    const char type = h[156];
    if (type == '0' || type == '\0') {
      if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) {
        return DataLossError("tar member has an unsafe name");
      }
      if (out.size() >= max_members) return DataLossError("tar has too many members");
      out.push_back({std::move(name), bytes.substr(data_at, static_cast<size_t>(size))});
    }
    pos = data_at + (static_cast<size_t>(size) + kBlock - 1) / kBlock * kBlock;
  }
}

}  // namespace medscribe::train
