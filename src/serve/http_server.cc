#include "serve/http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace medscribe::serve {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string_view StatusText(int status) {
  const auto r = http::obsolete_reason(static_cast<http::status>(status));
  return std::string_view(r.data(), r.size());
}

namespace {

struct Event {
  enum Kind { kFull, kBegin, kChunk, kEnd } kind;
  int status = 200;
  std::string content_type, body;
  std::map<std::string, std::string> headers;
};

// Events from any thread, written by the connection's coroutine on its strand.
class ResponderImpl : public Responder, public std::enable_shared_from_this<ResponderImpl> {
 public:
  explicit ResponderImpl(asio::any_io_executor strand) : strand_(strand), timer_(strand) {
    timer_.expires_at(asio::steady_timer::time_point::max());
  }
  void Send(int status, std::string content_type, std::string body,
            std::map<std::string, std::string> headers) override {
    Push({Event::kFull, status, std::move(content_type), std::move(body), std::move(headers)});
  }
  void Begin(int status, std::string content_type,
             std::map<std::string, std::string> headers) override {
    Push({Event::kBegin, status, std::move(content_type), {}, std::move(headers)});
  }
  bool Write(std::string chunk) override {
    if (gone_.load()) return false;
    Push({Event::kChunk, 0, {}, std::move(chunk), {}});
    return true;
  }
  void End() override { Push({Event::kEnd, 0, {}, {}, {}}); }

  // Writes the response as its events arrive; returns whether the connection may be reused.
  template <class Stream>
  asio::awaitable<bool> Run(Stream& stream, unsigned version, bool keep_alive) {
    std::optional<http::response<http::empty_body>> head;
    std::optional<http::response_serializer<http::empty_body>> serializer;
    while (true) {
      std::deque<Event> events;
      {
        std::lock_guard<std::mutex> lock(mu_);
        events.swap(queue_);
      }
      if (events.empty()) {
        boost::system::error_code ec;
        timer_.expires_at(asio::steady_timer::time_point::max());
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      for (Event& e : events) {
        boost::system::error_code ec;
        beast::get_lowest_layer(stream).expires_never();
        if (e.kind == Event::kFull) {
          http::response<http::string_body> res{static_cast<http::status>(e.status), version};
          res.set(http::field::content_type, e.content_type);
          res.set(http::field::server, "medscribe");
          for (const auto& [k, v] : e.headers) res.set(k, v);
          res.keep_alive(keep_alive);
          res.body() = std::move(e.body);
          res.prepare_payload();
          co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
          if (ec) gone_ = true;
          co_return !ec && keep_alive;
        }
        if (e.kind == Event::kBegin) {
          head.emplace(static_cast<http::status>(e.status), version);
          head->set(http::field::content_type, e.content_type);
          head->set(http::field::server, "medscribe");
          head->set(http::field::cache_control, "no-cache");
          for (const auto& [k, v] : e.headers) head->set(k, v);
          head->keep_alive(keep_alive);
          head->chunked(true);
          serializer.emplace(*head);
          co_await http::async_write_header(stream, *serializer,
                                            asio::redirect_error(asio::use_awaitable, ec));
        } else if (e.kind == Event::kChunk && serializer && !gone_) {
          co_await asio::async_write(stream, http::make_chunk(asio::buffer(e.body)),
                                     asio::redirect_error(asio::use_awaitable, ec));
        } else if (e.kind == Event::kEnd) {
          if (!gone_) {
            co_await asio::async_write(stream, http::make_chunk_last(),
                                       asio::redirect_error(asio::use_awaitable, ec));
          }
          co_return !gone_ && !ec && keep_alive;
        }
        if (ec) gone_ = true;
      }
    }
  }

 private:
  void Push(Event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(e));
    }
    asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
  }

  asio::any_io_executor strand_;  // the connection's strand
  asio::steady_timer timer_;
  std::mutex mu_;
  std::deque<Event> queue_;
  std::atomic<bool> gone_{false};
};

}  // namespace

struct HttpServer::Impl {
  Handler handler;
  HttpLimits limits;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::optional<asio::ssl::context> ssl;
  HeaderCheck header_check;
  std::atomic<bool> stopping{false};
  std::atomic<int> active{0};  // requests being answered
  uint16_t port = 0;

  asio::awaitable<void> Accept() {
    while (!stopping) {
      boost::system::error_code ec;
      tcp::socket socket(asio::make_strand(ioc));
      co_await acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        continue;
      }
      auto strand = socket.get_executor();
      if (ssl) {
        asio::co_spawn(strand, TlsSession(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(strand, PlainSession(std::move(socket)), asio::detached);
      }
    }
  }

  template <class Stream>
  asio::awaitable<void> Reject(Stream& stream, http::status status, const std::string& message) {
    EarlyReject r;
    r.status = static_cast<int>(status);
    r.body = "{\"error\":{\"message\":\"" + message +
             "\",\"code\":" + std::to_string(static_cast<int>(status)) + "}}";
    co_await Reject(stream, r);
  }
  template <class Stream>
  asio::awaitable<void> Reject(Stream& stream, const EarlyReject& r) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
    res.set(http::field::content_type, r.content_type);
    res.set(http::field::server, "medscribe");
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.set(http::field::connection, "close");
    res.body() = r.body;
    res.prepare_payload();
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }

