#include "clinical/http_client.h"

#include "common/url.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace medscribe::clinical {
namespace {

struct Sink {
  HttpResponse* r;
  size_t limit;
  bool over = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  if (s->r->body.size() + size * n > s->limit) {
    s->over = true;
    return 0;
  }
  s->r->body.append(data, size * n);
  return size * n;
}

std::string WithoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using ListPtr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

}  // namespace

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

StatusOr<HttpServerRef> HttpServerRef::Make(std::string base_url, std::string token,
                                            HttpClientOptions options, const std::string& what) {
  if (auto u = ParseHttpUrl(base_url); !u.ok())
    return InvalidArgumentError("the " + what + " is not usable: " + u.status().message());
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  return HttpServerRef{std::move(base_url), std::move(token), HttpClient(std::move(options))};
}

HttpHeaders HttpServerRef::Headers(const std::string& accept,
                                   const std::string& content_type) const {
  HttpHeaders h = {{"Accept", accept}};
  if (!content_type.empty()) h.emplace_back("Content-Type", content_type);
  if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
  return h;
}

StatusOr<HttpResponse> HttpClient::Get(const std::string& url, const HttpHeaders& headers) const {
  return Do("GET", url, headers, nullptr);
}

StatusOr<HttpResponse> HttpClient::Post(const std::string& url, const HttpHeaders& headers,
                                        const std::string& body) const {
  return Do("POST", url, headers, &body);
}

StatusOr<HttpResponse> HttpClient::Put(const std::string& url, const HttpHeaders& headers,
                                       const std::string& body) const {
  return Do("PUT", url, headers, &body);
}

StatusOr<HttpResponse> HttpClient::Do(const std::string& method, const std::string& url,
                                      const HttpHeaders& headers, const std::string* body) const {
  GlobalInit();
  CurlPtr c(curl_easy_init(), curl_easy_cleanup);
  if (!c) return InternalError("cannot create an HTTP client handle");
  HttpResponse r;
  Sink sink{&r, o_.max_response_bytes};
  ListPtr list(nullptr, curl_slist_free_all);
  for (const auto& [k, v] : headers) {
    curl_slist* next = curl_slist_append(list.get(), (k + ": " + v).c_str());
    if (next == nullptr) return InternalError("out of memory building HTTP headers");
    list.release();
    list.reset(next);
  }
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, o_.timeout_ms);
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT_MS, std::min(o_.timeout_ms, 10000L));
  curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c.get(), CURLOPT_ACCEPT_ENCODING, "");
  if (!o_.ca_file.empty()) curl_easy_setopt(c.get(), CURLOPT_CAINFO, o_.ca_file.c_str());
  if (body != nullptr) {
    curl_easy_setopt(c.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    if (method != "POST") curl_easy_setopt(c.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  } else if (method != "GET") {
    curl_easy_setopt(c.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  const CURLcode rc = curl_easy_perform(c.get());
  const std::string where = method + " " + WithoutQuery(url);
  if (sink.over)
    return ResourceExhaustedError(where + ": the answer is larger than " +
                                  std::to_string(o_.max_response_bytes >> 20) + " MiB");
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return DeadlineExceededError(where + ": no answer within " + std::to_string(o_.timeout_ms) +
                                 " ms");
  if (rc != CURLE_OK) return UnavailableError(where + ": " + curl_easy_strerror(rc));
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &r.status);
  char* ct = nullptr;
  if (curl_easy_getinfo(c.get(), CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) r.content_type = ct;
  struct curl_header* h = nullptr;
  if (curl_easy_header(c.get(), "Location", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h)
    r.location = h->value;
  return r;
}

}  // namespace medscribe::clinical
