#include "gateway/gateway.h"

#include <unistd.h>

#include <boost/asio.hpp>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <shared_mutex>
#include <thread>

#include "common/files.h"
#include "common/logging.h"
#include "common/strings.h"
#include "crypto/ed25519.h"
#include "crypto/hmac.h"
#include "gateway/audit.h"
#include "gateway/clinical_api.h"
#include "gateway/clock.h"
#include "gateway/filters.h"
#include "gateway/forwarder.h"
#include "gateway/gateway_metrics.h"
#include "gateway/local_replicas.h"
#include "gateway/rate_limit.h"
#include "gateway/routing.h"
#include "gateway/token_verifier.h"
#include "gateway/upstream.h"
#include "serve/error_body.h"
#include "serve/http_server.h"
#include "serve/jwt.h"

namespace medscribe::gateway {
namespace fs = std::filesystem;
using serve::ErrorBody;
using serve::HttpRequest;
using serve::Responder;
using Json = nlohmann::json;

namespace {

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The 404 body for a method and path the policy does not know (long paths are not echoed).
std::string NoRoute(const HttpRequest& req) {
  return ErrorBody(404, "no such route: " + req.method + " " +
                            (req.path.size() < 64 ? req.path : std::string("(path)")) +
                            "; see docs/api.md");
}

const char kAuditDown[] = "the audit log cannot be written; nothing was done";

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

}  // namespace

// Everything a reload replaces. Requests keep the State they started with.
struct State {
  GatewayConfig config;
  std::unique_ptr<RoutingTable> routes;
  std::unique_ptr<RateLimiter> per_principal, per_address;
  std::unique_ptr<FilterChain> filters;
  EjectionPolicy ejection;
};

struct Gateway::Impl {
  const Clock* clock = &SystemClock();
  std::shared_mutex state_mu;
  std::shared_ptr<const State> state;
  ReplicaSet replicas;  // across reloads

  GatewayConfig boot;  // listening and TLS settings (not reloaded)
  std::optional<LocalPki> pki;
  std::unique_ptr<serve::HttpServer> server;
  std::shared_ptr<Upstream> upstream;
  std::unique_ptr<Forwarder> forwarder;
  std::unique_ptr<AuditLog> audit;
  std::string audit_key;
  std::optional<serve::DevIssuer> dev;
  std::string issuer;
  std::unique_ptr<TokenVerifier> verifier;
  std::string exe;  // the medscribe binary local replicas run
  std::unique_ptr<LocalReplicas> local;
  struct RunningLocal {
    LocalReplicaSpec spec;
    LocalReplicas::Group group;
  };
  std::map<std::string, RunningLocal> running;  // "endpoint/deployment" → its local replicas
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::mutex principal_mu;
  std::map<std::string, int> principal_in_flight;
  GatewayMetrics metrics;
  std::string scheme = "https";
  std::mutex rng_mu;
  std::mt19937_64 rng{std::random_device{}()};
  std::unique_ptr<ClinicalApi> clinical;

  std::shared_ptr<const State> Current() {
    std::shared_lock<std::shared_mutex> lock(state_mu);
    return state;
  }

  // The routing state for `c`, its local deployments served by `locals`.
  StatusOr<std::shared_ptr<State>> Build(GatewayConfig c,
                                         const std::map<std::string, RunningLocal>& locals) {
    std::map<std::string, std::vector<std::string>> local_urls;
    for (const auto& [key, r] : locals) local_urls[key] = r.group.urls;
    auto s = std::make_shared<State>();
    ASSIGN_OR_RETURN(s->routes, RoutingTable::Build(c.endpoints, local_urls, replicas));
    s->per_principal = std::make_unique<RateLimiter>(c.limits.per_principal);
    s->per_address = std::make_unique<RateLimiter>(c.limits.per_address);
    FilterDeps deps;
    deps.verifier = verifier.get();
    deps.per_principal = s->per_principal.get();
    deps.clock = clock;
    deps.pseudonym = [this](const std::string& sub) { return Pseudonym(sub); };
    s->filters = std::make_unique<FilterChain>(StandardFilters(deps));
    s->ejection = EjectionPolicy{c.eject_after_errors, c.eject_for};
    s->config = std::move(c);
    return s;
  }

