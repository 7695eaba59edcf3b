// Prometheus metrics of the model server, rendered in the text exposition format
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Labels never carry request
// content: only routes, status codes and model names.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace medscribe::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void Observe(double v);
  // "# HELP / # TYPE" and the _bucket, _sum and _count series of `name`.
  std::string Render(const std::string& name, const std::string& help) const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); last: +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void Request(const std::string& route, int status);
  Histogram ttft, inter_token, e2e;  // seconds
  // Gauges and counters read from the engine when rendering.
  std::string Render(const std::map<std::string, double>& gauges,
                     const std::map<std::string, double>& counters) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

}  // namespace medscribe::serve
