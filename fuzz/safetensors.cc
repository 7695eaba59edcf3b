// libFuzzer target: safetensors files and the model JSON parser, from untrusted bytes (weights
// downloaded or copied from elsewhere).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/json.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)medscribe::model::DecodeSafetensors(bytes);
  (void)medscribe::model::json::Parse(bytes);
  return 0;
}
