// Fuzz target: multipart/related bodies as a DICOMweb server might answer them. The first line
// of the input is the Content-Type header value; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "clinical/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string_view content_type = nl == std::string_view::npos ? in : in.substr(0, nl);
  const std::string_view body =
      nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  auto parts =
      medscribe::clinical::ParseMultipart(body, medscribe::clinical::BoundaryOf(content_type), 64);
  if (parts.ok()) {
    size_t total = 0;
    for (const auto& p : *parts) total += p.body.size() + p.content_type.size();
    if (total > body.size()) __builtin_trap();  // parts are pieces of the body
  }
  return 0;
}
