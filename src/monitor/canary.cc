#include "monitor/canary.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/strings.h"
#include "monitor/live.h"

namespace medscribe::monitor {
namespace {

bool NameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

// A sample value: a decimal float, +Inf, -Inf or NaN.
bool ParseValue(std::string_view s, double& out) {
  if (s == "+Inf" || s == "Inf") {
    out = HUGE_VAL;
    return true;
  }
  if (s == "-Inf") {
    out = -HUGE_VAL;
    return true;
  }
  if (s == "NaN") {
    out = std::nan("");
    return true;
  }
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return false;
  const std::string copy(s);
  char* end = nullptr;
  errno = 0;
  out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && errno != ERANGE;
}

Status LineError(size_t line, const std::string& what) {
  return InvalidArgumentError("metrics line " + std::to_string(line) + ": " + what);
}

}  // namespace

StatusOr<std::vector<MetricSample>> ParsePrometheusText(std::string_view text) {
  std::vector<MetricSample> out;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    size_t i = 0;
    while (i < line.size() && line[i] == ' ') ++i;
    if (i == line.size() || line[i] == '#') continue;
    MetricSample s;
    const size_t name_start = i;
    while (i < line.size() && NameChar(line[i], i == name_start)) ++i;
    if (i == name_start) return LineError(line_no, "no metric name");
    s.name = std::string(line.substr(name_start, i - name_start));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        while (i < line.size() && line[i] == ' ') ++i;
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        const size_t key_start = i;
        while (i < line.size() && NameChar(line[i], i == key_start)) ++i;
        if (i == key_start) return LineError(line_no, "a label without a name");
        std::string key(line.substr(key_start, i - key_start));
        if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
          return LineError(line_no, "label " + key + " is not followed by =\"");
        i += 2;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          const char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i >= line.size()) break;
            const char e = line[i++];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              return LineError(line_no, "unknown escape in label " + key);
            }
          } else {
            value += c;
          }
        }
        if (!closed) return LineError(line_no, "label " + key + " is not closed");
        if (!s.labels.emplace(std::move(key), std::move(value)).second)
          return LineError(line_no, "a label given twice");
        while (i < line.size() && line[i] == ' ') ++i;
        if (i < line.size() && line[i] == ',') {
          ++i;
        } else if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        } else {
          return LineError(line_no, "labels not closed with }");
        }
      }
    }
    if (i >= line.size() || line[i] != ' ') return LineError(line_no, "no value");
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t value_end = line.find(' ', i);
    const std::string_view value = line.substr(i, value_end - i);
    if (!ParseValue(value, s.value)) return LineError(line_no, "the value is not a number");
    if (value_end != std::string_view::npos) {
      std::string_view ts = line.substr(value_end);
      while (!ts.empty() && ts.front() == ' ') ts.remove_prefix(1);
      double ignored = 0;
      if (!ParseValue(ts, ignored)) return LineError(line_no, "the timestamp is not a number");
    }
    out.push_back(std::move(s));
  }
  return out;
}

DeploymentTraffic TrafficOf(const std::vector<MetricSample>& scrape,
                            const std::string& deployment) {
  DeploymentTraffic t;
  for (const MetricSample& s : scrape) {
    const auto d = s.labels.find("deployment");
    if (d == s.labels.end() || d->second != deployment) continue;
    if (s.name == "medscribe_gateway_upstream_requests_total") {
      t.exchanges += s.value;
      const auto o = s.labels.find("outcome");
      const std::string outcome = o == s.labels.end() ? "" : o->second;
      // A number is the HTTP status the replica answered; a name says no answer came.
      const bool status =
          !outcome.empty() && outcome.find_first_not_of("0123456789") == std::string::npos;
      if (!status || outcome[0] == '5') t.failures += s.value;
    } else if (s.name == "medscribe_gateway_deployment_upstream_seconds_sum") {
      t.seconds += s.value;
    }
  }
  return t;
}

