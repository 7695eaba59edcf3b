#include "gateway/upstream.h"

#include <sys/socket.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <optional>

#include "common/logging.h"
#include "common/url.h"

namespace medscribe::gateway {
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kNotSent:
      return "not_sent";
    case Outcome::kNoResponse:
      return "no_response";
    case Outcome::kBroken:
      return "broken";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kReceiverGone:
      return "receiver_gone";
  }
  return "?";
}

StatusOr<Address> ParseUrl(const std::string& url, std::string* path) {
  ASSIGN_OR_RETURN(Url u, ParseHttpUrl(url));
  if (path) *path = u.target;
  return Address{u.host, u.port, u.tls()};
}

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  virtual ~Conn() = default;
  virtual asio::awaitable<Outcome> Exchange(const Address& to, const UpstreamRequest& req,
                                            ResponseSink& sink, bool& reusable) = 0;
  virtual int fd() = 0;
  Clock::time_point idle_since;
  // The last exchange found the connection closed by the peer before any byte of an answer:
  // on a pooled connection, the server closed it as idle (or stopping) without reading the
  // request.
  bool closed_unanswered = false;
};

// Whether an idle pooled connection may still be used: the peer has not closed it and has not
// sent anything unasked (a TLS close_notify, for instance).
bool StillOpen(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

template <class Stream>
struct ConnT : Conn {
  template <class... A>
  explicit ConnT(A&&... a) : stream(std::forward<A>(a)...) {}
  Stream stream;
  beast::flat_buffer buffer;

  int fd() override { return beast::get_lowest_layer(stream).socket().native_handle(); }

  asio::awaitable<Outcome> Exchange(const Address& to, const UpstreamRequest& req,
                                    ResponseSink& sink, bool& reusable) override {
    reusable = false;
    http::request<http::string_body> r{http::string_to_verb(req.method), req.target, 11};
    r.set(http::field::host, to.host + ":" + std::to_string(to.port));
    for (const auto& [k, v] : req.headers) r.set(k, v);
    r.keep_alive(true);
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
      r.body() = req.body;
      r.prepare_payload();
    }
    boost::system::error_code ec;
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(req.timeout);
    co_await http::async_write(stream, r, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec == beast::error::timeout ? Outcome::kTimeout : Outcome::kNotSent;
    http::response_parser<http::buffer_body> p;
    p.body_limit(std::uint64_t{1} << 34);  // the sink bounds what it keeps
    co_await http::async_read_header(stream, buffer, p,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      closed_unanswered =
          buffer.size() == 0 && (ec == http::error::end_of_stream || ec == asio::error::eof ||
                                 ec == asio::error::connection_reset);
      if (closed_unanswered) co_return Outcome::kNoResponse;
      LOG_WARN("upstream {}: no response: {}", to.key(), ec.message());
      co_return ec == beast::error::timeout ? Outcome::kTimeout : Outcome::kNoResponse;
    }
    const auto& head = p.get();
    sink.Head(static_cast<int>(head.result_int()), std::string(head[http::field::content_type]),
              p.chunked());
    char tmp[32 << 10];
    while (!p.is_done()) {
      p.get().body().data = tmp;
      p.get().body().size = sizeof(tmp);
      co_await http::async_read(stream, buffer, p, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        LOG_WARN("upstream {}: response broken: {}", to.key(), ec.message());
        co_return ec == beast::error::timeout ? Outcome::kTimeout : Outcome::kBroken;
      }
      const size_t n = sizeof(tmp) - p.get().body().size;
      if (n > 0 && !sink.Data(std::string(tmp, n))) co_return Outcome::kReceiverGone;
    }
    lowest.expires_never();
    reusable = p.keep_alive();
    sink.End();
    co_return Outcome::kOk;
  }
};

}  // namespace

struct UpstreamClient::Impl {
  std::optional<ssl::context> tls;
  std::mutex mu;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle;
  static constexpr size_t kMaxIdlePerHost = 64;
  static constexpr auto kMaxIdle = std::chrono::seconds(20);

