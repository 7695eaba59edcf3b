// The gateway's HTTP/1.1 client to model replicas (and to a JWKS URL): keep-alive connections
// pooled per host:port, plain or TLS (with an optional client certificate for mutual TLS), the
// response handed to a sink as it arrives so that server-sent events pass straight through.
//
// Every exchange ends in an Outcome that says how far the request got, which is what decides
// whether the gateway may send it to another replica: kNotSent means no replica could have
// started on it.
//
// Thread safety: Exchange may run concurrently from coroutines on any threads. REQUIRES: all
// exchanges of one client run on executors of one io_context, which outlives the client (pooled
// connections are bound to it).
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medscribe::gateway {

namespace asio = boost::asio;

struct Address {
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  std::string key() const { return host + ":" + std::to_string(port); }
};

// "http://HOST:PORT" or "https://HOST:PORT" (a trailing path is kept in *path when given).
StatusOr<Address> ParseUrl(const std::string& url, std::string* path = nullptr);

struct UpstreamRequest {
  std::string method = "GET", target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{300000};  // the whole exchange
};

// Receives one response. Head is called once, then Data for each piece, then End.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // `streamed`: the body comes chunked (server-sent events, for instance).
  virtual void Head(int status, const std::string& content_type, bool streamed) = 0;
  // False: the receiver has gone; the exchange stops and the connection is dropped.
  virtual bool Data(std::string chunk) = 0;
  virtual void End() = 0;
};

// A sink that keeps the whole response.
class BufferSink : public ResponseSink {
 public:
  void Head(int s, const std::string& type, bool) override {
    status = s;
    content_type = type;
  }
  bool Data(std::string chunk) override {
    if (body.size() + chunk.size() > limit) return false;
    body += chunk;
    return true;
  }
  void End() override { done = true; }
  int status = 0;
  std::string content_type, body;
  size_t limit = 64u << 20;
  bool done = false;
};

enum class Outcome {
  kOk,            // a complete response went to the sink
  kNotSent,       // no connection, or the request could not be written: no replica started it
  kNoResponse,    // sent, but the connection failed before a response arrived
  kBroken,        // the response stopped part way (after Head)
  kTimeout,       // the exchange ran past its timeout
  kReceiverGone,  // the sink refused more data (its client left, or the body is too large)
};
const char* OutcomeName(Outcome o);

struct ClientTlsOptions {
  std::string ca_file;              // trusted CA for replica certificates (required)
  std::string cert_file, key_file;  // the gateway's client certificate (mutual TLS), optional
};

// One HTTP exchange with a replica. The gateway's routing, retry and health checks see
// replicas only through this interface (tests substitute a scripted one).
class Upstream {
 public:
  virtual ~Upstream() = default;
  // Sends `req` to `to` and hands the response to `sink`; the Outcome says how far it got.
  // `req` and `sink` must outlive the returned awaitable.
  virtual asio::awaitable<Outcome> Exchange(const Address& to, const UpstreamRequest& req,
                                            ResponseSink& sink) = 0;
};

class UpstreamClient final : public Upstream {
 public:
  // `tls`: used for https endpoints; null means https endpoints are refused.
  static StatusOr<std::unique_ptr<UpstreamClient>> Create(const ClientTlsOptions* tls);
  ~UpstreamClient() override;

  asio::awaitable<Outcome> Exchange(const Address& to, const UpstreamRequest& req,
                                    ResponseSink& sink) override;

 private:
  UpstreamClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// GETs `url` (http or https; `ca_file` trusted for https, the system store when empty) on a
// private I/O context and returns the body of a 200 answer of at most `limit` bytes.
// Unavailable naming the URL and what happened otherwise. Blocks the calling thread.
StatusOr<std::string> FetchUrl(const std::string& url, const std::string& ca_file, size_t limit,
                               std::chrono::milliseconds timeout);

}  // namespace medscribe::gateway
