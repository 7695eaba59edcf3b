// The gateway (`medscribe gateway`): one HTTPS front door for model replicas.
//
// Per request: before the body is read, the per-address rate limit (429), the route lookup in
// the policy (404) and a missing bearer token (401); then the filter chain (filters.h: token,
// department claim, principal rate limit, scopes, JSON limits, department/patient context);
// then the clinical workflow (clinical_api.h) or, for model routes, the concurrency caps (429)
// and forwarding (forwarder.h: weighted deployments, least-loaded replica, one retry when the
// request never reached a model). Responses, streamed ones included, pass through unchanged.
// The pieces: routing.h (routes, replica health and ejection), token_verifier.h (the JWKS
// cache), gateway_metrics.h, audit.h; this file wires them.
//
// Requests on routes that touch patient data, and every refused request, get an audit record
// that is durable before the response starts; repeats of one refusal from one client within
// a window are counted into one record written when the window ends (audit.h). Logs, metrics and
// audit carry no request content.
//
// Thread safety: Start/Reload/Stop from one controlling thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "gateway/config.h"
#include "gateway/local_pki.h"

namespace medscribe::serve {
struct HttpRequest;
class Responder;
}  // namespace medscribe::serve

namespace medscribe::gateway {

class Clock;     // clock.h
class Upstream;  // upstream.h

// Substitutes for tests.
struct GatewayOverrides {
  // Replaces the HTTP(S) client to replicas (the JWKS is still fetched over HTTP). Null: the
  // client built from the TLS settings.
  std::shared_ptr<Upstream> upstream;
  // Null: SystemClock(). Must outlive the gateway.
  const Clock* clock = nullptr;
};

class Gateway {
 public:
  // Validates the configuration, opens the audit log, loads keys. Does not listen yet.
  static StatusOr<std::unique_ptr<Gateway>> Create(GatewayConfig config,
                                                   GatewayOverrides overrides = {});
  ~Gateway();

  // Starts local replicas, creates the local CA when TLS mode is "local", listens, starts
  // health checks. Unavailable naming the address or replica that failed.
  Status Start();
  // The URL clients use (https://HOST:PORT, or http:// with TLS off).
  std::string url() const;
  uint16_t port() const;
  // The local CA's certificate (clients trust it), or "" when TLS is not "local".
  std::string ca_file() const;
  // Applies a new configuration's policy, limits, endpoints, health settings and local
  // replicas; requests in flight finish on the old ones. A local deployment whose model
  // version, count or arguments changed gets new replicas, started (up to 300 s each) before
  // traffic moves to them; replicas no deployment uses any more are then stopped (they drain,
  // 30 s). On any error nothing changes. Listening address, TLS and keys are kept.
  Status Reload(GatewayConfig config);
  // Stops accepting, lets requests in flight finish, stops local replicas.
  void Stop();
  // Answers `req` as if it had arrived on the listening socket, the checks made before the
  // body included; the answer goes to `res`, possibly from another thread. REQUIRES: Start()
  // returned OK and Stop() has not been called.
  void Serve(serve::HttpRequest req, std::shared_ptr<serve::Responder> res);

 private:
  Gateway();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medscribe::gateway