  // After refusing a body: reads and discards what the client is still sending (up to 8 MiB,
  // at most 1 s), so that it reads the refusal instead of a connection reset.
  template <class Stream>
  asio::awaitable<void> Linger(Stream& stream) {
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    std::vector<char> sink(64 << 10);
    size_t total = 0;
    while (total < (8u << 20)) {
      const size_t n = co_await stream.async_read_some(
          asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      total += n;
    }
  }

  static std::string RemoteOf(const tcp::socket& socket) {
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    return ec ? std::string("?") : peer.address().to_string();
  }

  asio::awaitable<void> PlainSession(tcp::socket socket) {
    const std::string remote = RemoteOf(socket);
    beast::tcp_stream stream(std::move(socket));
    co_await Serve(stream, remote);
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  asio::awaitable<void> TlsSession(tcp::socket socket) {
    const std::string remote = RemoteOf(socket);
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *ssl);
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_after(limits.header_timeout);
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;  // not TLS, a failed client certificate, or too slow
    co_await Serve(stream, remote);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }

  // Reads requests from one connection and answers them, until either side closes.
  template <class Stream>
  asio::awaitable<void> Serve(Stream& stream, const std::string& remote) {
    const asio::any_io_executor strand = stream.get_executor();  // the connection's strand
    boost::system::error_code ec;
    beast::flat_buffer buffer;
    bool first = true;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
      parser.body_limit(limits.max_body_bytes);
      beast::get_lowest_layer(stream).expires_after(first ? limits.header_timeout
                                                          : limits.idle_timeout);
      co_await http::async_read_header(stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::body_limit) {  // a declared Content-Length over the limit
        co_await Reject(
            stream, http::status::payload_too_large,
            "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes");
        co_await Linger(stream);
        break;
      }
      if (ec == http::error::header_limit) {
        co_await Reject(
            stream, http::status::request_header_fields_too_large,
            "request headers larger than " + std::to_string(limits.max_header_bytes) + " bytes");
        break;
      }
      if (ec == beast::error::timeout) {
        if (!first && buffer.size() == 0) break;  // idle keep-alive connection
        co_await Reject(stream, http::status::request_timeout, "request headers too slow");
        break;
      }
      if (ec) break;
      first = false;
      if (parser.get().target().size() > limits.max_target_bytes) {
        co_await Reject(stream, http::status::uri_too_long, "request target too long");
        break;
      }
      if (parser.content_length() && *parser.content_length() > limits.max_body_bytes) {
        co_await Reject(
            stream, http::status::payload_too_large,
            "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes");
        co_await Linger(stream);
        break;
      }
      if (header_check) {
        HttpRequest head = ToRequest(parser.get(), remote, /*with_body=*/false);
        EarlyReject r = header_check(head);
        if (r.status != 0) {
          co_await Reject(stream, r);
          if (!parser.is_done()) co_await Linger(stream);
          break;
        }
      }
      if (!parser.is_done()) {
        beast::get_lowest_layer(stream).expires_after(limits.body_timeout);
        co_await http::async_read(stream, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec == http::error::body_limit) {
          co_await Reject(
              stream, http::status::payload_too_large,
              "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes");
          co_await Linger(stream);
          break;
        }
        if (ec == beast::error::timeout) {
          co_await Reject(stream, http::status::request_timeout, "request body too slow");
          break;
        }
        if (ec) break;
      }
      http::request<http::string_body> msg = parser.release();
      HttpRequest req = ToRequest(msg, remote, /*with_body=*/true);
      const bool keep_alive = msg.keep_alive();
      auto responder = std::make_shared<ResponderImpl>(strand);
      ++active;
      handler(std::move(req), responder);
      const bool reuse = co_await responder->Run(stream, msg.version(), keep_alive);
      --active;
      if (!reuse) break;
    }
  }

  static HttpRequest ToRequest(http::request<http::string_body>& msg, const std::string& remote,
                               bool with_body) {
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.path = req.target.substr(0, req.target.find('?'));
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(f.value());
    }
    if (with_body) req.body = std::move(msg.body());
    req.remote = remote;
    return req;
  }
};

Status HttpServer::EnableTls(const TlsServerOptions& tls) {
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(tls.cert_file, ec);
  if (ec) {
    return InvalidArgumentError("cannot use TLS certificate " + tls.cert_file + ": " +
                                ec.message() + " (a PEM certificate chain is expected)");
  }
  ctx.use_private_key_file(tls.key_file, asio::ssl::context::pem, ec);
  if (ec) {
    return InvalidArgumentError("cannot use TLS key " + tls.key_file + ": " + ec.message() +
                                " (the PEM private key of the certificate is expected)");
  }
  if (!tls.client_ca_file.empty()) {
    ctx.load_verify_file(tls.client_ca_file, ec);
    if (ec) {
      return InvalidArgumentError("cannot use client CA " + tls.client_ca_file + ": " +
                                  ec.message());
    }
    ctx.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  impl_->ssl.emplace(std::move(ctx));
  return OkStatus();
}

void HttpServer::SetHeaderCheck(HeaderCheck check) { impl_->header_check = std::move(check); }

HttpServer::HttpServer(Handler handler, HttpLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->limits = limits;
}

HttpServer::~HttpServer() {
  if (!impl_->threads.empty()) {
    impl_->ioc.stop();
    for (auto& t : impl_->threads)
      if (t.joinable()) t.join();
  }
}

Status HttpServer::Start(const std::string& host, uint16_t port, int threads) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgumentError("cannot listen on '" + host + "': not an IP address");
  tcp::endpoint endpoint(address, port);
  impl_->acceptor.emplace(impl_->ioc);
  impl_->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(endpoint, ec);
  if (!ec) impl_->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kUnavailable,
                  "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  impl_->port = impl_->acceptor->local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->Accept(), asio::detached);
  for (int i = 0; i < std::max(1, threads); ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return OkStatus();
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  asio::post(impl_->ioc, [this] {
    boost::system::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  // Requests being answered finish; then every connection closes.
  while (impl_->active.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  impl_->ioc.stop();
}

void HttpServer::Wait() {
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
}

}  // namespace medscribe::serve
