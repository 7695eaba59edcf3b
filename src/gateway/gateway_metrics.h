// The gateway's Prometheus metrics (docs/gateway.md lists them): requests by route and status,
// exchanges with replicas by deployment and outcome, refusals by reason, retries, mirrored
// copies, ejections, audit records, latencies (also per deployment), requests in flight, each
// deployment's weight and each replica's state and model.
// No label carries request content.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "gateway/routing.h"
#include "serve/metrics.h"

namespace medscribe::gateway {

class GatewayMetrics {
 public:
  GatewayMetrics();
  void Request(const std::string& route, int status);
  void Upstream(const std::string& deployment, const std::string& outcome);
  // The duration of one exchange with a replica of `deployment` (a canary is judged on it).
  void UpstreamTime(const std::string& deployment, double seconds);
  void Refused(const std::string& reason);
  void Retry();
  void Mirrored();
  void Ejection();
  void AuditRecords(uint64_t n = 1);
  void InFlight(int delta) { in_flight_ += delta; }
  int in_flight() const { return in_flight_.load(); }

  // Counts for tests and logs.
  uint64_t requests(const std::string& route, int status) const;
  uint64_t refused(const std::string& reason) const;
  uint64_t retries() const;
  uint64_t ejections() const;

  serve::Histogram latency, upstream_latency;  // seconds

  // The exposition text; replica states from `routes` at `now_ms`.
  std::string Render(const RoutingTable& routes, int64_t now_ms) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;          // route, status
  std::map<std::pair<std::string, std::string>, uint64_t> upstream_;  // deployment, outcome
  std::map<std::string, uint64_t> refused_;                           // reason class
  std::map<std::string, std::pair<double, uint64_t>> upstream_time_;  // deployment: sum, count
  uint64_t retries_ = 0, mirrored_ = 0, ejections_ = 0, audit_records_ = 0;
  std::atomic<int> in_flight_{0};
};

}  // namespace medscribe::gateway
