#include "monitor/canary.h"

#include <gtest/gtest.h>

#include <cmath>

namespace medscribe::monitor {
namespace {

// As the gateway renders it (src/gateway/gateway_metrics.cc).
constexpr char kScrape[] =
    "# HELP medscribe_gateway_upstream_requests_total Exchanges with replicas.\n"
    "# TYPE medscribe_gateway_upstream_requests_total counter\n"
    "medscribe_gateway_upstream_requests_total{deployment=\"production\",outcome=\"200\"} 90\n"
    "medscribe_gateway_upstream_requests_total{deployment=\"production\",outcome=\"400\"} 2\n"
    "medscribe_gateway_upstream_requests_total{deployment=\"canary\",outcome=\"200\"} 8\n"
    "medscribe_gateway_upstream_requests_total{deployment=\"canary\",outcome=\"503\"} 1\n"
    "medscribe_gateway_upstream_requests_total{deployment=\"canary\",outcome=\"timeout\"} 1\n"
    "medscribe_gateway_upstream_requests_total{deployment=\"canary(mirror)\",outcome=\"200\"} 5\n"
    "medscribe_gateway_deployment_upstream_seconds_sum{deployment=\"production\"} 46.000000\n"
    "medscribe_gateway_deployment_upstream_seconds_count{deployment=\"production\"} 92\n"
    "medscribe_gateway_deployment_upstream_seconds_sum{deployment=\"canary\"} 7.5\n"
    "medscribe_gateway_deployment_upstream_seconds_count{deployment=\"canary\"} 10\n"
    "medscribe_gateway_replica_up{endpoint=\"reports\",deployment=\"canary\",model=\"chest@2\","
    "replica=\"127.0.0.1:4001\"} 1\n";

TEST(PrometheusText, ReadsTheGatewaysExposition) {
  auto samples = ParsePrometheusText(kScrape);
  ASSERT_TRUE(samples.ok()) << samples.status().message();
  ASSERT_EQ(samples->size(), 11u);
  const MetricSample& up = samples->back();
  EXPECT_EQ(up.name, "medscribe_gateway_replica_up");
  EXPECT_EQ(up.labels.at("model"), "chest@2");
  EXPECT_EQ(up.labels.at("replica"), "127.0.0.1:4001");
  EXPECT_EQ(up.value, 1);
}

TEST(PrometheusText, EscapesSpecialValuesAndTimestamps) {
  auto s = ParsePrometheusText("a_b:c{x=\"q\\\"\\\\\\n\"} -Inf 1700000000000\r\nplain 2.5e1\n\n");
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].labels.at("x"), "q\"\\\n");
  EXPECT_TRUE(std::isinf((*s)[0].value) && (*s)[0].value < 0);
  EXPECT_EQ((*s)[1].name, "plain");
  EXPECT_EQ((*s)[1].value, 25);
}

TEST(PrometheusText, RefusesMalformedLinesNamingThem) {
  for (const char* bad : {"m{a=\"1\" 1", "m{a=1} 1", "m{a=\"1\",a=\"2\"} 1", "m 0x1F", "m",
                          "{a=\"1\"} 1", "m{a=\"\\q\"} 1", "m 1 later", "9m 1"}) {
    auto s = ParsePrometheusText(std::string("# ok\n") + bad + "\n");
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("metrics line 2"), std::string::npos)
        << s.status().message();
  }
}

TEST(CanaryTraffic, CountsFailuresAndTimePerDeployment) {
  auto samples = ParsePrometheusText(kScrape);
  ASSERT_TRUE(samples.ok());
  const DeploymentTraffic canary = TrafficOf(*samples, "canary");
  EXPECT_EQ(canary.exchanges, 10);  // not the mirror's copies
  EXPECT_EQ(canary.failures, 2);    // the 503 and the timeout
  EXPECT_DOUBLE_EQ(canary.mean_seconds(), 0.75);
  const DeploymentTraffic prod = TrafficOf(*samples, "production");
  EXPECT_EQ(prod.exchanges, 92);
  EXPECT_EQ(prod.failures, 0);  // a 400 is the client's
  EXPECT_DOUBLE_EQ(prod.mean_seconds(), 0.5);

  DeploymentTraffic earlier;
  earlier.exchanges = 4;
  earlier.failures = 1;
  earlier.seconds = 1.5;
  const DeploymentTraffic since = TrafficSince(canary, earlier);
  EXPECT_EQ(since.exchanges, 6);
  EXPECT_EQ(since.failures, 1);
  EXPECT_DOUBLE_EQ(since.seconds, 6);
  // A restarted gateway's counters start again: the later scrape stands alone.
  earlier.exchanges = 50;
  EXPECT_EQ(TrafficSince(canary, earlier).exchanges, 10);
}

