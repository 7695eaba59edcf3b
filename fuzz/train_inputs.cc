// libFuzzer target: the ML core's own readers of dataset shards (tar) and image arrays (.npy).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "train/npy.h"
#include "train/tar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto members = medscribe::train::ReadTar(bytes, 1024);
  if (members.ok()) {
    for (const auto& m : *members) (void)medscribe::train::ReadNpyFloat32(m.data);
  }
  (void)medscribe::train::ReadNpyFloat32(bytes);
  return 0;
}
