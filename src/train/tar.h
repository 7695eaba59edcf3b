// A minimal reader of WebDataset shards (POSIX ustar) for the ML core, which builds with nothing
// but LibTorch and the standard library. The bytes are untrusted: header checksums, sizes and
// names are checked, only regular files are returned, and the walk stops with DataLoss at the
// first inconsistency instead of reading past the buffer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::train {

struct TarMember {
  std::string name;
  std::string_view data;  // points into the buffer given to ReadTar
};

// Members in file order. REQUIRES: `bytes` outlives the result.
StatusOr<std::vector<TarMember>> ReadTar(std::string_view bytes, size_t max_members = 1u << 20);

}  // namespace medscribe::train
