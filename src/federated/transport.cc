#include "federated/transport.h"

#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/url.h"

namespace medscribe::federated {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr int kIoTimeoutS = 30;

// TLS 1.2 or later, the peer verified against `tls.ca`, this party's certificate presented.
StatusOr<std::unique_ptr<ssl::context>> MakeContext(ssl::context::method method,
                                                    const TlsFiles& tls, bool server) {
  auto ctx = std::make_unique<ssl::context>(method);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->load_verify_file(tls.ca, ec);
  if (ec) return InvalidArgumentError("cannot use the CA file '" + tls.ca + "': " + ec.message());
  ctx->use_certificate_chain_file(tls.cert, ec);
  if (ec)
    return InvalidArgumentError("cannot use the certificate '" + tls.cert + "': " + ec.message());
  ctx->use_private_key_file(tls.key, ssl::context::pem, ec);
  if (ec) return InvalidArgumentError("cannot use the key '" + tls.key + "': " + ec.message());
  ctx->set_verify_mode(server ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                              : ssl::verify_peer);
  return ctx;
}

// Bounds every read and write of a blocking socket.
void SetTimeouts(tcp::socket& s) {
  timeval tv{kIoTimeoutS, 0};
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

std::string PeerName(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return "";
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

class Server final : public HttpsServer {
 public:
  Server(std::unique_ptr<ssl::context> ctx, int64_t max_body)
      : ctx_(std::move(ctx)), acceptor_(ioc_), max_body_(max_body) {}

  Status Bind(const std::string& host, int port) {
    boost::system::error_code ec;
    const tcp::endpoint ep(asio::ip::make_address(host, ec), static_cast<uint16_t>(port));
    if (ec) return InvalidArgumentError("'" + host + "' is not an IP address to listen on");
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return UnavailableError("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                              ec.message());
    return OkStatus();
  }

  int port() const override { return acceptor_.local_endpoint().port(); }

  void Serve(const Handler& handler, const std::function<bool()>& tick) override {
    while (tick()) {
      pollfd p{acceptor_.native_handle(), POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      boost::system::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) continue;
      SetTimeouts(socket);
      ssl::stream<tcp::socket> stream(std::move(socket), *ctx_);
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) continue;  // no certificate of the federation's CA, or not TLS
      boost::beast::flat_buffer buffer;
      http::request_parser<http::string_body> parser;
      parser.body_limit(static_cast<uint64_t>(max_body_));
      http::read(stream, buffer, parser, ec);
      Response res;
      if (ec) {
        res = {413, "application/json", R"({"error":"request unreadable or too large"})"};
      } else {
        const auto& req = parser.get();
        res = handler({std::string(req.method_string()), std::string(req.target()), req.body(),
                       PeerName(stream.native_handle())});
      }
      http::response<http::string_body> out{static_cast<http::status>(res.status), 11};
      out.set(http::field::content_type, res.content_type);
      out.body() = std::move(res.body);
      out.prepare_payload();
      http::write(stream, out, ec);
      stream.shutdown(ec);
    }
  }

 private:
  asio::io_context ioc_;
  std::unique_ptr<ssl::context> ctx_;
  tcp::acceptor acceptor_;
  int64_t max_body_;
};

class Client final : public HttpsClient {
 public:
  Client(Url url, std::unique_ptr<ssl::context> ctx) : url_(std::move(url)), ctx_(std::move(ctx)) {}

  StatusOr<Response> Send(const std::string& method, const std::string& target,
                          const std::string& body, const std::string& content_type) override {
    asio::io_context ioc;
    boost::system::error_code ec;
    tcp::resolver resolver(ioc);
    const auto endpoints = resolver.resolve(url_.host, std::to_string(url_.port), ec);
    const std::string where = url_.host + ":" + std::to_string(url_.port);
    if (ec) return UnavailableError("cannot resolve " + url_.host + ": " + ec.message());
    ssl::stream<tcp::socket> stream(ioc, *ctx_);
    asio::connect(stream.next_layer(), endpoints, ec);
    if (ec)
      return UnavailableError("cannot reach the federation server at " + where + ": " +
                              ec.message());
    SetTimeouts(stream.next_layer());
    SSL_set_tlsext_host_name(stream.native_handle(), url_.host.c_str());
    stream.set_verify_callback(ssl::host_name_verification(url_.host));
    stream.handshake(ssl::stream_base::client, ec);
    if (ec)
      return UnavailableError("TLS with the federation server at " + where +
                              " failed: " + ec.message() +
                              " (both sides need certificates of the federation's CA)");
    http::request<http::string_body> req{method == "POST" ? http::verb::post : http::verb::get,
                                         target, 11};
    req.set(http::field::host, url_.host);
    req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req, ec);
    if (ec) return UnavailableError("sending to " + where + " failed: " + ec.message());
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ULL << 31);
    http::read(stream, buffer, parser, ec);
    if (ec) return UnavailableError("no answer from " + where + ": " + ec.message());
    stream.shutdown(ec);
    Response r;
    r.status = static_cast<int>(parser.get().result_int());
    r.body = std::move(parser.get().body());
    return r;
  }

 private:
  Url url_;
  std::unique_ptr<ssl::context> ctx_;
};

}  // namespace

StatusOr<std::unique_ptr<HttpsServer>> HttpsServer::Listen(const std::string& host, int port,
                                                           const TlsFiles& tls,
                                                           int64_t max_body_bytes) {
  ASSIGN_OR_RETURN(auto ctx, MakeContext(ssl::context::tls_server, tls, true));
  auto server = std::make_unique<Server>(std::move(ctx), max_body_bytes);
  RETURN_IF_ERROR(server->Bind(host, port));
  return std::unique_ptr<HttpsServer>(std::move(server));
}

StatusOr<std::unique_ptr<HttpsClient>> HttpsClient::Create(const std::string& base,
                                                           const TlsFiles& tls) {
  ASSIGN_OR_RETURN(Url url, ParseHttpUrl(base));
  if (url.scheme != "https")
    return InvalidArgumentError("the federation server is reached over https, not '" + base + "'");
  ASSIGN_OR_RETURN(auto ctx, MakeContext(ssl::context::tls_client, tls, false));
  return std::unique_ptr<HttpsClient>(new Client(std::move(url), std::move(ctx)));
}

}  // namespace medscribe::federated
