// Judging a canary deployment (docs/pipeline.md, "The canary"): the gateway sends a share of an
// endpoint's traffic to a candidate model; its live signals — failed exchanges, their duration,
// and how much the clinicians change the drafts it wrote — are compared with those of the
// deployment it would replace, and the candidate is promoted, rolled back, or watched longer.
//
// The gateway's counters are read from its Prometheus exposition (`GET /metrics`); the edits
// from the drafts store (the pipeline reads it; live.h's EditedWords measures one draft).
//
// Thread safety: plain functions and values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::monitor {

// One sample of the Prometheus text exposition format (version 0.0.4).
struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the exposition format: `# ...` lines and blank lines are skipped; each other line is
// `NAME[{LABEL="VALUE",...}] VALUE [TIMESTAMP]`, label values with \\, \" and \n escapes.
// InvalidArgument naming the line for anything else. REQUIRES nothing of `text` (untrusted).
StatusOr<std::vector<MetricSample>> ParsePrometheusText(std::string_view text);

// What the gateway counted for one deployment's replicas; cumulative since the gateway started.
struct DeploymentTraffic {
  double exchanges = 0;  // exchanges with its replicas
  double failures = 0;   // of them: no answer, or an HTTP 5xx answer
  double seconds = 0;    // their total duration
  double error_rate() const { return exchanges > 0 ? failures / exchanges : 0; }
  double mean_seconds() const { return exchanges > 0 ? seconds / exchanges : 0; }
};

// `deployment`'s counters in a scrape of the gateway's /metrics
// (medscribe_gateway_upstream_requests_total, medscribe_gateway_deployment_upstream_seconds).
DeploymentTraffic TrafficOf(const std::vector<MetricSample>& scrape, const std::string& deployment);
// The traffic between two scrapes (`later` minus `earlier`).
DeploymentTraffic TrafficSince(const DeploymentTraffic& later, const DeploymentTraffic& earlier);

// The clinicians' edits of the reports one model version drafted and they signed.
struct DraftEdits {
  int64_t signed_reports = 0;
  double draft_words = 0, edited_words = 0;
  // Counts one signed report: its draft's words and the words the clinician changed
  // (live.h's EditedWords).
  void Add(std::string_view draft, std::string_view final_text);
  // Words changed per word drafted (live.h's edit rate); 0 without a signed report.
  double rate() const { return draft_words > 0 ? edited_words / draft_words : 0; }
};

struct CanarySignals {
  DeploymentTraffic traffic;
  DraftEdits edits;
};

// When a canary may be promoted. Rates are compared with the baseline's: the canary may be worse
// by at most the margin.
struct CanaryPolicy {
  double min_requests = 20;        // canary exchanges before anything is decided
  double max_error_rate = 0.02;    // canary failure rate minus the baseline's
  double max_latency_ratio = 1.5;  // canary mean exchange time over the baseline's
  double max_edit_rate = 0.05;     // canary edit rate minus the baseline's
  int64_t min_signed = 10;         // signed reports each needs for the edit rate; 0: not judged
};

enum class CanaryDecision { kWait, kPromote, kRollBack };
const char* CanaryDecisionName(CanaryDecision d);  // "wait", "promote", "roll back"

struct CanaryVerdict {
  CanaryDecision decision = CanaryDecision::kWait;
  // Why (each signal out of bounds for a roll-back; what is missing for a wait), plus notes on
  // signals that could not be judged.
  std::vector<std::string> reasons;
};

// Promote when every signal holds on enough evidence; roll back as soon as one is out of bounds
// on enough evidence; otherwise wait. Latency is not judged while the baseline had no exchange.
CanaryVerdict JudgeCanary(const CanarySignals& canary, const CanarySignals& baseline,
                          const CanaryPolicy& policy);

}  // namespace medscribe::monitor