DeploymentTraffic TrafficSince(const DeploymentTraffic& later, const DeploymentTraffic& earlier) {
  DeploymentTraffic t;
  t.exchanges = later.exchanges - earlier.exchanges;
  t.failures = later.failures - earlier.failures;
  t.seconds = later.seconds - earlier.seconds;
  // A gateway restarted in between counts from zero again: take its counts as they are.
  if (t.exchanges < 0 || t.failures < 0 || t.seconds < 0) return later;
  return t;
}

void DraftEdits::Add(std::string_view draft, std::string_view final_text) {
  ++signed_reports;
  draft_words += static_cast<double>(SplitWhitespace(draft).size());
  edited_words += EditedWords(draft, final_text);
}

const char* CanaryDecisionName(CanaryDecision d) {
  switch (d) {
    case CanaryDecision::kPromote:
      return "promote";
    case CanaryDecision::kRollBack:
      return "roll back";
    case CanaryDecision::kWait:
      break;
  }
  return "wait";
}

CanaryVerdict JudgeCanary(const CanarySignals& canary, const CanarySignals& baseline,
                          const CanaryPolicy& p) {
  CanaryVerdict v;
  const auto fmt = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3f", x);
    return std::string(buf);
  };
  std::vector<std::string> out_of_bounds, missing;
  if (canary.traffic.exchanges < p.min_requests) {
    missing.push_back("the canary has answered " +
                      std::to_string(static_cast<long long>(canary.traffic.exchanges)) +
                      " of the " + std::to_string(static_cast<long long>(p.min_requests)) +
                      " requests it needs");
  } else {
    const double ce = canary.traffic.error_rate(), be = baseline.traffic.error_rate();
    if (ce > be + p.max_error_rate)
      out_of_bounds.push_back("error rate " + fmt(ce) + " against the baseline's " + fmt(be) +
                              " (margin " + fmt(p.max_error_rate) + ")");
    if (baseline.traffic.exchanges > 0 && baseline.traffic.mean_seconds() > 0) {
      const double ratio = canary.traffic.mean_seconds() / baseline.traffic.mean_seconds();
      if (ratio > p.max_latency_ratio)
        out_of_bounds.push_back("mean exchange " + fmt(canary.traffic.mean_seconds()) + " s, " +
                                fmt(ratio) + " times the baseline's (at most " +
                                fmt(p.max_latency_ratio) + ")");
    } else {
      v.reasons.push_back("latency not judged: the baseline answered nothing meanwhile");
    }
  }
  if (p.min_signed > 0) {
    if (canary.edits.signed_reports < p.min_signed ||
        baseline.edits.signed_reports < p.min_signed) {
      missing.push_back("signed reports: the canary's " +
                        std::to_string(canary.edits.signed_reports) + ", the baseline's " +
                        std::to_string(baseline.edits.signed_reports) + "; each needs " +
                        std::to_string(p.min_signed) + " for the edit rate");
    } else if (canary.edits.rate() > baseline.edits.rate() + p.max_edit_rate) {
      out_of_bounds.push_back("edit rate " + fmt(canary.edits.rate()) + " against the baseline's " +
                              fmt(baseline.edits.rate()) + " (margin " + fmt(p.max_edit_rate) +
                              ")");
    }
  } else {
    v.reasons.push_back("edit rate not judged (min_signed 0)");
  }
  if (!out_of_bounds.empty()) {
    v.decision = CanaryDecision::kRollBack;
    out_of_bounds.insert(out_of_bounds.end(), v.reasons.begin(), v.reasons.end());
    v.reasons = std::move(out_of_bounds);
  } else if (!missing.empty()) {
    v.decision = CanaryDecision::kWait;
    missing.insert(missing.end(), v.reasons.begin(), v.reasons.end());
    v.reasons = std::move(missing);
  } else {
    v.decision = CanaryDecision::kPromote;
  }
  return v;
}

}  // namespace medscribe::monitor