  std::unique_ptr<Conn> Take(const Address& to) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = idle.find(to.key() + (to.tls ? "/tls" : ""));
    if (it == idle.end()) return nullptr;
    while (!it->second.empty()) {
      std::unique_ptr<Conn> c = std::move(it->second.back());
      it->second.pop_back();
      if (Clock::now() - c->idle_since < kMaxIdle && StillOpen(c->fd())) return c;
    }
    return nullptr;
  }
  void Give(const Address& to, std::unique_ptr<Conn> c) {
    c->idle_since = Clock::now();
    std::lock_guard<std::mutex> lock(mu);
    auto& v = idle[to.key() + (to.tls ? "/tls" : "")];
    if (v.size() < kMaxIdlePerHost) v.push_back(std::move(c));
  }

  // A new connection, or null when none could be made.
  asio::awaitable<std::unique_ptr<Conn>> Connect(const Address& to) {
    auto ex = co_await asio::this_coro::executor;
    boost::system::error_code ec;
    tcp::resolver resolver(ex);
    auto results = co_await resolver.async_resolve(to.host, std::to_string(to.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return nullptr;
    if (!to.tls) {
      auto c = std::make_unique<ConnT<beast::tcp_stream>>(ex);
      c->stream.expires_after(std::chrono::seconds(3));
      co_await c->stream.async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return nullptr;
      c->stream.socket().set_option(tcp::no_delay(true), ec);
      co_return c;
    }
    if (!tls) co_return nullptr;
    auto c = std::make_unique<ConnT<beast::ssl_stream<beast::tcp_stream>>>(ex, *tls);
    auto& lowest = beast::get_lowest_layer(c->stream);
    lowest.expires_after(std::chrono::seconds(3));
    co_await lowest.async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return nullptr;
    lowest.socket().set_option(tcp::no_delay(true), ec);
    SSL_set_tlsext_host_name(c->stream.native_handle(), to.host.c_str());
    c->stream.set_verify_callback(ssl::host_name_verification(to.host));
    co_await c->stream.async_handshake(ssl::stream_base::client,
                                       asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return nullptr;
    co_return c;
  }
};

UpstreamClient::UpstreamClient() : impl_(std::make_unique<Impl>()) {}
UpstreamClient::~UpstreamClient() = default;

StatusOr<std::unique_ptr<UpstreamClient>> UpstreamClient::Create(const ClientTlsOptions* tls) {
  std::unique_ptr<UpstreamClient> c(new UpstreamClient());
  if (tls != nullptr) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (tls->ca_file.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.load_verify_file(tls->ca_file, ec);
    }
    if (ec)
      return InvalidArgumentError("cannot use CA file '" + tls->ca_file + "': " + ec.message());
    ctx.set_verify_mode(ssl::verify_peer);
    if (!tls->cert_file.empty()) {
      ctx.use_certificate_chain_file(tls->cert_file, ec);
      if (!ec) ctx.use_private_key_file(tls->key_file, ssl::context::pem, ec);
      if (ec) {
        return InvalidArgumentError("cannot use client certificate '" + tls->cert_file +
                                    "': " + ec.message());
      }
    }
    c->impl_->tls.emplace(std::move(ctx));
  }
  return c;
}

asio::awaitable<Outcome> UpstreamClient::Exchange(const Address& to, const UpstreamRequest& req,
                                                  ResponseSink& sink) {
  std::unique_ptr<Conn> c = impl_->Take(to);
  const bool pooled = c != nullptr;
  if (!c) c = co_await impl_->Connect(to);
  if (!c) co_return Outcome::kNotSent;
  bool reusable = false;
  Outcome o = co_await c->Exchange(to, req, sink, reusable);
  if (o == Outcome::kNoResponse && pooled && c->closed_unanswered) {
    // The replica closed the pooled connection as the request went out (an idle timeout, or a
    // replica stopping): it never read the request. Once more on a new connection; a replica
    // that is gone refuses it, and the request counts as not sent (retried elsewhere).
    c = co_await impl_->Connect(to);
    if (!c) co_return Outcome::kNotSent;
    o = co_await c->Exchange(to, req, sink, reusable);
  }
  if (o == Outcome::kNoResponse && c->closed_unanswered)
    LOG_WARN("upstream {}: no response: the connection was closed", to.key());
  if (o == Outcome::kOk && reusable) impl_->Give(to, std::move(c));
  co_return o;
}

StatusOr<std::string> FetchUrl(const std::string& url, const std::string& ca_file, size_t limit,
                               std::chrono::milliseconds timeout) {
  std::string path;
  ASSIGN_OR_RETURN(Address a, ParseUrl(url, &path));
  asio::io_context io;  // outlives the client's pooled connection
  ClientTlsOptions tls;
  tls.ca_file = ca_file;
  ASSIGN_OR_RETURN(std::unique_ptr<UpstreamClient> client, UpstreamClient::Create(&tls));
  BufferSink sink;
  sink.limit = limit;
  UpstreamRequest req;
  req.target = path;
  req.timeout = timeout;
  Outcome o = Outcome::kNotSent;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { o = co_await client->Exchange(a, req, sink); },
      asio::detached);
  io.run();
  if (o != Outcome::kOk || sink.status != 200)
    return UnavailableError("cannot fetch " + url + " (" + OutcomeName(o) + ", HTTP " +
                            std::to_string(sink.status) + ")");
  return std::move(sink.body);
}

}  // namespace medscribe::gateway
