#include "gateway/gateway_metrics.h"

#include <cstdio>

#include "monitor/drift.h"

namespace medscribe::gateway {
namespace {

const std::vector<double> kLatencyBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,      2.5,   5,    10,    30,   60};

}  // namespace

GatewayMetrics::GatewayMetrics() : latency(kLatencyBounds), upstream_latency(kLatencyBounds) {}

void GatewayMetrics::Request(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
}
void GatewayMetrics::Upstream(const std::string& deployment, const std::string& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  ++upstream_[{deployment, outcome}];
}
void GatewayMetrics::UpstreamTime(const std::string& deployment, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& [sum, count] = upstream_time_[deployment];
  sum += seconds;
  ++count;
}
void GatewayMetrics::Refused(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++refused_[reason];
}
void GatewayMetrics::Retry() {
  std::lock_guard<std::mutex> lock(mu_);
  ++retries_;
}
void GatewayMetrics::Mirrored() {
  std::lock_guard<std::mutex> lock(mu_);
  ++mirrored_;
}
void GatewayMetrics::Ejection() {
  std::lock_guard<std::mutex> lock(mu_);
  ++ejections_;
}
void GatewayMetrics::AuditRecords(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  audit_records_ += n;
}

uint64_t GatewayMetrics::requests(const std::string& route, int status) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = requests_.find({route, status});
  return it == requests_.end() ? 0 : it->second;
}
uint64_t GatewayMetrics::refused(const std::string& reason) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = refused_.find(reason);
  return it == refused_.end() ? 0 : it->second;
}
uint64_t GatewayMetrics::retries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retries_;
}
uint64_t GatewayMetrics::ejections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ejections_;
}

std::string GatewayMetrics::Render(const RoutingTable& routes, int64_t now_ms) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out +=
        "# HELP medscribe_gateway_requests_total Requests answered by the gateway, by route and "
        "status.\n";
    out += "# TYPE medscribe_gateway_requests_total counter\n";
    for (const auto& [k, v] : requests_)
      out += "medscribe_gateway_requests_total{route=\"" + k.first + "\",code=\"" +
             std::to_string(k.second) + "\"} " + std::to_string(v) + "\n";
    out +=
        "# HELP medscribe_gateway_upstream_requests_total Exchanges with replicas, by deployment "
        "and outcome.\n";
    out += "# TYPE medscribe_gateway_upstream_requests_total counter\n";
    for (const auto& [k, v] : upstream_)
      out += "medscribe_gateway_upstream_requests_total{deployment=\"" + k.first + "\",outcome=\"" +
             k.second + "\"} " + std::to_string(v) + "\n";
    out +=
        "# HELP medscribe_gateway_deployment_upstream_seconds Time of exchanges with a "
        "deployment's replicas, seconds.\n# TYPE medscribe_gateway_deployment_upstream_seconds "
        "summary\n";
    for (const auto& [d, v] : upstream_time_) {
      char sum[40];
      std::snprintf(sum, sizeof(sum), "%.6f", v.first);
      out += "medscribe_gateway_deployment_upstream_seconds_sum{deployment=\"" + d + "\"} " + sum +
             "\n";
      out += "medscribe_gateway_deployment_upstream_seconds_count{deployment=\"" + d + "\"} " +
             std::to_string(v.second) + "\n";
    }
    out += "# HELP medscribe_gateway_refused_total Requests refused by the gateway, by reason.\n";
    out += "# TYPE medscribe_gateway_refused_total counter\n";
    for (const auto& [k, v] : refused_)
      out += "medscribe_gateway_refused_total{reason=\"" + k + "\"} " + std::to_string(v) + "\n";
    auto counter = [&](const char* name, const char* help, uint64_t v) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
             " " + std::to_string(v) + "\n";
    };
    counter("medscribe_gateway_retries_total", "Requests sent to a second replica.", retries_);
    counter("medscribe_gateway_mirrored_total", "Requests copied to a mirror deployment.",
            mirrored_);
    counter("medscribe_gateway_ejections_total", "Replicas taken out of rotation after failures.",
            ejections_);
    counter("medscribe_gateway_audit_records_total", "Audit records written.", audit_records_);
  }
  out += latency.Render("medscribe_gateway_request_duration_seconds",
                        "Time from request to the end of the response, seconds.");
  out += upstream_latency.Render("medscribe_gateway_upstream_duration_seconds",
                                 "Time of exchanges with replicas, seconds.");
  out +=
      "# HELP medscribe_gateway_in_flight_requests Requests being answered.\n# TYPE "
      "medscribe_gateway_in_flight_requests gauge\n";
  out += "medscribe_gateway_in_flight_requests " + std::to_string(in_flight_.load()) + "\n";
  out +=
      "# HELP medscribe_gateway_deployment_weight A deployment's weight in its endpoint.\n# "
      "TYPE medscribe_gateway_deployment_weight gauge\n";
  for (const auto& ep : routes.endpoints())
    for (const auto& d : ep->deployments) {
      char w[40];
      std::snprintf(w, sizeof(w), "%.10g", d->weight);
      out += "medscribe_gateway_deployment_weight{endpoint=\"" + ep->name + "\",deployment=\"" +
             d->name + "\"} " + w + "\n";
    }
  out +=
      "# HELP medscribe_gateway_replica_up Whether a replica is in rotation (1) or not (0), and "
      "the model (NAME@VERSION) its last health check named.\n# TYPE medscribe_gateway_replica_up "
      "gauge\n";
  for (const auto& ep : routes.endpoints())
    for (const auto& d : ep->deployments)
      for (const auto& r : d->replicas)
        out += "medscribe_gateway_replica_up{endpoint=\"" + ep->name + "\",deployment=\"" +
               d->name + "\",model=\"" + monitor::PrometheusLabel(r->model()) + "\",replica=\"" +
               r->addr.key() + "\"} " + (r->available(now_ms) ? "1" : "0") + "\n";
  return out;
}

}  // namespace medscribe::gateway
