// libFuzzer target: reading WebDataset shards (tar) from untrusted bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataset/shard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  medscribe::dataset::ShardLimits limits;
  limits.max_member_bytes = 1 << 20;
  limits.max_members = 1024;
  limits.max_total_bytes = 4 << 20;
  (void)medscribe::dataset::ReadShard(std::string_view(reinterpret_cast<const char*>(data), size),
                                      limits);
  return 0;
}
