// libFuzzer target: free-text de-identification on arbitrary bytes (any length, any encoding).
// Must return text and never crash or exhaust the stack; a known identifier never survives, no
// placeholder byte leaks into the output, and a second scrub of the output finds nothing but
// dates to shift again (every replacement is a tag, which no rule matches). The same for a
// transcript (ScrubTranscript) and a short field.
#include <cstddef>
#include <cstdint>
#include <string>

#include "deid/text_deid.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 18)) return 0;
  static const medscribe::deid::TextScrubber scrubber({"Mary Smith", "陳美玲", "MRN4820193"}, -17);
  const std::string in(reinterpret_cast<const char*>(data), size);
  medscribe::deid::ScrubStats first, second;
  const std::string out = scrubber.Scrub(in, &first);
  if (out.find('\x01') != std::string::npos || out.find("Mary Smith") != std::string::npos ||
      out.find("MRN4820193") != std::string::npos)
    __builtin_trap();
  (void)scrubber.Scrub(out, &second);
  for (const auto& [category, count] : second.by_category)
    if (category != "date" && category != "age" && count > 0) __builtin_trap();
  (void)scrubber.ScrubField(in);
  const std::string spoken = scrubber.ScrubTranscript(in);
  if (spoken.find('\x01') != std::string::npos || spoken.find("Mary Smith") != std::string::npos)
    __builtin_trap();
  return 0;
}
