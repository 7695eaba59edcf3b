// Request bodies reach the gateway's JSON limit scanner before any parser: it must bound depth
// and data URLs on any bytes, iteratively (no recursion to exhaust), without reading past them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gateway/json_limits.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  bool too_large = false;
  const std::string why = medscribe::gateway::CheckJsonLimits(body, 64, 256, &too_large);
  if (too_large && why.empty()) __builtin_trap();
  return 0;
}