CanarySignals Signals(double exchanges, double failures, double seconds, int64_t signed_reports,
                      double draft_words, double edited_words) {
  CanarySignals s;
  s.traffic.exchanges = exchanges;
  s.traffic.failures = failures;
  s.traffic.seconds = seconds;
  s.edits.signed_reports = signed_reports;
  s.edits.draft_words = draft_words;
  s.edits.edited_words = edited_words;
  return s;
}

TEST(JudgeCanary, PromotesWhenEverySignalHolds) {
  CanaryPolicy p;
  p.min_requests = 20;
  p.min_signed = 5;
  const CanarySignals base = Signals(200, 2, 100, 40, 4000, 400);  // 1% errors, 0.5 s, 0.10
  const CanaryVerdict v = JudgeCanary(Signals(25, 0, 15, 5, 500, 70), base, p);  // 0.6 s, 0.14
  EXPECT_EQ(v.decision, CanaryDecision::kPromote) << (v.reasons.empty() ? "" : v.reasons[0]);
  EXPECT_STREQ(CanaryDecisionName(v.decision), "promote");
}

TEST(JudgeCanary, WaitsForEnoughRequestsAndSignedReports) {
  CanaryPolicy p;
  p.min_requests = 20;
  p.min_signed = 5;
  const CanarySignals base = Signals(200, 2, 100, 40, 4000, 400);
  CanaryVerdict v = JudgeCanary(Signals(19, 0, 9, 5, 500, 50), base, p);
  EXPECT_EQ(v.decision, CanaryDecision::kWait);
  ASSERT_FALSE(v.reasons.empty());
  EXPECT_NE(v.reasons[0].find("19 of the 20 requests"), std::string::npos) << v.reasons[0];
  v = JudgeCanary(Signals(30, 0, 15, 4, 400, 40), base, p);
  EXPECT_EQ(v.decision, CanaryDecision::kWait);
  EXPECT_NE(v.reasons[0].find("the canary's 4"), std::string::npos) << v.reasons[0];
  // Without an edit criterion the traffic alone decides, and the verdict says so.
  p.min_signed = 0;
  v = JudgeCanary(Signals(30, 0, 15, 0, 0, 0), base, p);
  EXPECT_EQ(v.decision, CanaryDecision::kPromote);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_NE(v.reasons[0].find("edit rate not judged"), std::string::npos);
}

TEST(JudgeCanary, RollsBackOnEachSignalOutOfBounds) {
  CanaryPolicy p;
  p.min_requests = 20;
  p.min_signed = 5;
  const CanarySignals base = Signals(200, 2, 100, 40, 4000, 400);
  // Errors: 2 of 25 (8%) against 1% + 2%.
  CanaryVerdict v = JudgeCanary(Signals(25, 2, 12.5, 5, 500, 50), base, p);
  EXPECT_EQ(v.decision, CanaryDecision::kRollBack);
  EXPECT_NE(v.reasons[0].find("error rate 0.080"), std::string::npos) << v.reasons[0];
  // Latency: 0.8 s a request, 1.6 times the baseline's.
  v = JudgeCanary(Signals(25, 0, 20, 5, 500, 50), base, p);
  EXPECT_EQ(v.decision, CanaryDecision::kRollBack);
  EXPECT_NE(v.reasons[0].find("1.600 times"), std::string::npos) << v.reasons[0];
  // Edits: 0.2 words changed per word against 0.1 + 0.05.
  v = JudgeCanary(Signals(25, 0, 12.5, 5, 500, 100), base, p);
  EXPECT_EQ(v.decision, CanaryDecision::kRollBack);
  EXPECT_NE(v.reasons[0].find("edit rate 0.200"), std::string::npos) << v.reasons[0];
  // A bad signal rolls back even while another still lacks evidence.
  v = JudgeCanary(Signals(25, 5, 12.5, 0, 0, 0), base, p);
  EXPECT_EQ(v.decision, CanaryDecision::kRollBack);
}

TEST(JudgeCanary, LatencyIsNotJudgedWithoutBaselineTraffic) {
  CanaryPolicy p;
  p.min_requests = 5;
  p.min_signed = 0;
  const CanaryVerdict v = JudgeCanary(Signals(10, 0, 50, 0, 0, 0), Signals(0, 0, 0, 0, 0, 0), p);
  EXPECT_EQ(v.decision, CanaryDecision::kPromote);
  EXPECT_NE(v.reasons[0].find("latency not judged"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::monitor