  // The local deployments of `c`: those whose specification is unchanged keep their running
  // replicas, the others get a new group started (its id appended to `started`). On an error
  // the groups started here are stopped again.
  StatusOr<std::map<std::string, RunningLocal>> StartLocals(const GatewayConfig& c,
                                                            std::vector<int>& started) {
    std::map<std::string, RunningLocal> next;
    for (const Endpoint& e : c.endpoints) {
      for (const Deployment& d : e.deployments) {
        if (!d.is_local()) continue;
        LocalReplicaSpec spec;
        spec.deployment = d.name;
        spec.model = d.local.model;
        spec.count = d.local.count;
        spec.args = d.local.args;
        if (boot.upstream_mtls) {
          spec.tls_cert = pki->server_cert.string();
          spec.tls_key = pki->server_key.string();
          spec.client_ca = pki->ca_cert.string();
        }
        const std::string key = e.name + "/" + d.name;
        if (auto it = running.find(key); it != running.end() && it->second.spec == spec) {
          next[key] = it->second;
          continue;
        }
        if (!local) local = std::make_unique<LocalReplicas>(exe, boot.home);
        auto group = local->Start(spec, std::chrono::seconds(300));
        if (!group.ok()) {
          for (int id : started) local->Stop(id, std::chrono::seconds(30));
          started.clear();
          return group.status();
        }
        started.push_back(group->id);
        next[key] = RunningLocal{spec, *group};
      }
    }
    return next;
  }

  // Sends `body` to a replica of the endpoint serving `path` and waits for the whole answer.
  // REQUIRES: not called on an I/O thread of the gateway.
  StatusOr<Forwarder::Called> CallEndpoint(const std::string& path, std::string body,
                                           std::function<bool(std::string_view)> on_data) {
    std::shared_ptr<const State> s = Current();
    EndpointRoute* ep = s->routes->Find(path);
    if (ep == nullptr)
      return FailedPreconditionError("no endpoint serves " + path +
                                     "; add it to an endpoint's paths");
    UpstreamRequest up;
    up.method = "POST";
    up.target = path;
    up.body = std::move(body);
    up.timeout = s->config.limits.upstream_timeout;
    up.headers.emplace_back("content-type", "application/json");
    std::promise<StatusOr<Forwarder::Called>> promise;
    auto future = promise.get_future();
    boost::asio::co_spawn(
        ioc,
        [this, s, ep, up = std::move(up), on_data = std::move(on_data),
         &promise]() mutable -> boost::asio::awaitable<void> {
          promise.set_value(co_await forwarder->Call(*ep, s->ejection, std::move(up), on_data));
        },
        boost::asio::detached);
    return future.get();
  }

  // Writes the audit record; false when it could not be made durable (the request then fails).
  // A refusal's repeats of one kind are counted into one record (AuditLog::AppendRefusal).
  bool Audit(const AuditRecord& r, bool refusal = false) {
    if (Status s = refusal ? audit->AppendRefusal(r) : audit->Append(r); !s.ok()) {
      LOG_ERROR("audit log: {}", s.message());
      return false;
    }
    metrics.AuditRecords();
    return true;
  }

  // 16 hex digits naming one forwarded request in the gateway's and the replica's logs.
  std::string RequestId() {
    char rid[17];
    std::lock_guard<std::mutex> lock(rng_mu);
    std::snprintf(rid, sizeof(rid), "%016llx", static_cast<unsigned long long>(rng()));
    return rid;
  }

  std::string Pseudonym(const std::string& sub) {
    return "p-" + crypto::Hex(crypto::HmacSha256(audit_key, "principal:" + sub)).substr(0, 16);
  }

  void Reply(const std::shared_ptr<Responder>& res, const std::string& route, int status,
             std::string body, std::map<std::string, std::string> headers = {},
             const std::string& type = "application/json") {
    metrics.Request(route, status);
    res->Send(status, type, std::move(body), std::move(headers));
  }

