// Where a forwarded request goes: endpoints (request paths) → weighted deployments → replicas,
// with the replicas' health and ejection state.
//
// A RoutingTable is built from the configuration and replaced whole on reload; requests keep
// the table they started with. Replica state (outstanding requests, readiness, ejection, the
// model it serves) lives in a ReplicaSet keyed by URL, so it survives reloads.
//
// Choice: deployments by smooth weighted round robin among those with an available replica
// (any with weight when none has one); within a deployment the available replica with the
// fewest outstanding requests, ties broken round robin. A replica leaves rotation when a
// connection is refused, or after `after_errors` failed exchanges in a row, for `eject_for`;
// an active health check (GET /readyz) admits it again.
//
// Thread safety: Pick*, RecordFailure/RecordSuccess and the ReplicaSet may be used from any
// thread; a RoutingTable is immutable once built except for its pickers' internal state.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "gateway/clock.h"
#include "gateway/config.h"
#include "gateway/upstream.h"

namespace medscribe::gateway {

struct Replica {
  std::string url;
  Address addr;
  std::atomic<int> outstanding{0};
  std::atomic<bool> ready{true};          // last active health check (optimistic at start)
  std::atomic<int64_t> ejected_until{0};  // steady ms; passive ejection
  std::atomic<int> errors{0};             // consecutive failures
  bool available(int64_t now_ms) const { return ready.load() && ejected_until.load() <= now_ms; }
  // NAME@VERSION from the replica's /readyz, or "".
  std::string model() const;
  void set_model(std::string m);

 private:
  mutable std::mutex mu_;
  std::string model_;
};

// Replicas by URL, shared by every routing table built from the same set.
class ReplicaSet {
 public:
  std::shared_ptr<Replica> Get(const std::string& url, const Address& addr);
  std::vector<std::shared_ptr<Replica>> All() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Replica>> by_url_;
};

struct DeploymentRoute {
  std::string name;
  double weight = 0;
  std::vector<std::shared_ptr<Replica>> replicas;
  std::atomic<uint64_t> rr{0};
};

struct EndpointRoute {
  std::string name;
  std::vector<std::unique_ptr<DeploymentRoute>> deployments;
  int mirror = -1;  // index of the deployment that gets copies, or -1
  double mirror_percent = 0;
  std::mutex mu;
  std::vector<double> current;  // smooth weighted round robin state
};

class RoutingTable {
 public:
  // Builds the table for `endpoints`. Deployments with local replicas take their URLs from
  // `local_urls` ("ENDPOINT/DEPLOYMENT" → URLs); FailedPrecondition when one is missing (local
  // replicas start only with the gateway). InvalidArgument for a path routed twice or a bad URL.
  static StatusOr<std::unique_ptr<RoutingTable>> Build(
      const std::vector<Endpoint>& endpoints,
      const std::map<std::string, std::vector<std::string>>& local_urls, ReplicaSet& replicas);

  // The endpoint serving exactly `path`, or null.
  EndpointRoute* Find(const std::string& path) const;
  // Names of endpoints with no available replica at `now_ms`.
  std::vector<std::string> Down(int64_t now_ms) const;
  const std::vector<std::unique_ptr<EndpointRoute>>& endpoints() const { return endpoints_; }

 private:
  std::vector<std::unique_ptr<EndpointRoute>> endpoints_;
  std::map<std::string, EndpointRoute*> by_path_;
};

// The next deployment of `ep` (never `exclude`), or null when none has weight.
DeploymentRoute* PickDeployment(EndpointRoute& ep, const DeploymentRoute* exclude, int64_t now_ms);
// The replica of `d` to use (never `exclude`), or null when there is none; an unavailable one
// only when no other is available.
std::shared_ptr<Replica> PickReplica(DeploymentRoute& d, const Replica* exclude, int64_t now_ms);

struct EjectionPolicy {
  int after_errors = 3;
  std::chrono::milliseconds eject_for{10000};
};
// Records a failed exchange with `r`. True when this took it out of rotation (it was in).
bool RecordFailure(Replica& r, bool connect_failure, const EjectionPolicy& policy, int64_t now_ms);
void RecordSuccess(Replica& r);

// One round of active health checks: GET /readyz on every replica of `replicas`, each within
// `timeout`. A 200 admits the replica (ending any ejection) and records the model it names;
// anything else takes it out of rotation until a later round admits it.
asio::awaitable<void> CheckHealth(Upstream& upstream, const ReplicaSet& replicas,
                                  std::chrono::milliseconds timeout, const Clock& clock);

}  // namespace medscribe::gateway
