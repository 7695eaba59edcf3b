// libFuzzer target: free-text de-identification on arbitrary bytes (any length, any encoding).
// Must return text and never crash or exhaust the stack.
#include <cstddef>
#include <cstdint>
#include <string>

#include "deid/text_deid.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 18)) return 0;
  static const medscribe::deid::TextScrubber scrubber({"Mary Smith", "陳美玲", "MRN4820193"}, -17);
  (void)scrubber.Scrub(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
