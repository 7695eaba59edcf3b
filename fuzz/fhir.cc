// libFuzzer target: FHIR JSON reading (single resources, NDJSON, Bundles) with small limits.
// Any input must be accepted, skipped or rejected with a reason; never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fhir/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  medscribe::fhir::FhirLimits limits;
  limits.max_resource_bytes = 1 << 16;
  limits.max_bundle_bytes = 1 << 20;
  limits.max_depth = 32;
  medscribe::fhir::FhirReader reader(limits);
  reader.AddNdjson(text, "fuzz.ndjson");
  reader.AddJson(text, "fuzz.json");
  (void)medscribe::fhir::ParseResource(text, limits);
  return 0;
}
