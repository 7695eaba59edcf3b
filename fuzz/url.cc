// URLs come from servers MedScribe talks to (a FHIR server's paging links) and from
// configuration: ParseHttpUrl must answer every input with a Status, and what it accepts must
// hold its promises (a known scheme, a clean lower-case host, a port, a target starting with
// '/'), so that an origin check built on it cannot be fooled.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto u = medscribe::ParseHttpUrl(in);
  if (!u.ok()) return 0;
  if (u->scheme != "http" && u->scheme != "https") __builtin_trap();
  if (u->host.empty() || u->port == 0 || u->target.empty() || u->target[0] != '/') __builtin_trap();
  for (char c : u->host)
    if (c == '@' || c == '/' || std::isupper(static_cast<unsigned char>(c))) __builtin_trap();
  // A URL is always under itself, and parsing its origin gives the same origin back.
  if (!medscribe::IsUnder(*u, *u) && u->path().find("..") == std::string_view::npos &&
      u->path().find('.') == std::string_view::npos &&
      u->path().find('%') == std::string_view::npos)
    __builtin_trap();
  auto o = medscribe::ParseHttpUrl(u->origin());
  if (!o.ok() || o->origin() != u->origin()) __builtin_trap();
  return 0;
}
