// libFuzzer target: PocketSphinx mixture weights (speech::SendumpToMixtureWeights), read from a
// model directory the user names. Any input gives a mixture_weights file or a Status; never a
// crash, hang or out-of-bounds access, and an accepted file has the size its header states.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "speech/adapt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  auto out = medscribe::speech::SendumpToMixtureWeights(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!out.ok()) return 0;
  const std::string header = "s3\nversion 1.0\nendhdr\n";
  uint32_t count = 0;
  if (out->size() < header.size() + 20) __builtin_trap();
  std::memcpy(&count, out->data() + header.size() + 16, 4);
  if (out->size() != header.size() + 20 + static_cast<size_t>(count) * 4) __builtin_trap();
  return 0;
}
