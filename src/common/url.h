// HTTP(S) URLs as MedScribe accepts them from configuration and from servers it talks to
// (a FHIR server's paging links, a JWKS address, replica addresses): parsed strictly, so that
// a check on the host cannot be fooled by what another parser would read differently.
//
// Accepted: http:// or https:// (scheme in any case), a host name ([A-Za-z0-9.-_]), an IPv4
// address or a bracketed IPv6 address, an optional port 1..65535, then an optional path, query
// and fragment. Refused: user information ("user@host"), empty hosts, control characters,
// spaces and backslashes anywhere, percent-encoded or non-ASCII hosts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medscribe {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 address without its brackets
  uint16_t port = 0;   // as given, or the scheme's default (80, 443)
  std::string target;  // path, query and fragment as given; "/" when the URL has none

  bool tls() const { return scheme == "https"; }
  // "scheme://host:port" (IPv6 in brackets), the same for every URL of one origin.
  std::string origin() const;
  // The path alone: `target` up to its query or fragment.
  std::string_view path() const;
};

// InvalidArgument saying what is wrong with `url`; the message quotes at most its first 200
// bytes with control characters replaced.
StatusOr<Url> ParseHttpUrl(std::string_view url);

// Whether `host` (as in Url::host) is this machine's loopback: "localhost", 127.0.0.0/8 or ::1.
bool IsLoopbackHost(std::string_view host);

// Whether `candidate` lies on `base`'s origin and under its path: the same scheme, host and
// port, and a path equal to base's or continuing it after a '/' (a base of
// "https://h/fhir" admits "https://h/fhir", "https://h/fhir?page=2" and "https://h/fhir/x",
// never "https://h/fhirx", "https://h/other" or "https://h/fhir/../other"; no path segment may
// be "." or ".." or hold "%2e").
bool IsUnder(const Url& candidate, const Url& base);

// The key=value pairs of a query string (without its '?'), in order, as written (not
// percent-decoded); a pair without '=' has an empty value, empty pairs are skipped.
std::vector<std::pair<std::string, std::string>> SplitQuery(std::string_view query);

// The value (as written) of the first `key` in a request target's query ("/p?a=1&b=2"), or ""
// when the target has no query or no such key.
std::string QueryParam(std::string_view target, std::string_view key);

// A query value with '+' read as a space and %XX as its byte; a '%' not followed by two hex
// digits is kept as it is.
std::string PercentDecode(std::string_view s);

}  // namespace medscribe
