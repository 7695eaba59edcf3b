#include "gateway/gateway.h"

#include <unistd.h>

#include <simdjson.h>
#include <boost/asio.hpp>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "common/files.h"
#include "common/logging.h"
#include "common/strings.h"
#include "crypto/hmac.h"
#include "gateway/audit.h"
#include "gateway/clinical_api.h"
#include "gateway/json_limits.h"
#include "gateway/local_replicas.h"
#include "gateway/rate_limit.h"
#include "gateway/upstream.h"
#include "serve/http_server.h"
#include "serve/jwt.h"
#include "serve/metrics.h"

namespace medscribe::gateway {
namespace fs = std::filesystem;
using serve::HttpRequest;
using serve::Responder;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

namespace {

double NowS() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}
int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ErrorJson(int status, const std::string& message) {
  return Json{{"error",
               {{"message", message},
                {"type", status >= 500 ? "server_error" : "invalid_request_error"},
                {"code", status}}}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The 404 body for a method and path the policy does not know (long paths are not echoed).
std::string NoRoute(const HttpRequest& req) {
  return ErrorJson(404, "no such route: " + req.method + " " +
                            (req.path.size() < 64 ? req.path : std::string("(path)")) +
                            "; see docs/api.md");
}

// Adds what every answer of the gateway carries: Cache-Control: no-store (answers hold PHI or
// tokens; a route whose answer may be cached sets its own Cache-Control first) and, over TLS,
// Strict-Transport-Security.
class SecurityHeaders final : public Responder {
 public:
  SecurityHeaders(std::shared_ptr<Responder> inner, bool tls)
      : inner_(std::move(inner)), tls_(tls) {}
  void Send(int status, std::string type, std::string body,
            std::map<std::string, std::string> headers) override {
    Add(headers);
    inner_->Send(status, std::move(type), std::move(body), std::move(headers));
  }
  void Begin(int status, std::string type, std::map<std::string, std::string> headers) override {
    Add(headers);
    inner_->Begin(status, std::move(type), std::move(headers));
  }
  bool Write(std::string chunk) override { return inner_->Write(std::move(chunk)); }
  void End() override { inner_->End(); }

 private:
  void Add(std::map<std::string, std::string>& h) const {
    bool cache = false;
    for (const auto& [k, v] : h) cache = cache || AsciiLower(k) == "cache-control";
    if (!cache) h["Cache-Control"] = "no-store";
    if (tls_) h["Strict-Transport-Security"] = "max-age=31536000";
  }
  std::shared_ptr<Responder> inner_;
  bool tls_;
};

// One model-server replica; its state outlives configuration reloads (keyed by URL).
struct Replica {
  std::string url;
  Address addr;
  std::atomic<int> outstanding{0};
  std::atomic<bool> ready{true};          // last active health check (optimistic at start)
  std::atomic<int64_t> ejected_until{0};  // steady ms; passive ejection
  std::atomic<int> errors{0};             // consecutive failures
  std::mutex mu;
  std::string model;  // NAME@VERSION from /readyz
  bool available(int64_t now) const { return ready.load() && ejected_until.load() <= now; }
};

struct DeploymentRt {
  std::string name;
  double weight = 0;
  std::vector<std::shared_ptr<Replica>> replicas;
  std::atomic<uint64_t> rr{0};
};

struct EndpointRt {
  std::string name;
  std::vector<std::unique_ptr<DeploymentRt>> deployments;
  int mirror = -1;
  double mirror_percent = 0;
  std::mutex mu;
  std::vector<double> current;  // smooth weighted round robin state
};

// Everything a reload replaces. Requests keep the State they started with.
struct State {
  GatewayConfig config;
  std::vector<std::unique_ptr<EndpointRt>> endpoints;
  std::map<std::string, EndpointRt*> by_path;
  std::unique_ptr<RateLimiter> per_principal, per_address;
};

struct Metrics {
  std::mutex mu;
  std::map<std::pair<std::string, int>, uint64_t> requests;          // route, status
  std::map<std::pair<std::string, std::string>, uint64_t> upstream;  // deployment, outcome
  std::map<std::string, uint64_t> refused;                           // reason class
  uint64_t retries = 0, mirrored = 0, ejections = 0, audit_records = 0;
  serve::Histogram latency{
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};
  serve::Histogram upstream_latency{
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};
};

// Forwards a replica's response to the client; holds back a 503 of a first attempt (the replica
// is draining or not ready: the request never reached a model and goes to another replica).
class ForwardSink : public ResponseSink {
 public:
  // `before_head(status)` runs before the response starts (the audit record); false turns the
  // response into a 500.
  ForwardSink(std::shared_ptr<Responder> res, std::function<bool(int)> before_head,
              std::map<std::string, std::string> headers, bool hold_503)
      : res_(std::move(res)),
        before_head_(std::move(before_head)),
        headers_(std::move(headers)),
        hold_503_(hold_503) {}
  void Head(int status, const std::string& type, bool streamed) override {
    status_ = status;
    type_ = type;
    streamed_ = streamed;
    if (status == 503 && hold_503_) {
      held_ = true;
      return;
    }
    if (streamed_) {
      started_ = true;
      if (!before_head_(status)) {
        refused_ = true;
        res_->Send(500, "application/json",
                   ErrorJson(500, "the audit log cannot be written; the answer is withheld"),
                   headers_);
        return;
      }
      res_->Begin(status, type, headers_);
    }
  }
  bool Data(std::string chunk) override {
    if (refused_) return false;
    if (held_) return true;
    if (streamed_) return res_->Write(std::move(chunk));
    if (body_.size() + chunk.size() > (256u << 20)) return false;
    body_ += chunk;
    return true;
  }
  void End() override {
    if (held_) return;
    if (streamed_) {
      res_->End();
    } else {
      started_ = true;
      if (before_head_(status_)) {
        res_->Send(status_, type_, std::move(body_), headers_);
      } else {
        res_->Send(500, "application/json",
                   ErrorJson(500, "the audit log cannot be written; the answer is withheld"),
                   headers_);
      }
    }
    ended_ = true;
  }
  // After a broken exchange: finishes whatever was started.
  void Abort() {
    if (started_ && streamed_ && !ended_ && !refused_) res_->End();
  }
  bool held() const { return held_; }
  bool started() const { return started_; }
  int status() const { return status_; }

 private:
  std::shared_ptr<Responder> res_;
  std::function<bool(int)> before_head_;
  std::map<std::string, std::string> headers_;
  bool hold_503_;
  int status_ = 0;
  std::string type_, body_;
  bool streamed_ = false, held_ = false, started_ = false, ended_ = false, refused_ = false;
};

class DiscardSink : public ResponseSink {
 public:
  void Head(int s, const std::string&, bool) override { status = s; }
  bool Data(std::string) override { return true; }
  void End() override {}
  int status = 0;
};

}  // namespace

struct Gateway::Impl {
  std::shared_mutex state_mu;
  std::shared_ptr<const State> state;
  std::mutex replicas_mu;
  std::map<std::string, std::shared_ptr<Replica>> replicas;  // by URL, across reloads

  GatewayConfig boot;  // listening and TLS settings (not reloaded)
  std::optional<LocalPki> pki;
  std::unique_ptr<serve::HttpServer> server;
  std::unique_ptr<UpstreamClient> client;
  std::unique_ptr<AuditLog> audit;
  std::string audit_key;
  std::optional<serve::DevIssuer> dev;
  std::string issuer;
  std::mutex keys_mu;
  std::shared_ptr<const serve::KeySet> keys;
  std::atomic<int64_t> last_jwks_fetch{0};
  // Tokens whose signature, issuer and audience were verified, by their exact text: a hit only
  // re-checks the time claims. Cleared when the keys change; bounded.
  std::mutex verified_mu;
  std::unordered_map<std::string, serve::JwtClaims> verified;
  static constexpr size_t kMaxVerified = 10000;
  std::unique_ptr<LocalReplicas> local;
  std::map<std::string, std::vector<std::string>> local_urls;  // deployment → URLs
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};
  std::mutex principal_mu;
  std::map<std::string, int> principal_in_flight;
  Metrics metrics;
  std::string scheme = "https";
  std::mt19937_64 rng{std::random_device{}()};
  std::mutex rng_mu;
  std::unique_ptr<ClinicalApi> clinical;

  // Sends `body` to a replica of the endpoint serving `path` (the same routing as forwarded
  // requests: weights, least outstanding, one retry when the request never reached a model)
  // and waits for the whole answer. REQUIRES: not called on an I/O thread of the gateway.
  struct Called {
    int status = 0;
    bool streamed = false;
    std::string body, model;  // body: empty when streamed into on_data
  };
  // Keeps a plain answer; hands a streamed 200 answer to `on_data` piece by piece (false: stop).
  class CallSink : public ResponseSink {
   public:
    explicit CallSink(const std::function<bool(std::string_view)>& on_data) : on_data_(on_data) {}
    void Head(int status, const std::string&, bool streamed) override {
      c.status = status;
      c.streamed = streamed && status == 200 && on_data_;
    }
    bool Data(std::string chunk) override {
      if (c.streamed) return on_data_(chunk);
      if (c.body.size() + chunk.size() > (64u << 20)) return false;
      c.body += chunk;
      return true;
    }
    void End() override {}
    Called c;

   private:
    const std::function<bool(std::string_view)>& on_data_;
  };
  StatusOr<Called> CallEndpoint(const std::string& path, std::string body,
                                const std::function<bool(std::string_view)>& on_data = {}) {
    std::promise<StatusOr<Called>> promise;
    auto future = promise.get_future();
    boost::asio::co_spawn(
        ioc,
        [this, &path, &body, &promise, &on_data]() -> boost::asio::awaitable<void> {
          std::shared_ptr<const State> s = Current();
          auto it = s->by_path.find(path);
          if (it == s->by_path.end()) {
            promise.set_value(FailedPreconditionError("no endpoint serves " + path +
                                                      "; add it to an endpoint's paths"));
            co_return;
          }
          EndpointRt* ep = it->second;
          DeploymentRt* dep = PickDeployment(*ep, nullptr);
          std::shared_ptr<Replica> replica = dep ? PickReplica(*dep, nullptr) : nullptr;
          UpstreamRequest up;
          up.method = "POST";
          up.target = path;
          up.body = std::move(body);
          up.timeout = s->config.limits.upstream_timeout;
          up.headers.emplace_back("content-type", "application/json");
          for (int attempt = 0; attempt < 2 && replica; ++attempt) {
            CallSink sink(on_data);
            ++replica->outstanding;
            const Outcome o = co_await client->Exchange(replica->addr, up, sink);
            --replica->outstanding;
            {
              std::lock_guard<std::mutex> lock(metrics.mu);
              ++metrics.upstream[{
                  dep->name, o == Outcome::kOk ? std::to_string(sink.c.status) : OutcomeName(o)}];
            }
            if (o == Outcome::kNotSent || (o == Outcome::kOk && sink.c.status == 503)) {
              if (o == Outcome::kNotSent) Failed(*replica, true, *s);
              replica = PickReplica(*dep, replica.get());
              continue;
            }
            if (o != Outcome::kOk) {
              Failed(*replica, false, *s);
              promise.set_value(
                  o == Outcome::kTimeout
                      ? DeadlineExceededError("the model replica did not answer in time")
                      : UnavailableError("the model replica failed while drafting"));
              co_return;
            }
            Called c = std::move(sink.c);
            {
              std::lock_guard<std::mutex> lock(replica->mu);
              c.model = replica->model;
            }
            promise.set_value(std::move(c));
            co_return;
          }
          promise.set_value(UnavailableError("no model replica could take the draft; retry later"));
        },
        boost::asio::detached);
    return future.get();
  }

  std::shared_ptr<const State> Current() {
    std::shared_lock<std::shared_mutex> lock(state_mu);
    return state;
  }

  double Uniform() {
    std::lock_guard<std::mutex> lock(rng_mu);
    return std::uniform_real_distribution<double>(0, 1)(rng);
  }

  StatusOr<std::shared_ptr<State>> Build(GatewayConfig c) {
    auto s = std::make_shared<State>();
    for (const Endpoint& e : c.endpoints) {
      auto ep = std::make_unique<EndpointRt>();
      ep->name = e.name;
      for (const Deployment& d : e.deployments) {
        auto dep = std::make_unique<DeploymentRt>();
        dep->name = d.name;
        dep->weight = d.weight;
        std::vector<std::string> urls = d.replicas;
        if (d.is_local()) {
          auto it = local_urls.find(e.name + "/" + d.name);
          if (it == local_urls.end())
            return FailedPreconditionError(
                "deployment '" + d.name +
                "' gained local replicas on reload; restart the gateway to start them");
          urls = it->second;
        }
        for (const std::string& u : urls) {
          ASSIGN_OR_RETURN(Address a, ParseUrl(u));
          std::lock_guard<std::mutex> lock(replicas_mu);
          auto& r = replicas[u];
          if (!r) {
            r = std::make_shared<Replica>();
            r->url = u;
            r->addr = a;
          }
          dep->replicas.push_back(r);
        }
        ep->deployments.push_back(std::move(dep));
      }
      ep->current.assign(ep->deployments.size(), 0);
      for (size_t i = 0; i < e.deployments.size(); ++i)
        if (e.deployments[i].name == e.mirror) ep->mirror = static_cast<int>(i);
      ep->mirror_percent = e.mirror_percent;
      for (const std::string& p : e.paths) {
        if (s->by_path.count(p))
          return InvalidArgumentError("path " + p + " is routed to two endpoints");
        s->by_path[p] = ep.get();
      }
      s->endpoints.push_back(std::move(ep));
    }
    s->per_principal = std::make_unique<RateLimiter>(c.limits.per_principal);
    s->per_address = std::make_unique<RateLimiter>(c.limits.per_address);
    s->config = std::move(c);
    return s;
  }

  // ---- keys ----
  std::shared_ptr<const serve::KeySet> Keys() {
    std::lock_guard<std::mutex> lock(keys_mu);
    return keys;
  }

  StatusOr<std::string> FetchJwksUrl(const std::string& url) {
    std::string path;
    ASSIGN_OR_RETURN(Address a, ParseUrl(url, &path));
    std::unique_ptr<UpstreamClient> c;
    ClientTlsOptions tls;
    tls.ca_file = boot.jwks_ca;
    ASSIGN_OR_RETURN(c, UpstreamClient::Create(&tls));
    BufferSink sink;
    sink.limit = 1 << 20;
    UpstreamRequest req;
    req.target = path;
    req.timeout = std::chrono::seconds(10);
    boost::asio::io_context io;
    Outcome o = Outcome::kNotSent;
    boost::asio::co_spawn(
        io, [&]() -> boost::asio::awaitable<void> { o = co_await c->Exchange(a, req, sink); },
        boost::asio::detached);
    io.run();
    if (o != Outcome::kOk || sink.status != 200)
      return Status(ErrorCode::kUnavailable, "cannot fetch the JWKS from " + url + " (" +
                                                 OutcomeName(o) + ", HTTP " +
                                                 std::to_string(sink.status) + ")");
    return sink.body;
  }

  Status LoadKeys() {
    std::string jwks;
    if (!boot.jwks_file.empty()) {
      ASSIGN_OR_RETURN(jwks, ReadFile(boot.jwks_file));
    } else if (!boot.jwks_url.empty()) {
      ASSIGN_OR_RETURN(jwks, FetchJwksUrl(boot.jwks_url));
    } else {
      jwks = dev->Jwks();
    }
    auto set = serve::KeySet::Parse(jwks);
    if (!set.ok()) return Status(set.status().code(), "JWKS: " + set.status().message());
    {
      std::lock_guard<std::mutex> lock(keys_mu);
      keys = std::make_shared<const serve::KeySet>(std::move(*set));
    }
    {
      std::lock_guard<std::mutex> lock(verified_mu);
      verified.clear();
    }
    last_jwks_fetch = NowMs();
    return OkStatus();
  }

  StatusOr<serve::JwtClaims> Verify(const std::string& token, const serve::JwtPolicy& jp) {
    const int64_t now = UnixNow();
    {
      std::lock_guard<std::mutex> lock(verified_mu);
      auto it = verified.find(token);
      if (it != verified.end()) {
        const serve::JwtClaims& c = it->second;
        const bool aud_ok = std::find(c.aud.begin(), c.aud.end(), jp.audience) != c.aud.end();
        if (c.iss == jp.issuer && aud_ok && now <= c.exp + jp.leeway_s &&
            (c.nbf == 0 || now >= c.nbf - jp.leeway_s))
          return c;
        verified.erase(it);  // expired, or the expected issuer/audience changed on reload
      }
    }
    auto keyset = Keys();
    auto claims = serve::VerifyJwt(token, *keyset, jp, now);
    if (claims.ok() && claims->exp > 0) {
      std::lock_guard<std::mutex> lock(verified_mu);
      if (verified.size() >= kMaxVerified) verified.clear();
      verified.emplace(token, *claims);
    }
    return claims;
  }

  void RefreshKeysSoon() {
    if (boot.jwks_file.empty() && boot.jwks_url.empty()) return;
    if (NowMs() - last_jwks_fetch.load() < 30000) return;
    last_jwks_fetch = NowMs();
    std::thread([this] {
      if (Status s = LoadKeys(); !s.ok())
        LOG_WARN("JWKS refresh failed, keeping the previous keys: {}", s.message());
    }).detach();
  }

  // ---- routing ----
  DeploymentRt* PickDeployment(EndpointRt& ep, const DeploymentRt* exclude) {
    const int64_t now = NowMs();
    std::lock_guard<std::mutex> lock(ep.mu);
    auto eligible = [&](size_t i, bool need_available) {
      const DeploymentRt& d = *ep.deployments[i];
      if (d.weight <= 0 || &d == exclude) return false;
      if (!need_available) return true;
      for (const auto& r : d.replicas)
        if (r->available(now)) return true;
      return false;
    };
    for (bool need : {true, false}) {
      double total = 0;
      int best = -1;
      for (size_t i = 0; i < ep.deployments.size(); ++i) {
        if (!eligible(i, need)) continue;
        ep.current[i] += ep.deployments[i]->weight;
        total += ep.deployments[i]->weight;
        if (best < 0 || ep.current[i] > ep.current[static_cast<size_t>(best)])
          best = static_cast<int>(i);
      }
      if (best >= 0) {
        ep.current[static_cast<size_t>(best)] -= total;
        return ep.deployments[static_cast<size_t>(best)].get();
      }
    }
    return nullptr;
  }

  std::shared_ptr<Replica> PickReplica(DeploymentRt& d, const Replica* exclude) {
    const int64_t now = NowMs();
    const size_t n = d.replicas.size();
    if (n == 0) return nullptr;
    const uint64_t start = d.rr.fetch_add(1);
    std::shared_ptr<Replica> best;
    for (bool need : {true, false}) {
      for (size_t k = 0; k < n; ++k) {
        const auto& r = d.replicas[(start + k) % n];
        if (r.get() == exclude || (need && !r->available(now))) continue;
        if (!best || r->outstanding.load() < best->outstanding.load()) best = r;
      }
      if (best) return best;
    }
    return nullptr;
  }

  void Failed(Replica& r, bool connect_failure, const State& s) {
    const int errors = ++r.errors;
    if (connect_failure || errors >= s.config.eject_after_errors) {
      const int64_t until = NowMs() + s.config.eject_for.count();
      if (r.ejected_until.exchange(until) <= NowMs()) {
        std::lock_guard<std::mutex> lock(metrics.mu);
        ++metrics.ejections;
        LOG_WARN(
            "replica {} ejected for {} ms ({})", r.url, s.config.eject_for.count(),
            connect_failure ? "connection refused" : std::to_string(errors) + " errors in a row");
      }
      if (connect_failure) r.ready = false;
    }
  }

  // ---- health ----
  boost::asio::awaitable<void> HealthLoop() {
    auto ex = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer timer(ex);
    while (!stopping) {
      auto s = Current();
      std::vector<std::shared_ptr<Replica>> all;
      {
        std::lock_guard<std::mutex> lock(replicas_mu);
        for (auto& [u, r] : replicas) all.push_back(r);
      }
      for (auto& r : all) {
        BufferSink sink;
        sink.limit = 4096;
        UpstreamRequest req;
        req.target = "/readyz";
        req.timeout = std::chrono::milliseconds(
            std::min<int64_t>(2000, s->config.health_interval.count() * 2));
        const Outcome o = co_await client->Exchange(r->addr, req, sink);
        const bool ok = o == Outcome::kOk && sink.status == 200;
        if (ok) {
          const Json j = Json::parse(sink.body, nullptr, false);
          if (j.is_object() && j.contains("model") && j["model"].is_string()) {
            std::lock_guard<std::mutex> lock(r->mu);
            r->model = j["model"].get<std::string>();
          }
          if (!r->ready.exchange(true) || r->ejected_until.load() > NowMs())
            LOG_INFO("replica {} is ready: admitted", r->url);
          r->ejected_until = 0;
          r->errors = 0;
        } else if (r->ready.exchange(false)) {
          LOG_WARN("replica {} is not ready ({}, HTTP {})", r->url, OutcomeName(o), sink.status);
        }
      }
      timer.expires_after(s->config.health_interval);
      boost::system::error_code ec;
      co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
  }

  // ---- requests ----
  void Count(const std::string& route, int status) {
    std::lock_guard<std::mutex> lock(metrics.mu);
    ++metrics.requests[{route, status}];
  }
  void Refused(const std::string& why) {
    std::lock_guard<std::mutex> lock(metrics.mu);
    ++metrics.refused[why];
  }

  // Writes the audit record; false when it could not be made durable (the request then fails).
  bool Audit(AuditRecord r) {
    Status s = audit->Append(r);
    if (!s.ok()) {
      LOG_ERROR("audit log: {}", s.message());
      return false;
    }
    std::lock_guard<std::mutex> lock(metrics.mu);
    ++metrics.audit_records;
    return true;
  }

  std::string Pseudonym(const std::string& sub) {
    return "p-" + crypto::Hex(crypto::HmacSha256(audit_key, "principal:" + sub)).substr(0, 16);
  }

  std::string RenderMetrics() {
    std::string out;
    {
      std::lock_guard<std::mutex> lock(metrics.mu);
      out +=
          "# HELP medscribe_gateway_requests_total Requests answered by the gateway, by route and "
          "status.\n";
      out += "# TYPE medscribe_gateway_requests_total counter\n";
      for (const auto& [k, v] : metrics.requests)
        out += "medscribe_gateway_requests_total{route=\"" + k.first + "\",code=\"" +
               std::to_string(k.second) + "\"} " + std::to_string(v) + "\n";
      out +=
          "# HELP medscribe_gateway_upstream_requests_total Exchanges with replicas, by deployment "
          "and outcome.\n";
      out += "# TYPE medscribe_gateway_upstream_requests_total counter\n";
      for (const auto& [k, v] : metrics.upstream)
        out += "medscribe_gateway_upstream_requests_total{deployment=\"" + k.first +
               "\",outcome=\"" + k.second + "\"} " + std::to_string(v) + "\n";
      out += "# HELP medscribe_gateway_refused_total Requests refused by the gateway, by reason.\n";
      out += "# TYPE medscribe_gateway_refused_total counter\n";
      for (const auto& [k, v] : metrics.refused)
        out += "medscribe_gateway_refused_total{reason=\"" + k + "\"} " + std::to_string(v) + "\n";
      auto counter = [&](const char* name, const char* help, uint64_t v) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
               name + " " + std::to_string(v) + "\n";
      };
      counter("medscribe_gateway_retries_total", "Requests sent to a second replica.",
              metrics.retries);
      counter("medscribe_gateway_mirrored_total", "Requests copied to a mirror deployment.",
              metrics.mirrored);
      counter("medscribe_gateway_ejections_total", "Replicas taken out of rotation after failures.",
              metrics.ejections);
      counter("medscribe_gateway_audit_records_total", "Audit records written.",
              metrics.audit_records);
    }
    out += metrics.latency.Render("medscribe_gateway_request_duration_seconds",
                                  "Time from request to the end of the response, seconds.");
    out += metrics.upstream_latency.Render("medscribe_gateway_upstream_duration_seconds",
                                           "Time of exchanges with replicas, seconds.");
    out +=
        "# HELP medscribe_gateway_in_flight_requests Requests being answered.\n# TYPE "
        "medscribe_gateway_in_flight_requests gauge\n";
    out += "medscribe_gateway_in_flight_requests " + std::to_string(in_flight.load()) + "\n";
    out +=
        "# HELP medscribe_gateway_replica_up Whether a replica is in rotation (1) or not (0).\n# "
        "TYPE medscribe_gateway_replica_up gauge\n";
    auto s = Current();
    const int64_t now = NowMs();
    for (const auto& ep : s->endpoints)
      for (const auto& d : ep->deployments)
        for (const auto& r : d->replicas)
          out += "medscribe_gateway_replica_up{endpoint=\"" + ep->name + "\",deployment=\"" +
                 d->name + "\",replica=\"" + r->addr.key() + "\"} " +
                 (r->available(now) ? "1" : "0") + "\n";
    return out;
  }

  // Writes the refusal's audit record, then sends it; a 500 instead when the record cannot be
  // made durable (nothing is answered unrecorded).
  void RefuseAudited(const std::shared_ptr<Responder>& res, const std::string& route,
                     AuditRecord rec, int status, std::string outcome, std::string body,
                     std::map<std::string, std::string> headers = {}) {
    rec.status = status;
    rec.outcome = std::move(outcome);
    if (!Audit(std::move(rec))) {
      return Reply(res, route, 500,
                   ErrorJson(500, "the audit log cannot be written; nothing was done"));
    }
    Reply(res, route, status, std::move(body), std::move(headers));
  }

  void Reply(const std::shared_ptr<Responder>& res, const std::string& route, int status,
             std::string body, std::map<std::string, std::string> headers = {},
             const std::string& type = "application/json") {
    Count(route, status);
    res->Send(status, type, std::move(body), std::move(headers));
  }

  // Decided from the request line and headers, before the body is read: the per-address rate
  // limit (429), unknown routes (404), and a missing bearer token on a protected route (401,
  // audited), so unauthenticated clients never get a body buffered.
  serve::EarlyReject Early(const HttpRequest& head) {
    try {
      return EarlyChecks(head);
    } catch (const std::exception& e) {
      LOG_ERROR("gateway: unexpected error before the body: {}", e.what());
      serve::EarlyReject r;
      r.status = 500;
      r.body = ErrorJson(500, "internal error; see the gateway log");
      return r;
    }
  }
  serve::EarlyReject EarlyChecks(const HttpRequest& head) {
    serve::EarlyReject r;
    auto s = Current();
    const RoutePolicy* route = s->config.policy.Find(head.method, head.path);
    const std::string label = route ? route->path : "unmatched";
    if (const double wait = s->per_address->Take(head.remote, NowS()); wait > 0) {
      Refused("rate_address");
      Count(label, 429);
      r.status = 429;
      r.body = ErrorJson(429, "too many requests from this address; retry later");
      r.headers = {{"Retry-After", std::to_string(static_cast<int>(std::ceil(wait)))}};
      return r;
    }
    if (route == nullptr) {
      Count(label, 404);
      r.status = 404;
      r.body = NoRoute(head);
      return r;
    }
    const std::string authz = head.header("authorization");
    if (!route->public_route && (authz.size() < 8 || AsciiLower(authz.substr(0, 7)) != "bearer ")) {
      Refused("unauthenticated");
      AuditRecord rec;
      rec.action = route->action;
      rec.source = head.remote;
      rec.status = 401;
      rec.outcome = "no bearer token";
      if (!Audit(rec)) {
        Count(label, 500);
        r.status = 500;
        r.body = ErrorJson(500, "the audit log cannot be written; nothing was done");
        return r;
      }
      Count(label, 401);
      r.status = 401;
      r.body = ErrorJson(401,
                         "an Authorization: Bearer token is required (medscribe token issue --sub "
                         "ID --role ROLE)");
      r.headers = {{"WWW-Authenticate", "Bearer realm=\"medscribe\""}};
    }
    return r;
  }

  // Handle, with any exception turned into a 500 and a log line (none crosses into Asio).
  boost::asio::awaitable<void> Guarded(HttpRequest req, std::shared_ptr<Responder> res) {
    res = std::make_shared<SecurityHeaders>(std::move(res), scheme == "https");
    try {
      co_await Handle(std::move(req), res);
    } catch (const std::exception& e) {
      LOG_ERROR("gateway: unexpected error: {}", e.what());
      res->Send(500, "application/json", ErrorJson(500, "internal error; see the gateway log"));
    }
  }
  boost::asio::awaitable<void> Handle(HttpRequest req, std::shared_ptr<Responder> res);
  boost::asio::awaitable<void> Forward(std::shared_ptr<const State> s, EndpointRt* ep,
                                       HttpRequest req, std::shared_ptr<Responder> res,
                                       AuditRecord rec, bool audited, std::string route, double t0);
  boost::asio::awaitable<void> Mirror(std::shared_ptr<Replica> r, std::string deployment,
                                      UpstreamRequest up);
};

boost::asio::awaitable<void> Gateway::Impl::Mirror(std::shared_ptr<Replica> r,
                                                   std::string deployment, UpstreamRequest up) {
  DiscardSink sink;
  ++r->outstanding;
  const Outcome o = co_await client->Exchange(r->addr, up, sink);
  --r->outstanding;
  std::lock_guard<std::mutex> lock(metrics.mu);
  ++metrics.mirrored;
  ++metrics.upstream[{deployment + "(mirror)",
                      o == Outcome::kOk ? std::to_string(sink.status) : OutcomeName(o)}];
}

boost::asio::awaitable<void> Gateway::Impl::Handle(HttpRequest req,
                                                   std::shared_ptr<Responder> res) {
  const double t0 = NowS();
  std::shared_ptr<const State> s = Current();
  const GatewayConfig& c = s->config;
  const RoutePolicy* route = c.policy.Find(req.method, req.path);
  const std::string label = route ? route->path : "unmatched";
  // The address limit, unknown routes and missing tokens were answered by Early().
  if (route == nullptr) co_return Reply(res, label, 404, NoRoute(req));  // reloaded since Early()
  if (route->public_route) {
    if (req.path == "/healthz") co_return Reply(res, label, 200, R"({"status":"ok"})");
    if (req.path == "/readyz") {
      const int64_t now = NowMs();
      std::vector<std::string> down;
      for (const auto& ep : s->endpoints) {
        bool any = false;
        for (const auto& d : ep->deployments)
          for (const auto& r : d->replicas) any = any || r->available(now);
        if (!any) down.push_back(ep->name);
      }
      if (stopping) co_return Reply(res, label, 503, R"({"status":"draining"})");
      if (!down.empty())
        co_return Reply(res, label, 503,
                        Json{{"status", "no ready replica"}, {"endpoints", down}}.dump(
                            -1, ' ', false, nlohmann::json::error_handler_t::replace));
      co_return Reply(res, label, 200, R"({"status":"ready"})");
    }
    if (dev && req.path == "/.well-known/openid-configuration") {
      const std::string base = scheme + "://" + req.header("host");
      co_return Reply(
          res, label, 200,
          Json{{"issuer", issuer},
               {"jwks_uri", base + "/.well-known/jwks.json"},
               {"id_token_signing_alg_values_supported", {"ES256"}},
               {"response_types_supported", {"id_token"}},
               {"subject_types_supported", {"public"}},
               {"scopes_supported", {"openid"}},
               {"claims_supported",
                {"sub", "role", "department", "patient", "iss", "aud", "exp", "iat", "nbf"}}}
              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (dev && req.path == "/.well-known/jwks.json") co_return Reply(res, label, 200, dev->Jwks());
    if (req.path == "/" || req.path.rfind("/app/", 0) == 0) {
      Count(label, 200);
      if (ServeReviewPage(c.clinical.web_root, req, *res)) co_return;
      co_return Reply(res, label, 404, ErrorJson(404, "no such page"));
    }
    co_return Reply(res, label, 404, ErrorJson(404, "not served here"));
  }
  AuditRecord rec;
  rec.action = route->action;
  rec.source = req.remote;
  rec.request_digest = req.body.empty() ? "" : crypto::Hex(crypto::Sha256(req.body));
  // Authentication (Early() refused requests without a bearer token).
  const std::string authz = req.header("authorization");
  const serve::JwtPolicy jp{issuer, c.audience, c.leeway_s, c.clients};
  auto claims = Verify(authz.size() > 7 ? authz.substr(7) : std::string(), jp);
  if (!claims.ok()) {
    if (claims.status().message().find("kid") != std::string::npos) RefreshKeysSoon();
    Refused("unauthenticated");
    co_return RefuseAudited(
        res, label, rec, 401, "invalid token",
        ErrorJson(401, "invalid token: " + claims.status().message()),
        {{"WWW-Authenticate", "Bearer realm=\"medscribe\", error=\"invalid_token\""}});
  }
  rec.principal = Pseudonym(claims->sub);
  rec.role = claims->role;
  // Routes that touch encounters are scoped by the token's department unless the role may see
  // every department: a token without one (missing, empty or not a string) is refused, never
  // read as "any department".
  if (route->phi || route->context) {
    const auto& all = c.policy.all_departments_roles;
    if (claims->department.empty() &&
        std::find(all.begin(), all.end(), claims->role) == all.end()) {
      Refused("unauthenticated");
      co_return RefuseAudited(
          res, label, rec, 401, "no department claim",
          ErrorJson(401, "invalid token: it names no department, and role '" + claims->role +
                             "' may only touch its own department's encounters; the identity "
                             "provider must issue a 'department' claim (a string)"),
          {{"WWW-Authenticate", "Bearer realm=\"medscribe\", error=\"invalid_token\""}});
    }
  }
  if (const double wait = s->per_principal->Take(claims->sub, NowS()); wait > 0) {
    Refused("rate_principal");
    const std::string message = "rate limit of " + std::to_string(c.limits.per_principal.rps) +
                                " requests/s exceeded; retry later";
    std::map<std::string, std::string> retry = {
        {"Retry-After", std::to_string(static_cast<int>(std::ceil(wait)))}};
    if (route->phi) {
      co_return RefuseAudited(res, label, rec, 429, "rate limited", ErrorJson(429, message), retry);
    }
    co_return Reply(res, label, 429, ErrorJson(429, message), retry);
  }
  // Authorization: role → scopes.
  bool allowed = false;
  auto role_it = c.policy.roles.find(claims->role);
  if (role_it != c.policy.roles.end())
    for (const std::string& g : role_it->second)
      for (const std::string& n : route->scopes) allowed = allowed || ScopeCovers(g, n);
  auto forbid = [&](const std::string& outcome, const std::string& message) {
    Refused("forbidden");
    RefuseAudited(res, label, rec, 403, outcome, ErrorJson(403, message));
  };
  if (!allowed) {
    forbid("role lacks scope", "role '" + claims->role + "' does not grant " +
                                   route->scopes.front() + " needed for " + req.method + " " +
                                   route->path);
    co_return;
  }
  // Body limits.
  if (!req.body.empty() && req.header("content-type").find("json") != std::string::npos) {
    bool too_large = false;
    const std::string why =
        CheckJsonLimits(req.body, c.limits.json_max_depth, c.limits.image_max_bytes, &too_large);
    if (!why.empty()) {
      Refused(too_large ? "image_too_large" : "json_too_deep");
      co_return Reply(res, label, too_large ? 413 : 400, ErrorJson(too_large ? 413 : 400, why));
    }
  }
  // Context: which encounter the request touches, against the token's department/patient.
  if (route->context || route->phi) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    const simdjson::padded_string body(req.body);
    const bool parsed = !req.body.empty() && !parser.parse(body).get(doc) && doc.is_object();
    std::string_view v;
    std::string department, patient, encounter;
    if (parsed) {
      // The report API wraps the sample ({"sample": {...}}); a bare sample is read as is.
      simdjson::dom::element sample = doc;
      simdjson::dom::element inner;
      if (!doc["sample"].get(inner) && inner.is_object()) sample = inner;
      if (!sample["encounter_id"].get(v)) encounter = std::string(v);
      if (!sample["patient_id"].get(v)) patient = std::string(v);
      if (!sample.at_pointer("/meta/department").get(v)) department = std::string(v);
    }
    auto safe_id = [](const std::string& id) {
      if (id.size() > 64) return false;
      for (char ch : id)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
          return false;
      return true;
    };
    if (!encounter.empty() && safe_id(encounter)) rec.resources.push_back("Encounter/" + encounter);
    if (!patient.empty() && safe_id(patient)) rec.resources.push_back("Patient/" + patient);
    if (route->context) {
      if (!parsed)
        co_return Reply(res, label, 400,
                        ErrorJson(400, "the body must be a JSON sample (docs/formats/dataset.md)"));
      if (department.empty())
        co_return Reply(res, label, 400,
                        ErrorJson(400,
                                  "the sample has no meta.department; the gateway needs it to "
                                  "check the caller's department"));
      const auto& all = c.policy.all_departments_roles;
      const bool any_department = std::find(all.begin(), all.end(), claims->role) != all.end();
      if (!any_department && AsciiLower(department) != AsciiLower(claims->department)) {
        forbid("cross-department",
               "the encounter belongs to another department than the token's ('" +
                   claims->department + "')");
        co_return;
      }
      if (!claims->patient.empty() && patient != claims->patient) {
        forbid("other patient", "the token is limited to one patient and the sample names another");
        co_return;
      }
    }
  }
  if (req.path == "/metrics")
    co_return Reply(res, label, 200, RenderMetrics(), {}, "text/plain; version=0.0.4");
  if (route->action.rfind("draft.", 0) == 0 || route->action.rfind("batch.", 0) == 0) {
    if (!clinical)
      co_return Reply(res, label, 404,
                      ErrorJson(404,
                                "this gateway has no clinical workflow; add a 'clinical' "
                                "section to its config (docs/workflow.md)"));
    clinical::Caller caller;
    caller.sub = claims->sub;
    caller.name = claims->name;
    caller.pseudonym = rec.principal;
    caller.role = claims->role;
    caller.department = claims->department;
    caller.patient = claims->patient;
    const auto& all = c.policy.all_departments_roles;
    caller.any_department = std::find(all.begin(), all.end(), claims->role) != all.end();
    if (auto r = c.policy.roles.find(claims->role); r != c.policy.roles.end())
      for (const std::string& g : r->second)
        caller.may_sign = caller.may_sign || ScopeCovers(g, "user/DiagnosticReport.sign");
    AuditRecord base = rec;
    auto audited = std::make_shared<std::atomic<bool>>(false);
    ClinicalApi::AuditFn audit_fn = [this, base, audited, label](
                                        int status, const std::string& outcome,
                                        const std::vector<std::string>& resources) {
      Count(label, status);
      if (audited->exchange(true)) return true;
      AuditRecord r = base;
      r.status = status;
      r.outcome = outcome;
      r.resources = resources;
      return Audit(std::move(r));
    };
    ClinicalApi::LaterAuditFn later = [this, base](const std::string& action, int status,
                                                   const std::string& outcome,
                                                   const std::vector<std::string>& resources) {
      AuditRecord r = base;
      r.action = action;
      r.request_digest.clear();
      r.status = status;
      r.outcome = outcome;
      r.resources = resources;
      return Audit(std::move(r));
    };
    clinical->Handle(std::move(req), std::move(caller), res, std::move(audit_fn), std::move(later));
    co_return;
  }
  auto it = s->by_path.find(req.path);
  if (it == s->by_path.end())
    co_return Reply(
        res, label, 404,
        ErrorJson(404, "no endpoint serves " + route->path + "; add it to an endpoint's paths"));
  // Concurrency caps.
  if (in_flight.load() >= c.limits.max_in_flight) {
    Refused("concurrency");
    co_return Reply(res, label, 429,
                    ErrorJson(429, "the gateway is at its concurrency limit; retry later"),
                    {{"Retry-After", "1"}});
  }
  {
    std::lock_guard<std::mutex> lock(principal_mu);
    int& n = principal_in_flight[claims->sub];
    if (n >= c.limits.max_in_flight_per_principal) {
      Refused("concurrency_principal");
      co_return Reply(res, label, 429,
                      ErrorJson(429, "too many requests of yours in flight (limit " +
                                         std::to_string(c.limits.max_in_flight_per_principal) +
                                         "); retry later"),
                      {{"Retry-After", "1"}});
    }
    ++n;
  }
  // Counted in flight until Forward ends, however it ends.
  struct InFlight {
    Impl* m;
    std::string sub;
    ~InFlight() {
      --m->in_flight;
      std::lock_guard<std::mutex> lock(m->principal_mu);
      if (--m->principal_in_flight[sub] <= 0) m->principal_in_flight.erase(sub);
    }
  };
  ++in_flight;
  const InFlight counted{this, claims->sub};
  co_await Forward(s, it->second, std::move(req), res, std::move(rec), route->phi, label, t0);
}

boost::asio::awaitable<void> Gateway::Impl::Forward(std::shared_ptr<const State> s, EndpointRt* ep,
                                                    HttpRequest req, std::shared_ptr<Responder> res,
                                                    AuditRecord rec, bool audited,
                                                    std::string route, double t0) {
  UpstreamRequest up;
  up.method = req.method;
  up.target = req.target;
  up.body = std::move(req.body);
  up.timeout = s->config.limits.upstream_timeout;
  for (const char* h : {"content-type", "accept"})
    if (!req.header(h).empty()) up.headers.emplace_back(h, req.header(h));
  char rid[17];
  {
    std::lock_guard<std::mutex> lock(rng_mu);
    std::snprintf(rid, sizeof(rid), "%016llx", static_cast<unsigned long long>(rng()));
  }
  up.headers.emplace_back("x-request-id", rid);
  DeploymentRt* dep = PickDeployment(*ep, nullptr);
  if (dep == nullptr)
    co_return Reply(res, route, 503,
                    ErrorJson(503, "endpoint '" + ep->name + "' has no deployment with weight"));
  // A copy for the mirror deployment, answered nowhere.
  if (ep->mirror >= 0 && ep->deployments[static_cast<size_t>(ep->mirror)].get() != dep &&
      Uniform() * 100 < ep->mirror_percent) {
    DeploymentRt& m = *ep->deployments[static_cast<size_t>(ep->mirror)];
    if (auto r = PickReplica(m, nullptr))
      boost::asio::co_spawn(ioc, Mirror(r, m.name, up), boost::asio::detached);
  }
  std::shared_ptr<Replica> replica = PickReplica(*dep, nullptr);
  int status = 0;
  std::string replica_key, outcome_name;
  bool done = false;
  for (int attempt = 0; attempt < 2 && !done && replica; ++attempt) {
    std::string model;
    {
      std::lock_guard<std::mutex> lock(replica->mu);
      model = replica->model;
    }
    auto before_head = [&](int st) {
      status = st;
      if (!audited) return true;
      AuditRecord r = rec;
      r.status = st;
      r.outcome = st < 400 ? "ok" : "model server error";
      r.model = model;
      r.deployment = dep->name;
      if (Audit(std::move(r))) return true;
      status = 500;
      return false;
    };
    std::map<std::string, std::string> headers = {{"x-medscribe-deployment", dep->name},
                                                  {"x-request-id", rid}};
    ForwardSink sink(res, before_head, headers, /*hold_503=*/attempt == 0);
    const double u0 = NowS();
    ++replica->outstanding;
    const Outcome o = co_await client->Exchange(replica->addr, up, sink);
    --replica->outstanding;
    metrics.upstream_latency.Observe(NowS() - u0);
    replica_key = replica->addr.key();
    outcome_name = o == Outcome::kOk ? std::to_string(sink.status()) : OutcomeName(o);
    {
      std::lock_guard<std::mutex> lock(metrics.mu);
      ++metrics.upstream[{dep->name, outcome_name}];
    }
    const bool retryable = o == Outcome::kNotSent || (o == Outcome::kOk && sink.held());
    if (retryable) {
      if (o == Outcome::kNotSent)
        Failed(*replica, true, *s);
      else
        replica->ready = false;  // draining: until the health check says otherwise
      if (attempt == 0) {
        std::lock_guard<std::mutex> lock(metrics.mu);
        ++metrics.retries;
      }
      std::shared_ptr<Replica> next = PickReplica(*dep, replica.get());
      if (!next || !next->available(NowMs())) {
        if (DeploymentRt* other = PickDeployment(*ep, dep)) {
          if (auto r = PickReplica(*other, nullptr); r && r->available(NowMs())) {
            dep = other;
            next = r;
          }
        }
      }
      if (!next) next = PickReplica(*dep, replica.get());
      replica = next;
      continue;
    }
    done = true;
    if (o == Outcome::kOk) {
      if (sink.status() >= 500)
        Failed(*replica, false, *s);
      else
        replica->errors = 0;
    } else if (o == Outcome::kReceiverGone) {
      // The client left mid-stream (or the body passed 256 MiB): not the replica's fault. The
      // response must still end, or the connection would wait for it forever.
      if (sink.started()) {
        sink.Abort();
      } else {
        status = 502;
        res->Send(502, "application/json",
                  ErrorJson(502, "the model replica's answer is larger than the gateway forwards"),
                  headers);
      }
    } else {
      Failed(*replica, false, *s);
      if (sink.started()) {
        sink.Abort();
      } else {
        const int st = o == Outcome::kTimeout ? 504 : 502;
        before_head(st);
        status = st;
        res->Send(
            st, "application/json",
            ErrorJson(st,
                      o == Outcome::kTimeout
                          ? "the model replica did not answer in time"
                          : "the model replica failed while answering; the request may be retried"),
            headers);
      }
    }
    Count(route, status);
  }
  if (!done) {
    status = 503;
    if (audited) {
      AuditRecord r = rec;
      r.status = 503;
      r.outcome = "no replica available";
      r.deployment = dep->name;
      Audit(std::move(r));
    }
    Reply(res, route, 503,
          ErrorJson(
              503, "no replica of endpoint '" + ep->name + "' could take the request; retry later"),
          {{"Retry-After", "1"}});
  }
  const double ms = (NowS() - t0) * 1000;
  metrics.latency.Observe(ms / 1000);
  LOG_INFO("{} {} {} {:.1f}ms principal={} deployment={} replica={} upstream={}", req.method, route,
           status, ms, rec.principal, dep->name, replica_key, outcome_name);
}

Gateway::Gateway() : impl_(std::make_unique<Impl>()) {}

Gateway::~Gateway() { Stop(); }

StatusOr<std::unique_ptr<Gateway>> Gateway::Create(GatewayConfig config) {
  std::unique_ptr<Gateway> g(new Gateway());
  Impl& m = *g->impl_;
  m.boot = config;
  std::error_code ec;
  fs::create_directories(config.home / "keys", ec);
  if (ec) return IoError("cannot create " + (config.home / "keys").string() + ": " + ec.message());
  fs::permissions(config.home / "keys", fs::perms::owner_all, fs::perm_options::replace, ec);
  ASSIGN_OR_RETURN(m.audit_key,
                   crypto::LoadOrCreateKeyFile((config.home / "keys" / "audit.key").string()));
  ASSIGN_OR_RETURN(m.audit, AuditLog::Open(config.audit_path, AuditChainKey(m.audit_key)));
  m.issuer = config.issuer;
  if (config.dev_issuer) {
    ASSIGN_OR_RETURN(
        serve::DevIssuer d,
        serve::DevIssuer::LoadOrCreate(
            (config.home / "keys" / "dev_issuer.pem").string(),
            config.issuer.empty() ? "https://medscribe.local/dev-issuer" : config.issuer));
    if (m.issuer.empty()) m.issuer = d.issuer();
    m.dev.emplace(std::move(d));
  }
  RETURN_IF_ERROR(m.LoadKeys());
  return g;
}

Status Gateway::Start() {
  Impl& m = *impl_;
  const GatewayConfig& c = m.boot;
  if (c.tls_mode == "local" || c.upstream_mtls) {
    ASSIGN_OR_RETURN(LocalPki p, EnsureLocalPki(c.home / "tls"));
    if (p.created) LOG_INFO("created a local CA: clients should trust {}", p.ca_cert.string());
    m.pki = p;
  }
  ClientTlsOptions ctls;
  ctls.ca_file = !c.upstream_ca.empty() ? c.upstream_ca : m.pki ? m.pki->ca_cert.string() : "";
  if (c.upstream_mtls) {
    ctls.cert_file = !c.upstream_cert.empty() ? c.upstream_cert : m.pki->client_cert.string();
    ctls.key_file = !c.upstream_key.empty() ? c.upstream_key : m.pki->client_key.string();
  }
  ASSIGN_OR_RETURN(m.client, UpstreamClient::Create(&ctls));
  // Local replicas first: the endpoints need their URLs.
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return InternalError("cannot find the medscribe binary (/proc/self/exe)");
  exe[n] = 0;
  for (const Endpoint& e : c.endpoints) {
    for (const Deployment& d : e.deployments) {
      if (!d.is_local()) continue;
      if (!m.local) m.local = std::make_unique<LocalReplicas>(exe, c.home);
      LocalReplicaSpec spec;
      spec.deployment = d.name;
      spec.model = d.local.model;
      spec.count = d.local.count;
      spec.args = d.local.args;
      if (c.upstream_mtls) {
        spec.tls_cert = m.pki->server_cert.string();
        spec.tls_key = m.pki->server_key.string();
        spec.client_ca = m.pki->ca_cert.string();
      }
      const size_t before = m.local->urls().size();
      RETURN_IF_ERROR(m.local->Start(spec, std::chrono::seconds(300)));
      auto urls = m.local->urls();
      m.local_urls[e.name + "/" + d.name] =
          std::vector<std::string>(urls.begin() + static_cast<long>(before), urls.end());
    }
  }
  ASSIGN_OR_RETURN(auto state, m.Build(c));
  m.state = std::move(state);
  if (c.clinical.enabled) {
    class RoutedGenerator final : public clinical::ReportGenerator {
     public:
      RoutedGenerator(Impl* m, std::string path) : m_(m), path_(std::move(path)) {}
      StatusOr<Result> Generate(const std::string& sample_json, const std::string& image_url,
                                int max_tokens, bool batch,
                                const std::function<void(const std::string&)>& on_text) override {
        const std::string body =
            "{\"sample\":" + sample_json + ",\"image\":" + Json(image_url).dump() +
            ",\"max_tokens\":" + std::to_string(max_tokens) + ",\"stream\":true" +
            (batch ? std::string(",\"priority\":\"batch\"") : std::string()) + "}";
        // Server-sent events: {"delta"} pieces, then the whole answer, then [DONE].
        std::string pending, final_event, stream_error;
        std::function<bool(std::string_view)> on_data = [&](std::string_view chunk) {
          pending.append(chunk);
          size_t end;
          while ((end = pending.find("\n\n")) != std::string::npos) {
            std::string event = pending.substr(0, end);
            pending.erase(0, end + 2);
            if (event.rfind("data: ", 0) != 0) continue;
            event.erase(0, 6);
            if (event == "[DONE]") continue;
            Json j = Json::parse(event, nullptr, false);
            if (!j.is_object()) continue;
            if (j.contains("delta") && j["delta"].is_string()) {
              on_text(j["delta"].get<std::string>());
            } else if (j.contains("error")) {
              stream_error = j["error"].is_object() ? j["error"].value("message", "") : "";
            } else {
              final_event = std::move(event);
            }
          }
          return pending.size() < (16u << 20);
        };
        ASSIGN_OR_RETURN(Impl::Called c, m_->CallEndpoint(path_, body, on_data));
        Json j = Json::parse(c.streamed ? final_event : c.body, nullptr, false);
        if (c.status != 200) {
          std::string why = j.is_object() && j.contains("error") && j["error"].is_object()
                                ? j["error"].value("message", "")
                                : std::string();
          return Status(c.status == 400 ? ErrorCode::kInvalidArgument : ErrorCode::kUnavailable,
                        "the model replica answered HTTP " + std::to_string(c.status) +
                            (why.empty() ? "" : ": " + why));
        }
        if (!stream_error.empty())
          return UnavailableError("the model replica failed while drafting: " + stream_error);
        if (!j.is_object() || !j.contains("report") || !j["report"].is_string())
          return UnavailableError("the model replica's answer has no report");
        Result r;
        r.text = j["report"].get<std::string>();
        r.model_version = j.value("model", c.model);
        r.input_digest = j.value("input_digest", "");
        if (!c.streamed) on_text(r.text);
        return r;
      }

     private:
      Impl* m_;
      std::string path_;
    };
    ASSIGN_OR_RETURN(m.clinical,
                     ClinicalApi::Create(c.clinical, std::make_shared<RoutedGenerator>(
                                                         &m, c.clinical.generate_path)));
  }
  serve::HttpLimits limits;
  limits.max_body_bytes = c.limits.max_body_bytes;
  limits.max_header_bytes = c.limits.max_header_bytes;
  limits.max_target_bytes = c.limits.max_target_bytes;
  limits.header_timeout = c.limits.header_timeout;
  limits.body_timeout = c.limits.body_timeout;
  limits.idle_timeout = c.limits.idle_timeout;
  m.server = std::make_unique<serve::HttpServer>(
      [this](HttpRequest req, std::shared_ptr<Responder> res) {
        boost::asio::co_spawn(impl_->ioc, impl_->Guarded(std::move(req), std::move(res)),
                              boost::asio::detached);
      },
      limits);
  m.server->SetHeaderCheck([this](const HttpRequest& head) { return impl_->Early(head); });
  if (c.tls_mode != "off") {
    serve::TlsServerOptions t;
    t.cert_file = c.tls_mode == "local" ? m.pki->server_cert.string() : c.tls_cert;
    t.key_file = c.tls_mode == "local" ? m.pki->server_key.string() : c.tls_key;
    t.client_ca_file = c.tls_client_ca;
    RETURN_IF_ERROR(m.server->EnableTls(t));
  } else {
    m.scheme = "http";
  }
  const size_t colon = c.listen.rfind(':');
  int port = -1;
  try {
    port = std::stoi(c.listen.substr(colon + 1));
  } catch (...) {
  }
  if (colon == std::string::npos || port < 0 || port > 65535)
    return InvalidArgumentError("listen must be HOST:PORT (0: any free port), not '" + c.listen +
                                "'");
  std::string host = c.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  m.work.emplace(m.ioc.get_executor());
  for (int i = 0; i < c.io_threads; ++i) m.threads.emplace_back([this] { impl_->ioc.run(); });
  boost::asio::co_spawn(m.ioc, m.HealthLoop(), boost::asio::detached);
  RETURN_IF_ERROR(m.server->Start(host, static_cast<uint16_t>(port), c.io_threads));
  if (!c.jwks_url.empty()) {
    std::thread([this] {
      while (!impl_->stopping) {
        for (int i = 0; i < impl_->boot.jwks_refresh.count() * 10 && !impl_->stopping; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (impl_->stopping) break;
        if (Status s = impl_->LoadKeys(); !s.ok())
          LOG_WARN("JWKS refresh failed, keeping the previous keys: {}", s.message());
      }
    }).detach();
  }
  return OkStatus();
}

std::string Gateway::url() const {
  const std::string host = impl_->boot.listen.substr(0, impl_->boot.listen.rfind(':'));
  return impl_->scheme + "://" + (host == "0.0.0.0" ? std::string("127.0.0.1") : host) + ":" +
         std::to_string(port());
}
uint16_t Gateway::port() const { return impl_->server ? impl_->server->port() : 0; }
std::string Gateway::ca_file() const {
  return impl_->pki && impl_->boot.tls_mode == "local" ? impl_->pki->ca_cert.string() : "";
}

Status Gateway::Reload(GatewayConfig config) {
  Impl& m = *impl_;
  ASSIGN_OR_RETURN(auto state, m.Build(std::move(config)));
  std::unique_lock<std::shared_mutex> lock(m.state_mu);
  m.state = std::move(state);
  return OkStatus();
}

void Gateway::Stop() {
  Impl& m = *impl_;
  if (m.stopping.exchange(true)) return;
  if (m.server) {
    m.server->Stop();
    m.server->Wait();
  }
  // Drafts in progress still call the model replicas: the I/O threads run until they end.
  if (m.clinical) m.clinical->Stop();
  m.work.reset();
  m.ioc.stop();
  for (auto& t : m.threads)
    if (t.joinable()) t.join();
  if (m.local) m.local->Stop(std::chrono::seconds(30));
}

}  // namespace medscribe::gateway
