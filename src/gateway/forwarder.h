// Forwarding to model replicas: the endpoint's weighted deployment, within it the least-loaded
// replica, and one more attempt when the request never reached a model — no connection could
// be made, or the replica answered 503 before starting (it is draining or not ready). That
// second attempt goes to another replica of the deployment, or of another deployment when this
// one has none available. Nothing that may have reached a model is sent twice. Responses,
// streamed ones included, pass through unchanged; a copy may go to the endpoint's mirror
// deployment, answered nowhere.
//
// Replicas that fail are recorded (routing.h: RecordFailure) and leave rotation per the
// ejection policy; a replica that answers 503 while draining leaves rotation until its health
// check admits it again.
//
// Thread safety: Forward and Call may run concurrently on any executor of the io_context the
// upstream is bound to.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "common/status.h"
#include "gateway/clock.h"
#include "gateway/gateway_metrics.h"
#include "gateway/routing.h"
#include "gateway/upstream.h"
#include "serve/http_server.h"

namespace medscribe::gateway {

// Runs before the response to the client starts, with the status about to be sent and who
// answered: writes the audit record. False: the record could not be made durable, and the
// client gets a 500 instead of the answer.
using AuditHook = std::function<bool(int status, const std::string& outcome,
                                     const std::string& deployment, const std::string& model)>;

struct ForwardResult {
  int status = 0;          // what the client was sent (0 when the client left first)
  int attempts = 0;        // exchanges with replicas (1 or 2)
  std::string deployment;  // the deployment that answered (or was tried last)
  std::string replica;     // HOST:PORT of the last replica tried, or ""
  std::string outcome;     // the last exchange's HTTP status or outcome name
};

class Forwarder {
 public:
  // `upstream`, `metrics` and `clock` must outlive the forwarder.
  Forwarder(Upstream& upstream, GatewayMetrics& metrics, const Clock& clock);

  // Sends `up` to a replica of `ep` and streams the answer to `res`, adding `headers` and
  // x-medscribe-deployment. `audit` (may be empty: not audited) runs before the answer starts.
  // Always answers `res`: 503 when no replica could take the request, 502/504 when the replica
  // failed before answering.
  asio::awaitable<ForwardResult> Forward(EndpointRoute& ep, EjectionPolicy ejection,
                                         UpstreamRequest up, std::shared_ptr<serve::Responder> res,
                                         std::map<std::string, std::string> headers,
                                         AuditHook audit);

  struct Called {
    int status = 0;
    bool streamed = false;    // a 200 answer handed to on_data piece by piece
    std::string body, model;  // body: the whole answer unless streamed
  };
  // Sends `up` to a replica of `ep` with the same choice and retry as Forward and collects the
  // answer: a streamed 200 answer goes to `on_data` (false: stop), anything else into the
  // body (at most 64 MiB). Unavailable or DeadlineExceeded when no replica answered.
  asio::awaitable<StatusOr<Called>> Call(EndpointRoute& ep, EjectionPolicy ejection,
                                         UpstreamRequest up,
                                         std::function<bool(std::string_view)> on_data);

 private:
  asio::awaitable<void> Mirror(std::shared_ptr<Replica> r, std::string deployment,
                               UpstreamRequest up);
  // After a first attempt that never reached a model: the replica to try next, possibly in
  // another deployment (*dep is updated), or null.
  std::shared_ptr<Replica> Next(EndpointRoute& ep, DeploymentRoute*& dep, const Replica& failed);
  // Records a failed exchange with `r` and counts the ejection it may cause.
  void Failed(Replica& r, bool connect_failure, const EjectionPolicy& ejection);
  double Uniform();

  Upstream& upstream_;
  GatewayMetrics& metrics_;
  const Clock& clock_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace medscribe::gateway