  // Answers a filter's refusal, audited first when it asks (a 500 instead when the record
  // cannot be made durable: nothing is answered unrecorded).
  void Refuse(const std::shared_ptr<Responder>& res, const std::string& route, AuditRecord rec,
              Refusal r) {
    if (!r.reason.empty()) metrics.Refused(r.reason);
    if (r.audit) {
      rec.status = r.status;
      rec.outcome = r.outcome;
      if (!Audit(rec, /*refusal=*/true)) return Reply(res, route, 500, ErrorBody(500, kAuditDown));
    }
    Reply(res, route, r.status, ErrorBody(r.status, r.message), std::move(r.headers));
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
      r.body = ErrorBody(500, "internal error; see the gateway log");
      return r;
    }
  }
  serve::EarlyReject EarlyChecks(const HttpRequest& head) {
    serve::EarlyReject r;
    auto s = Current();
    const RoutePolicy* route = s->config.policy.Find(head.method, head.path);
    const std::string label = route ? route->path : "unmatched";
    if (const double wait = s->per_address->Take(head.remote, clock->SteadySeconds()); wait > 0) {
      metrics.Refused("rate_address");
      metrics.Request(label, 429);
      r.status = 429;
      r.body = ErrorBody(429, "too many requests from this address; retry later");
      r.headers = {{"Retry-After", std::to_string(static_cast<int>(std::ceil(wait)))}};
      return r;
    }
    if (route == nullptr) {
      metrics.Request(label, 404);
      r.status = 404;
      r.body = NoRoute(head);
      return r;
    }
    const std::string authz = head.header("authorization");
    if (!route->public_route && (authz.size() < 8 || AsciiLower(authz.substr(0, 7)) != "bearer ")) {
      metrics.Refused("unauthenticated");
      AuditRecord rec;
      rec.action = route->action;
      rec.source = head.remote;
      rec.status = 401;
      rec.outcome = "no bearer token";
      if (!Audit(rec, /*refusal=*/true)) {
        metrics.Request(label, 500);
        r.status = 500;
        r.body = ErrorBody(500, kAuditDown);
        return r;
      }
      metrics.Request(label, 401);
      r.status = 401;
      r.body = ErrorBody(401,
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
      res->Send(500, "application/json", ErrorBody(500, "internal error; see the gateway log"));
    }
  }
  boost::asio::awaitable<void> Handle(HttpRequest req, std::shared_ptr<Responder> res);
  void HandlePublic(const State& s, const HttpRequest& req, const std::string& label,
                    const std::shared_ptr<Responder>& res);
  void HandleClinical(HttpRequest req, const RequestContext& ctx, const std::string& label,
                      const std::shared_ptr<Responder>& res);
  boost::asio::awaitable<void> HandleModel(std::shared_ptr<const State> s, HttpRequest req,
                                           RequestContext ctx, std::string label,
                                           std::shared_ptr<Responder> res);
  boost::asio::awaitable<void> HealthLoop();
};

void Gateway::Impl::HandlePublic(const State& s, const HttpRequest& req, const std::string& label,
                                 const std::shared_ptr<Responder>& res) {
  if (req.path == "/healthz") return Reply(res, label, 200, R"({"status":"ok"})");
  if (req.path == "/readyz") {
    if (stopping) return Reply(res, label, 503, R"({"status":"draining"})");
    const std::vector<std::string> down = s.routes->Down(clock->SteadyMs());
    if (!down.empty())
      return Reply(res, label, 503, Dump({{"status", "no ready replica"}, {"endpoints", down}}));
    return Reply(res, label, 200, R"({"status":"ready"})");
  }
  if (dev && req.path == "/.well-known/openid-configuration") {
    const std::string base = scheme + "://" + req.header("host");
    return Reply(
        res, label, 200,
        Dump({{"issuer", issuer},
              {"jwks_uri", base + "/.well-known/jwks.json"},
              {"id_token_signing_alg_values_supported", {"ES256"}},
              {"response_types_supported", {"id_token"}},
              {"subject_types_supported", {"public"}},
              {"scopes_supported", {"openid"}},
              {"claims_supported",
               {"sub", "role", "department", "patient", "iss", "aud", "exp", "iat", "nbf"}}}));
  }
  if (dev && req.path == "/.well-known/jwks.json") return Reply(res, label, 200, dev->Jwks());
  if (req.path == "/" || req.path.rfind("/app/", 0) == 0) {
    metrics.Request(label, 200);
    if (ServeReviewPage(s.config.clinical.web_root, req, *res)) return;
    return Reply(res, label, 404, ErrorBody(404, "no such page"));
  }
  Reply(res, label, 404, ErrorBody(404, "not served here"));
}

void Gateway::Impl::HandleClinical(HttpRequest req, const RequestContext& ctx,
                                   const std::string& label,
                                   const std::shared_ptr<Responder>& res) {
  if (!clinical)
    return Reply(res, label, 404,
                 ErrorBody(404,
                           "this gateway has no clinical workflow; add a 'clinical' section to "
                           "its config (docs/workflow.md)"));
  clinical::Caller caller;
  caller.sub = ctx.claims.sub;
  caller.name = ctx.claims.name;
  caller.pseudonym = ctx.rec.principal;
  caller.role = ctx.claims.role;
  caller.department = ctx.claims.department;
  caller.patient = ctx.claims.patient;
  caller.any_department = ctx.any_department;
  caller.may_sign = RoleGrants(ctx.config->policy, ctx.claims.role, "user/DiagnosticReport.sign");
  const AuditRecord base = ctx.rec;
  auto audited = std::make_shared<std::atomic<bool>>(false);
  ClinicalApi::AuditFn audit_fn = [this, base, audited, label](
                                      int status, const std::string& outcome,
                                      const std::vector<std::string>& resources) {
    metrics.Request(label, status);
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
}

boost::asio::awaitable<void> Gateway::Impl::Handle(HttpRequest req,
                                                   std::shared_ptr<Responder> res) {
  std::shared_ptr<const State> s = Current();
  const RoutePolicy* route = s->config.policy.Find(req.method, req.path);
  const std::string label = route ? route->path : "unmatched";
  // The address limit, unknown routes and missing tokens were answered by Early().
  if (route == nullptr) co_return Reply(res, label, 404, NoRoute(req));  // reloaded since Early()
  if (route->public_route) co_return HandlePublic(*s, req, label, res);
  RequestContext ctx;
  ctx.req = &req;
  ctx.route = route;
  ctx.config = &s->config;
  ctx.issuer = issuer;
  ctx.rec.action = route->action;
  ctx.rec.source = req.remote;
  ctx.rec.request_digest = req.body.empty() ? "" : crypto::Hex(crypto::Sha256(req.body));
  if (std::optional<Refusal> refusal = s->filters->Run(ctx))
    co_return Refuse(res, label, std::move(ctx.rec), std::move(*refusal));
  if (req.path == "/metrics")
    co_return Reply(res, label, 200, metrics.Render(*s->routes, clock->SteadyMs()), {},
                    "text/plain; version=0.0.4");
  if (route->action.rfind("draft.", 0) == 0 || route->action.rfind("batch.", 0) == 0) {
    ctx.req = nullptr;  // the request moves to the clinical API
    co_return HandleClinical(std::move(req), ctx, label, res);
  }
  ctx.req = nullptr;  // the request moves on
  co_await HandleModel(std::move(s), std::move(req), std::move(ctx), label, std::move(res));
}

boost::asio::awaitable<void> Gateway::Impl::HandleModel(std::shared_ptr<const State> s,
                                                        HttpRequest req, RequestContext ctx,
                                                        std::string label,
                                                        std::shared_ptr<Responder> res) {
  const int64_t t0 = clock->SteadyMs();
  const GatewayConfig& c = s->config;
  EndpointRoute* ep = s->routes->Find(req.path);
  if (ep == nullptr)
    co_return Reply(res, label, 404,
                    ErrorBody(404, "no endpoint serves " + ctx.route->path +
                                       "; add it to an endpoint's paths"));
  // Concurrency caps; counted in flight until forwarding ends, however it ends.
  if (metrics.in_flight() >= c.limits.max_in_flight) {
    metrics.Refused("concurrency");
    co_return Reply(res, label, 429,
                    ErrorBody(429, "the gateway is at its concurrency limit; retry later"),
                    {{"Retry-After", "1"}});
  }
  const std::string sub = ctx.claims.sub;
  {
    std::lock_guard<std::mutex> lock(principal_mu);
    int& n = principal_in_flight[sub];
    if (n >= c.limits.max_in_flight_per_principal) {
      if (n == 0) principal_in_flight.erase(sub);
      metrics.Refused("concurrency_principal");
      co_return Reply(res, label, 429,
                      ErrorBody(429, "too many requests of yours in flight (limit " +
                                         std::to_string(c.limits.max_in_flight_per_principal) +
                                         "); retry later"),
                      {{"Retry-After", "1"}});
    }
    ++n;
  }
  struct InFlight {
    Impl* m;
    std::string sub;
    ~InFlight() {
      m->metrics.InFlight(-1);
      std::lock_guard<std::mutex> lock(m->principal_mu);
      if (--m->principal_in_flight[sub] <= 0) m->principal_in_flight.erase(sub);
    }
  };
  metrics.InFlight(+1);
  const InFlight counted{this, sub};

  UpstreamRequest up;
  up.method = req.method;
  up.target = req.target;
  up.body = std::move(req.body);
  up.timeout = c.limits.upstream_timeout;
  for (const char* h : {"content-type", "accept"})
    if (!req.header(h).empty()) up.headers.emplace_back(h, req.header(h));
  const std::string rid = RequestId();
  up.headers.emplace_back("x-request-id", rid);
  AuditHook audit_hook;
  if (ctx.route->phi) {
    audit_hook = [this, rec = ctx.rec](int status, const std::string& outcome,
                                       const std::string& deployment, const std::string& model) {
      AuditRecord r = rec;
      r.status = status;
      r.outcome = outcome;
      r.deployment = deployment;
      r.model = model;
      return Audit(std::move(r));
    };
  }
  std::map<std::string, std::string> headers;
  headers["x-request-id"] = rid;
  const ForwardResult result = co_await forwarder->Forward(
      *ep, s->ejection, std::move(up), res, std::move(headers), std::move(audit_hook));
  metrics.Request(label, result.status);
  const int64_t ms = clock->SteadyMs() - t0;
  metrics.latency.Observe(static_cast<double>(ms) / 1000.0);
  LOG_INFO("{} {} {} {}ms principal={} deployment={} replica={} upstream={}", req.method, label,
           result.status, ms, ctx.rec.principal, result.deployment, result.replica, result.outcome);
}

boost::asio::awaitable<void> Gateway::Impl::HealthLoop() {
  auto ex = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(ex);
  while (!stopping) {
    auto s = Current();
    co_await CheckHealth(
        *upstream, replicas,
        std::chrono::milliseconds(std::min<int64_t>(2000, s->config.health_interval.count() * 2)),
        *clock);
    timer.expires_after(s->config.health_interval);
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

namespace {

// The clinical workflow's report generator: drafts through the gateway's own routing to the
// endpoint serving `path`, reading the replica's server-sent events.
class RoutedGenerator final : public clinical::ReportGenerator {
 public:
  using CallFn = std::function<StatusOr<Forwarder::Called>(
      const std::string& body, std::function<bool(std::string_view)> on_data)>;
  explicit RoutedGenerator(CallFn call) : call_(std::move(call)) {}
  StatusOr<Result> Generate(const std::string& sample_json, const std::string& image_url,
                            int max_tokens, bool batch,
                            const std::function<void(const std::string&)>& on_text) override {
    const std::string body = "{\"sample\":" + sample_json + ",\"image\":" + Json(image_url).dump() +
                             ",\"max_tokens\":" + std::to_string(max_tokens) + ",\"stream\":true" +
                             (batch ? std::string(",\"priority\":\"batch\"") : std::string()) + "}";
    // Server-sent events: {"delta"} pieces, then the whole answer, then [DONE].
    std::string pending, final_event, stream_error;
    auto on_data = [&](std::string_view chunk) {
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
    ASSIGN_OR_RETURN(Forwarder::Called c, call_(body, on_data));
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
  CallFn call_;
};

}  // namespace

Gateway::Gateway() : impl_(std::make_unique<Impl>()) {}

Gateway::~Gateway() { Stop(); }

StatusOr<std::unique_ptr<Gateway>> Gateway::Create(GatewayConfig config,
                                                   GatewayOverrides overrides) {
  std::unique_ptr<Gateway> g(new Gateway());
  Impl& m = *g->impl_;
  if (overrides.clock) m.clock = overrides.clock;
  m.upstream = std::move(overrides.upstream);
  m.boot = config;
  std::error_code ec;
  fs::create_directories(config.home / "keys", ec);
  if (ec) return IoError("cannot create " + (config.home / "keys").string() + ": " + ec.message());
  fs::permissions(config.home / "keys", fs::perms::owner_all, fs::perm_options::replace, ec);
  ASSIGN_OR_RETURN(m.audit_key,
                   crypto::LoadOrCreateKeyFile((config.home / "keys" / "audit.key").string()));
  AuditOptions audit_options;
  audit_options.chain_key = AuditChainKey(m.audit_key);
  ASSIGN_OR_RETURN(
      audit_options.checkpoint_key,
      crypto::LoadOrCreateSigningKey((config.home / "keys" / "audit_signing.key").string()));
  const fs::path audit_public = config.home / "keys" / "audit_signing.pub";
  if (!fs::exists(audit_public))
    RETURN_IF_ERROR(
        crypto::WritePublicKeyFile(audit_public.string(), *audit_options.checkpoint_key));
  ASSIGN_OR_RETURN(m.audit, AuditLog::Open(config.audit_path, std::move(audit_options)));
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
  TokenVerifier::FetchFn fetch;
  if (!config.jwks_file.empty()) {
    fetch = [file = config.jwks_file] { return ReadFile(file); };
  } else if (!config.jwks_url.empty()) {
    fetch = [url = config.jwks_url, ca = config.jwks_ca]() -> StatusOr<std::string> {
      auto body = FetchUrl(url, ca, 1u << 20, std::chrono::seconds(10));
      if (!body.ok()) return Status(body.status().code(), "JWKS: " + body.status().message());
      return body;
    };
  } else {
    fetch = [jwks = m.dev->Jwks()]() -> StatusOr<std::string> { return jwks; };
  }
  const bool refetchable = !config.jwks_file.empty() || !config.jwks_url.empty();
  m.verifier = std::make_unique<TokenVerifier>(
      std::move(fetch), refetchable,
      config.jwks_url.empty() ? std::chrono::seconds(0) : config.jwks_refresh, *m.clock);
  RETURN_IF_ERROR(m.verifier->Load());
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
  if (!m.upstream) {
    ClientTlsOptions ctls;
    ctls.ca_file = !c.upstream_ca.empty() ? c.upstream_ca : m.pki ? m.pki->ca_cert.string() : "";
    if (c.upstream_mtls) {
      ctls.cert_file = !c.upstream_cert.empty() ? c.upstream_cert : m.pki->client_cert.string();
      ctls.key_file = !c.upstream_key.empty() ? c.upstream_key : m.pki->client_key.string();
    }
    ASSIGN_OR_RETURN(std::unique_ptr<UpstreamClient> client, UpstreamClient::Create(&ctls));
    m.upstream = std::move(client);
  }
  m.forwarder = std::make_unique<Forwarder>(*m.upstream, m.metrics, *m.clock);
  // Local replicas first: the endpoints need their URLs.
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return InternalError("cannot find the medscribe binary (/proc/self/exe)");
  exe[n] = 0;
  m.exe = exe;
  std::vector<int> started;
  ASSIGN_OR_RETURN(m.running, m.StartLocals(c, started));
  ASSIGN_OR_RETURN(auto state, m.Build(c, m.running));
  m.state = std::move(state);
  if (c.clinical.enabled) {
    auto call = [&m, path = c.clinical.generate_path](
                    const std::string& body, std::function<bool(std::string_view)> on_data) {
      return m.CallEndpoint(path, body, std::move(on_data));
    };
    ASSIGN_OR_RETURN(m.clinical,
                     ClinicalApi::Create(c.clinical, std::make_shared<RoutedGenerator>(call)));
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
  m.verifier->StartRefresh();
  return OkStatus();
}

void Gateway::Serve(HttpRequest req, std::shared_ptr<Responder> res) {
  serve::EarlyReject early = impl_->Early(req);
  if (early.status != 0) {
    res->Send(early.status, early.content_type, std::move(early.body), std::move(early.headers));
    return;
  }
  boost::asio::co_spawn(impl_->ioc, impl_->Guarded(std::move(req), std::move(res)),
                        boost::asio::detached);
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
  // The listening address, TLS and keys stay as started.
  config.home = m.boot.home;
  config.upstream_mtls = m.boot.upstream_mtls;
  std::vector<int> started;
  ASSIGN_OR_RETURN(auto next, m.StartLocals(config, started));
  auto state = m.Build(std::move(config), next);
  if (!state.ok()) {
    for (int id : started) m.local->Stop(id, std::chrono::seconds(30));
    return state.status();
  }
  {
    std::unique_lock<std::shared_mutex> lock(m.state_mu);
    m.state = std::move(*state);
  }
  // Replicas no deployment uses any more drain what they were sent, then stop.
  std::set<int> kept;
  for (const auto& [key, r] : next) kept.insert(r.group.id);
  for (const auto& [key, r] : m.running)
    if (!kept.count(r.group.id)) m.local->Stop(r.group.id, std::chrono::seconds(30));
  m.running = std::move(next);
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
  if (m.audit) {
    if (Status s = m.audit->Flush(/*all=*/true); !s.ok())
      LOG_ERROR("audit log: the counted refusals could not be written: {}", s.message());
  }
}

}  // namespace medscribe::gateway
