// The canary step reads the gateway's /metrics over the network: ParsePrometheusText must answer
// every input with a Status, and what it accepts must have a name and only the labels it read.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "monitor/canary.h"

using namespace medscribe::monitor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto samples = ParsePrometheusText(text);
  if (!samples.ok()) return 0;
  for (const MetricSample& s : *samples)
    if (s.name.empty() || s.name.size() > size) __builtin_trap();
  const DeploymentTraffic t = TrafficOf(*samples, "canary");
  (void)TrafficSince(t, TrafficOf(*samples, "production"));
  (void)JudgeCanary({t, {}}, {t, {}}, CanaryPolicy{});
  return 0;
}
