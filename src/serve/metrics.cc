#include "serve/metrics.h"

#include <cstdio>
#include <sstream>

namespace medscribe::serve {
namespace {

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

const std::vector<double> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,      2.5,   5,    10,    30,   60};

}  // namespace

void Histogram::Observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

std::string Histogram::Render(const std::string& name, const std::string& help) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream out;
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out << name << "_bucket{le=\"" << Num(bounds_[i]) << "\"} " << cumulative << "\n";
  }
  cumulative += counts_.back();
  out << name << "_bucket{le=\"+Inf\"} " << cumulative << "\n";
  out << name << "_sum " << Num(sum_) << "\n" << name << "_count " << count_ << "\n";
  return out.str();
}

ServerMetrics::ServerMetrics()
    : ttft(kLatencyBuckets), inter_token(kLatencyBuckets), e2e(kLatencyBuckets) {}

void ServerMetrics::Request(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
}

std::string ServerMetrics::Render(const std::map<std::string, double>& gauges,
                                  const std::map<std::string, double>& counters) const {
  std::ostringstream out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out << "# HELP medscribe_http_requests_total HTTP requests by route and status code.\n"
        << "# TYPE medscribe_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      out << "medscribe_http_requests_total{route=\"" << key.first << "\",code=\"" << key.second
          << "\"} " << n << "\n";
    }
  }
  out << ttft.Render("medscribe_time_to_first_token_seconds",
                     "Time from request to the first generated token.");
  out << inter_token.Render("medscribe_inter_token_latency_seconds",
                            "Time between consecutive streamed tokens.");
  out << e2e.Render("medscribe_request_duration_seconds",
                    "Time from request to the last generated token.");
  for (const auto& [name, v] : gauges) {
    out << "# HELP " << name << " Engine state.\n# TYPE " << name << " gauge\n"
        << name << " " << Num(v) << "\n";
  }
  for (const auto& [name, v] : counters) {
    out << "# HELP " << name << " Engine counter.\n# TYPE " << name << " counter\n"
        << name << " " << Num(v) << "\n";
  }
  return out.str();
}

}  // namespace medscribe::serve
