// A blocking HTTP(S) client over libcurl for the orchestrator's calls to hospital systems.
//
// Example:
//   HttpClient http({.timeout_ms = 5000});
//   ASSIGN_OR_RETURN(HttpResponse r, http.Get("https://fhir.example/r4/Patient/1",
//                                             {{"Accept", "application/fhir+json"}}));
//
// Thread safety: an HttpClient is immutable; each call uses its own curl handle.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medscribe::clinical {

struct HttpClientOptions {
  std::string ca_file;  // trust anchors for https; system store when empty
  long timeout_ms = 20000;
  size_t max_response_bytes = 512u << 20;
};

struct HttpResponse {
  long status = 0;
  std::string content_type, location;
  std::string body;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions o) : o_(std::move(o)) {}
  // Any HTTP status is a response; transport failures are errors: Unavailable (cannot connect,
  // TLS failure), DeadlineExceeded (timeout), ResourceExhausted (body over the limit). Messages
  // name the URL without its query (which may carry identifiers).
  StatusOr<HttpResponse> Get(const std::string& url, const HttpHeaders& headers) const;
  StatusOr<HttpResponse> Post(const std::string& url, const HttpHeaders& headers,
                              const std::string& body) const;
  StatusOr<HttpResponse> Put(const std::string& url, const HttpHeaders& headers,
                             const std::string& body) const;

 private:
  StatusOr<HttpResponse> Do(const std::string& method, const std::string& url,
                            const HttpHeaders& headers, const std::string* body) const;
  HttpClientOptions o_;
};

// A server the orchestrator calls (the part the FHIR and DICOMweb sources share): its base URL
// without trailing '/', the bearer token sent with every request, and the client.
struct HttpServerRef {
  std::string base, token;
  HttpClient http;

  // InvalidArgument naming `what` unless `base_url` starts with http:// or https://.
  static StatusOr<HttpServerRef> Make(std::string base_url, std::string token,
                                      HttpClientOptions options, const std::string& what);
  // Accept (and Content-Type when given), plus Authorization when there is a token.
  HttpHeaders Headers(const std::string& accept, const std::string& content_type = "") const;
};

// `s` with every byte outside [A-Za-z0-9-._~] percent-encoded (for query values).
std::string UrlEncode(std::string_view s);

}  // namespace medscribe::clinical
