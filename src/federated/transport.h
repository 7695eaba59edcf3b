// HTTPS with mutual TLS between a federation's server and its sites (Boost.Beast over OpenSSL):
// every connection presents a certificate of the federation's CA on both sides; the server
// knows a site by its certificate's common name.
//
// The server is synchronous and single-threaded: it serves one short request at a time and
// calls its tick between requests (at least every 100 ms), which is what a federation of a few
// sites exchanging a few messages per round needs. A client sends one request per connection.
//
// Thread safety: each object is used from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace medscribe::federated {

struct TlsFiles {
  std::string ca, cert, key;  // PEM: the federation's CA; this party's certificate and key
};

struct Request {
  std::string method, target, body;
  std::string peer;  // the client certificate's common name
};
struct Response {
  int status = 200;
  std::string content_type = "application/json", body;
};

class HttpsServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  // Listens on host:port (port 0: any free port). InvalidArgument for unusable TLS files,
  // Unavailable when the address cannot be bound.
  static StatusOr<std::unique_ptr<HttpsServer>> Listen(const std::string& host, int port,
                                                       const TlsFiles& tls, int64_t max_body_bytes);
  virtual ~HttpsServer() = default;
  virtual int port() const = 0;
  // Serves until `tick` returns false; `tick` runs between requests and at least every 100 ms.
  // A connection whose client presents no certificate of the CA, or that stalls for 30 s, is
  // dropped without stopping the server.
  virtual void Serve(const Handler& handler, const std::function<bool()>& tick) = 0;
};

class HttpsClient {
 public:
  // `base`: https://HOST:PORT. InvalidArgument for a malformed URL or unusable TLS files.
  static StatusOr<std::unique_ptr<HttpsClient>> Create(const std::string& base,
                                                       const TlsFiles& tls);
  virtual ~HttpsClient() = default;
  // One request; the response whatever its status. Unavailable when the server cannot be
  // reached or the TLS handshake fails (naming the cause).
  virtual StatusOr<Response> Send(const std::string& method, const std::string& target,
                                  const std::string& body,
                                  const std::string& content_type = "application/json") = 0;
};

}  // namespace medscribe::federated
