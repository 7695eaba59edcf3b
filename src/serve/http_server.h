// A small HTTP/1.1 server on Boost.Beast with C++20 coroutines: one coroutine per connection,
// keep-alive, limits checked before anything is buffered (header bytes → 431, declared or
// streamed body bytes → 413, header and body read timeouts → 408, then the connection closes),
// and responses that are either complete or streamed (server-sent events) from any thread.
//
// Handlers run on the server's I/O threads and must not block: long work (the engine) runs
// elsewhere and answers through the Responder, whose methods may be called from any thread.
//
// Thread safety: Start/Stop from one controlling thread; Responder is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe::serve {

struct HttpLimits {
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 32 << 20;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive between requests
  size_t max_target_bytes = 8192;                 // longer request targets → 414
};

// TLS for the listening side: a PEM certificate chain and its private key; with
// `client_ca_file`, clients must present a certificate signed by that CA (mutual TLS).
struct TlsServerOptions {
  std::string cert_file, key_file, client_ca_file;
};

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // path and query, as sent
  std::string path;                            // target without the query
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string remote;  // peer address
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// The answer to one request: either Send() once, or Begin() then Write()... then End().
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Send(int status, std::string content_type, std::string body,
                    std::map<std::string, std::string> headers = {}) = 0;
  virtual void Begin(int status, std::string content_type,
                     std::map<std::string, std::string> headers = {}) = 0;
  // False once the client has gone (the caller may stop producing).
  virtual bool Write(std::string chunk) = 0;
  virtual void End() = 0;
};

using Handler = std::function<void(HttpRequest, std::shared_ptr<Responder>)>;

// A refusal decided from the request line and headers alone, before any body byte is read.
struct EarlyReject {
  int status = 0;  // 0: go on
  std::string body, content_type = "application/json";
  std::map<std::string, std::string> headers;
};
// Called on an I/O thread with `body` empty; must not block.
using HeaderCheck = std::function<EarlyReject(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer(Handler handler, HttpLimits limits = {});
  ~HttpServer();
  // Serves HTTPS instead of HTTP. InvalidArgument naming the file that cannot be used.
  // REQUIRES: before Start.
  Status EnableTls(const TlsServerOptions& tls);
  // REQUIRES: before Start.
  void SetHeaderCheck(HeaderCheck check);
  // Listens on host:port (port 0: any free port) with `threads` I/O threads.
  // Unavailable naming the address when it cannot bind.
  Status Start(const std::string& host, uint16_t port, int threads = 2);
  uint16_t port() const;
  // Stops accepting; open connections finish their current response, then close.
  void Stop();
  // Blocks until Stop() has completed.
  void Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "200 OK"-style reason phrase for a status code.
std::string_view StatusText(int status);

}  // namespace medscribe::serve
