// The gateway (`medscribe gateway`): one HTTPS front door for model replicas.
//
// Per request, in order: per-address rate limit; route lookup in the policy; bearer JWT
// verification (401); per-principal rate limit (429 with Retry-After); role → scopes (403);
// concurrency caps (429); JSON depth and image size limits (400/413); department/patient context
// of the request against the token (403); then the endpoint's weighted deployment choice and,
// within it, the replica with the fewest outstanding requests. A request that never reached a
// model (no connection, or a replica answering 503 because it is draining) is sent once more to
// another replica. Responses, streamed ones included, pass through unchanged.
//
// Requests on routes that touch patient data, and every refused request, get an audit record
// that is durable before the response starts. Logs, metrics and audit carry no request content.
//
// Thread safety: Start/Reload/Stop from one controlling thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "gateway/config.h"
#include "gateway/local_pki.h"

namespace medscribe::gateway {

class Gateway {
 public:
  // Validates the configuration, opens the audit log, loads keys. Does not listen yet.
  static StatusOr<std::unique_ptr<Gateway>> Create(GatewayConfig config);
  ~Gateway();

  // Starts local replicas, creates the local CA when TLS mode is "local", listens, starts
  // health checks. Unavailable naming the address or replica that failed.
  Status Start();
  // The URL clients use (https://HOST:PORT, or http:// with TLS off).
  std::string url() const;
  uint16_t port() const;
  // The local CA's certificate (clients trust it), or "" when TLS is not "local".
  std::string ca_file() const;
  // Applies a new configuration's policy, limits, endpoints and health settings; requests in
  // flight finish on the old ones. Listening address, TLS and local replicas are kept.
  Status Reload(GatewayConfig config);
  // Stops accepting, lets requests in flight finish, stops local replicas.
  void Stop();

 private:
  Gateway();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medscribe::gateway
