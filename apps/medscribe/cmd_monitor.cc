// `medscribe monitor`: drift of a dataset, or of the gateway's live traffic, against a model's
// training data (monitor/drift.h, monitor/live.h; docs/monitoring.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "cli.h"
#include "clinical/hint_reference.h"
#include "common/civil_time.h"
#include "common/files.h"
#include "common/subprocess.h"
#include "gateway/assets.h"
#include "model/json.h"
#include "monitor/dataset_profile.h"
#include "monitor/live.h"
#include "report_engine.h"

namespace medscribe::cli {
namespace {
namespace fs = std::filesystem;
namespace json = model::json;

struct MonitorArgs {
  std::string model, reference, current, live, since, out, prometheus, svg, on_alert;
  std::string reference_split = "train", split = "test";
  monitor::Thresholds thresholds;
  double max_edit_rate = 0.3;
  // A rule's hints per live draft may exceed its hints per reference report by this much.
  double max_hint_rate = 0.2;
  std::vector<std::string> rules;  // rule files (the gateway's clinical.rules); none: shipped
  // The threshold options, to tell a value given on the command line from a default: the
  // option, its configuration key, and the value it sets.
  struct ThresholdOption {
    CLI::Option* option;
    std::string key;
    double* value;
  };
  std::vector<ThresholdOption> threshold_options;
};

// Thresholds not given on the command line come from the configuration (--config FILE,
// --set monitor.psi=0.2): monitor.psi, monitor.js, monitor.min_count, monitor.max_edit_rate,
// monitor.max_hint_rate.
Status ThresholdsFromConfig(const GlobalOptions& g, MonitorArgs& a) {
  for (const MonitorArgs::ThresholdOption& t : a.threshold_options) {
    if (t.option->count() > 0 || !g.config.Has(t.key)) continue;
    ASSIGN_OR_RETURN(const double v, g.config.GetDouble(t.key, 0));
    if (!(v >= 0)) return InvalidArgumentError(t.key + " must be a number of at least 0");
    *t.value = v;
  }
  return OkStatus();
}

// The training dataset a model's lineage names (run.json "dataset"), when it is on this machine.
StatusOr<std::string> TrainingDataset(const std::string& model_dir, const std::string& ref) {
  ASSIGN_OR_RETURN(const std::string text, ReadFile(fs::path(model_dir) / "run.json"));
  ASSIGN_OR_RETURN(const json::Value run, json::Parse(text));
  const json::Value* d = run.Find("dataset");
  if (!d || !d->is_string() || d->as_string().empty())
    return NotFoundError("the lineage of " + ref + " names no training dataset");
  if (!fs::exists(fs::path(d->as_string()) / "manifest.json"))
    return NotFoundError("the training dataset of " + ref + " (" + d->as_string() +
                         ") is not on this machine");
  return d->as_string();
}

// The reference profile, and what it is (for the report).
struct Reference {
  monitor::Profile profile;
  std::string name;
  std::string dataset;  // the reference dataset when there is one on this machine ("": none)
};

// A dataset's profile of `split`: the one ingest wrote for train, else computed.
StatusOr<monitor::Profile> DatasetReference(const std::string& dir, const std::string& split) {
  if (split == "train") {
    auto p = monitor::LoadReferenceProfile(dir);  // the manifest's drift_profile
    if (p.ok() || p.status().code() != ErrorCode::kNotFound) return p;
  }
  return monitor::ProfileDataset(dir, split);
}

StatusOr<Reference> ResolveReference(GlobalOptions& g, const MonitorArgs& a) {
  if (!a.model.empty()) {
    ASSIGN_OR_RETURN(const std::string dir, ResolveModelDir(g, a.model));
    auto dataset = TrainingDataset(dir, a.model);
    auto carried = monitor::LoadReferenceProfile(dir);  // run.json's drift_profile
    if (carried.ok())
      return Reference{std::move(*carried), a.model + " (its run.json)",
                       dataset.ok() ? *dataset : ""};
    if (carried.status().code() != ErrorCode::kNotFound) return carried.status();
    if (!dataset.ok())
      return NotFoundError(a.model +
                           " carries no drift profile (trained before training "
                           "recorded one) and " +
                           dataset.status().message() + "; pass --reference DATASET");
    ASSIGN_OR_RETURN(monitor::Profile p, DatasetReference(*dataset, a.reference_split));
    return Reference{std::move(p), *dataset + " (" + a.reference_split + ")", *dataset};
  }
  if (a.reference.empty())
    return InvalidArgumentError("give --model MODEL or --reference DATASET|PROFILE");
  if (fs::exists(fs::path(a.reference) / "manifest.json")) {
    ASSIGN_OR_RETURN(monitor::Profile p, DatasetReference(a.reference, a.reference_split));
    return Reference{std::move(p), a.reference + " (" + a.reference_split + ")", a.reference};
  }
  ASSIGN_OR_RETURN(monitor::Profile p, monitor::LoadReferenceProfile(a.reference));
  return Reference{std::move(p), a.reference, ""};
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --since: a duration back from now ("24h") or a UTC time ("2026-12-01T00:00:00Z"); 0 when
// not given (every window).
StatusOr<int64_t> SinceSeconds(const std::string& since) {
  if (since.empty()) return 0;
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (std::sscanf(since.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) >= 3)
    return static_cast<int64_t>(DateTime{Date{y, mo, d}, h, mi, s}.SecondsSinceEpoch());
  ASSIGN_OR_RETURN(const int64_t back, ParseDuration(since, "--since"));
  return NowSeconds() - back;
}

std::string IsoOf(int64_t t) { return DateTime::FromSeconds(static_cast<long>(t)).Iso() + "Z"; }

// One rule's hints per reference report beside its hints per live draft.
struct HintRate {
  std::string rule;
  double reference = 0, live = 0;
  bool alert = false;
};

// The rule sets the gateway checks drafts with: `a.rules`, else the shipped ones.
StatusOr<std::vector<std::shared_ptr<const clinical::RuleSet>>> RuleSets(const MonitorArgs& a) {
  std::vector<std::shared_ptr<const clinical::RuleSet>> out;
  if (a.rules.empty()) {
    for (const gateway::Asset& asset : gateway::Assets()) {
      if (asset.path.rfind("rules/", 0) != 0) continue;
      ASSIGN_OR_RETURN(clinical::RuleSet r, clinical::RuleSet::Parse(std::string(asset.content),
                                                                     std::string(asset.path)));
      out.push_back(std::make_shared<const clinical::RuleSet>(std::move(r)));
    }
  }
  for (const std::string& f : a.rules) {
    ASSIGN_OR_RETURN(clinical::RuleSet r, clinical::RuleSet::Load(f));
    out.push_back(std::make_shared<const clinical::RuleSet>(std::move(r)));
  }
  return out;
}

// Each rule's hint rate on the reference dataset's reports beside the live drafts'; a rule alerts
// when at least min_count drafts were made and its live rate exceeds the reference's by more
// than max_hint_rate.
StatusOr<std::vector<HintRate>> CompareHints(const MonitorArgs& a, const Reference& ref,
                                             const monitor::LiveWindow& live) {
  ASSIGN_OR_RETURN(const auto rule_sets, RuleSets(a));
  ASSIGN_OR_RETURN(const clinical::HintReference hr,
                   clinical::ReferenceHints(rule_sets, ref.dataset, a.reference_split));
  std::map<std::string, HintRate> by_rule;
  for (const auto& [rule, n] : hr.hints)
    by_rule[rule].reference = static_cast<double>(n) / static_cast<double>(hr.reports);
  for (const auto& [rule, n] : live.hints)
    by_rule[rule].live =
        live.drafts > 0 ? static_cast<double>(n) / static_cast<double>(live.drafts) : 0;
  std::vector<HintRate> out;
  for (auto& [rule, r] : by_rule) {
    r.rule = rule;
    r.alert = static_cast<double>(live.drafts) >= a.thresholds.min_count &&
              r.live > r.reference + a.max_hint_rate;
    out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const HintRate& x, const HintRate& y) {
    return x.live - x.reference > y.live - y.reference;
  });
  std::printf("hints per report: reference %s (%lld reports), live (%lld drafts)\n",
              ref.dataset.c_str(), static_cast<long long>(hr.reports),
              static_cast<long long>(live.drafts));
  for (const HintRate& r : out)
    std::printf("  %-44s %9.3f %9.3f  %s\n", r.rule.c_str(), r.reference, r.live,
                r.alert ? "ALERT" : "");
  return out;
}

json::Value ReportJson(const MonitorArgs& a, const Reference& ref, const std::string& current,
                       const std::vector<monitor::FeatureDrift>& rows, int alerts,
                       const monitor::LiveWindow* live, bool edit_alert,
                       const std::vector<HintRate>& hint_rates) {
  json::Array features;
  for (const monitor::FeatureDrift& d : rows)
    features.push_back(json::Value(json::Object{{"feature", json::Value(d.feature)},
                                                {"psi", json::Value(d.psi)},
                                                {"js", json::Value(d.js)},
                                                {"reference_count", json::Value(d.reference_count)},
                                                {"current_count", json::Value(d.current_count)},
                                                {"alert", json::Value(d.alert)}}));
  json::Object report{
      {"reference", json::Value(ref.name)},
      {"current", json::Value(current)},
      {"thresholds", json::Value(json::Object{{"psi", json::Value(a.thresholds.psi)},
                                              {"js", json::Value(a.thresholds.js)},
                                              {"min_count", json::Value(a.thresholds.min_count)},
                                              {"max_edit_rate", json::Value(a.max_edit_rate)},
                                              {"max_hint_rate", json::Value(a.max_hint_rate)}})},
      {"alerts", json::Value(alerts)},
      {"features", json::Value(std::move(features))}};
  if (live) {
    json::Object hints, rates;
    for (const auto& [rule, n] : live->hints) hints[rule] = json::Value(n);
    for (const HintRate& r : hint_rates)
      rates[r.rule] = json::Value(json::Object{{"reference", json::Value(r.reference)},
                                               {"live", json::Value(r.live)},
                                               {"alert", json::Value(r.alert)}});
    report["live"] = json::Value(json::Object{{"from", json::Value(IsoOf(live->start))},
                                              {"to", json::Value(IsoOf(live->end))},
                                              {"drafts", json::Value(live->drafts)},
                                              {"hints", json::Value(std::move(hints))},
                                              {"hint_rates", json::Value(std::move(rates))},
                                              {"signed", json::Value(live->signed_reports)},
                                              {"edit_rate", json::Value(live->edit_rate())},
                                              {"edit_rate_alert", json::Value(edit_alert)}});
  }
  return json::Value(std::move(report));
}

// What is checked: a dataset's split, or the live windows added up.
struct Current {
  monitor::Profile profile;
  std::string name;
  std::optional<monitor::LiveWindow> live;
};

StatusOr<Current> LoadCurrent(const MonitorArgs& a, const monitor::Profile& reference) {
  Current c;
  if (a.live.empty()) {
    ASSIGN_OR_RETURN(c.profile, monitor::ProfileDataset(a.current, a.split, &reference));
    c.name = a.current + " (" + a.split + ")";
    return c;
  }
  ASSIGN_OR_RETURN(const int64_t since, SinceSeconds(a.since));
  ASSIGN_OR_RETURN(monitor::LiveWindow w,
                   monitor::ReadWindows(a.live, since, monitor::ProfileFingerprint(reference)));
  c.profile = w.profile;
  c.name = a.live + " (live, " + IsoOf(w.start) + " to " + IsoOf(w.end) + ")";
  c.live = std::move(w);
  return c;
}

// Prints the live tallies: drafts, signatures, the edit rate (whether it alerts is returned)
// and the rule hints per draft, the most frequent rules first.
bool PrintLive(const monitor::LiveWindow& live, const MonitorArgs& a) {
  const bool enough = live.signed_reports >= a.thresholds.min_count;
  const bool alert = enough && live.edit_rate() > a.max_edit_rate;
  std::printf("live: %lld drafts, %lld signed; edit rate %.3f (words changed per word drafted)%s\n",
              static_cast<long long>(live.drafts), static_cast<long long>(live.signed_reports),
              live.edit_rate(),
              alert    ? "  ALERT"
              : enough ? ""
                       : " (too few signed reports to alert)");
  std::vector<std::pair<int64_t, std::string>> by_count;
  int64_t hints = 0;
  for (const auto& [rule, n] : live.hints) {
    by_count.push_back({n, rule});
    hints += n;
  }
  std::sort(by_count.rbegin(), by_count.rend());
  std::string top;
  for (size_t i = 0; i < by_count.size() && i < 5; ++i)
    top += (i ? ", " : "") + by_count[i].second + " " + std::to_string(by_count[i].first);
  std::printf("live: %.2f rule hints per draft%s%s\n",
              live.drafts ? static_cast<double>(hints) / static_cast<double>(live.drafts) : 0.0,
              top.empty() ? "" : "; most frequent: ", top.c_str());
  return alert;
}

// --prometheus, --svg and --out.
Status WriteOutputs(const MonitorArgs& a, const Reference& ref, const Current& cur,
                    const std::vector<monitor::FeatureDrift>& rows, int alerts, bool edit_alert,
                    const std::vector<HintRate>& hint_rates) {
  if (!a.prometheus.empty()) {
    std::string text = monitor::PrometheusText(rows);
    if (cur.live) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "# HELP medscribe_drift_edit_rate Words changed per word drafted in the "
                    "signed reports.\n# TYPE medscribe_drift_edit_rate gauge\n"
                    "medscribe_drift_edit_rate %.6g\n",
                    cur.live->edit_rate());
      text += buf;
    }
    if (!hint_rates.empty()) {
      text +=
          "# HELP medscribe_drift_hint_rate Rule hints per report: the reference dataset's "
          "reports and the live drafts.\n# TYPE medscribe_drift_hint_rate gauge\n";
      for (const HintRate& r : hint_rates) {
        char buf[512];
        for (const auto& [side, v] : {std::pair<const char*, double>{"reference", r.reference},
                                      std::pair<const char*, double>{"live", r.live}}) {
          std::snprintf(buf, sizeof buf,
                        "medscribe_drift_hint_rate{rule=\"%s\",side=\"%s\"} %.6g\n",
                        monitor::PrometheusLabel(r.rule).c_str(), side, v);
          text += buf;
        }
      }
    }
    RETURN_IF_ERROR(WriteFile(a.prometheus, text));
  }
  if (!a.svg.empty()) {
    const std::string title = "Drift of " + cur.name + " against " + ref.name;
    RETURN_IF_ERROR(WriteFile(a.svg, monitor::DriftSvg(rows, a.thresholds, title)));
  }
  if (!a.out.empty()) {
    const json::Value report = ReportJson(a, ref, cur.name, rows, alerts,
                                          cur.live ? &*cur.live : nullptr, edit_alert, hint_rates);
    RETURN_IF_ERROR(WriteFile(a.out, json::Dump(report, 2) + "\n"));
  }
  return OkStatus();
}

// --on-alert: the hook (e.g. a retraining pipeline) gets the report's path and the number of
// alerts.
Status RunAlertHook(const MonitorArgs& a, int alerts) {
  setenv("MEDSCRIBE_DRIFT_ALERTS", std::to_string(alerts).c_str(), 1);
  setenv("MEDSCRIBE_DRIFT_REPORT", a.out.c_str(), 1);
  ASSIGN_OR_RETURN(const ProcessResult r, RunProcess({"/bin/sh", "-c", a.on_alert}));
  std::fputs(r.out.c_str(), stdout);
  std::fputs(r.err.c_str(), stderr);
  if (r.exit_code != 0) return InternalError("--on-alert exited " + std::to_string(r.exit_code));
  return OkStatus();
}

int Run(GlobalOptions& g, MonitorArgs& a) {
  if (Status s = ThresholdsFromConfig(g, a); !s.ok()) return ReportError(s);
  if (a.current.empty() == a.live.empty())
    return ReportError(InvalidArgumentError(
        "give the data to check: --current DATASET, or --live DIR (the gateway's "
        "clinical.drift_dir)"));
  auto ref = ResolveReference(g, a);
  if (!ref.ok()) return ReportError(ref.status());
  auto cur = LoadCurrent(a, ref->profile);
  if (!cur.ok()) return ReportError(cur.status());
  const std::vector<monitor::FeatureDrift> rows =
      monitor::Compare(ref->profile, cur->profile, a.thresholds);
  std::printf("%-28s %9s %9s %9s %9s  %s\n", "feature", "PSI", "JS", "reference", "current", "");
  int alerts = 0;
  for (const monitor::FeatureDrift& d : rows) {
    std::printf("%-28s %9.4f %9.4f %9.0f %9.0f  %s\n", d.feature.c_str(), d.psi, d.js,
                d.reference_count, d.current_count, d.alert ? "ALERT" : "");
    alerts += d.alert;
  }
  std::printf(
      "%d of %zu features drifted (PSI > %g or JS > %g, at least %g values); reference %s, "
      "current %s\n",
      alerts, rows.size(), a.thresholds.psi, a.thresholds.js, a.thresholds.min_count,
      ref->name.c_str(), cur->name.c_str());
  const bool edit_alert = cur->live && PrintLive(*cur->live, a);
  alerts += edit_alert;
  std::vector<HintRate> hint_rates;
  if (cur->live && ref->dataset.empty()) {
    std::printf(
        "hints per report: no reference dataset on this machine to check the rules on "
        "(pass --reference DATASET)\n");
  } else if (cur->live) {
    auto compared = CompareHints(a, *ref, *cur->live);
    if (!compared.ok()) return ReportError(compared.status());
    hint_rates = std::move(*compared);
    for (const HintRate& r : hint_rates) alerts += r.alert;
  }
  if (Status s = WriteOutputs(a, *ref, *cur, rows, alerts, edit_alert, hint_rates); !s.ok())
    return ReportError(s);
  if (alerts > 0 && !a.on_alert.empty()) {
    if (Status s = RunAlertHook(a, alerts); !s.ok()) return ReportError(s);
  }
  // 4: drift above a threshold (for schedulers that start retraining on it).
  return alerts > 0 ? 4 : kExitOk;
}

}  // namespace

Runner RegisterMonitor(CLI::App& app) {
  auto a = std::make_shared<MonitorArgs>();
  app.add_option("--model", a->model,
                 "Registry MODEL whose training data is the reference (the profile its "
                 "run.json carries, else its training dataset's)");
  app.add_option("--reference", a->reference,
                 "Reference instead of --model: a dataset, or a file or directory holding a "
                 "drift profile (run.json, manifest.json, a profile JSON)");
  app.add_option("--reference-split", a->reference_split, "Split of a reference dataset")
      ->capture_default_str();
  app.add_option("--current", a->current,
                 "Dataset to check (e.g. a new ingest or a feedback export)");
  app.add_option("--live", a->live,
                 "Check the gateway's live traffic instead: its drift directory "
                 "(clinical.drift_dir)");
  app.add_option("--since", a->since,
                 "With --live: windows ending after this (a duration back from now such as "
                 "24h or 7d, or a UTC time 2026-12-01T00:00:00Z); default: all");
  app.add_option("--split", a->split, "Split of the current dataset")->capture_default_str();
  a->threshold_options = {
      {app.add_option("--psi", a->thresholds.psi, "Alert above this population stability index")
           ->capture_default_str(),
       "monitor.psi", &a->thresholds.psi},
      {app.add_option("--js", a->thresholds.js, "Alert above this Jensen-Shannon divergence (bits)")
           ->capture_default_str(),
       "monitor.js", &a->thresholds.js},
      {app.add_option("--min-count", a->thresholds.min_count,
                      "Values a feature (or signed reports, for the edit rate) needs before it "
                      "may alert")
           ->capture_default_str(),
       "monitor.min_count", &a->thresholds.min_count},
      {app.add_option("--max-edit-rate", a->max_edit_rate,
                      "With --live: alert when clinicians change more than this many words per "
                      "word drafted")
           ->capture_default_str(),
       "monitor.max_edit_rate", &a->max_edit_rate},
      {app.add_option("--max-hint-rate", a->max_hint_rate,
                      "With --live: alert when a rule's hints per draft exceed its hints per "
                      "reference report by more than this")
           ->capture_default_str(),
       "monitor.max_hint_rate", &a->max_hint_rate}};
  app.add_option("--rules", a->rules,
                 "With --live: the rule files the gateway checks drafts with (its "
                 "clinical.rules; default: the shipped rule sets), for the reference hint rates")
      ->check(CLI::ExistingFile);
  app.footer(
      "Thresholds not given here come from the configuration (--config FILE or --set KEY=V): "
      "monitor.psi, monitor.js, monitor.min_count, monitor.max_edit_rate, "
      "monitor.max_hint_rate.");
  app.add_option("--out", a->out, "Also write the report as JSON");
  app.add_option("--prometheus", a->prometheus,
                 "Also write Prometheus gauges (medscribe_drift_psi{feature=...}, "
                 "medscribe_drift_js, medscribe_drift_alert, medscribe_drift_edit_rate, "
                 "medscribe_drift_hint_rate{rule,side}) for the "
                 "textfile collector");
  app.add_option("--svg", a->svg, "Also draw the PSI per feature as an SVG picture");
  app.add_option("--on-alert", a->on_alert,
                 "Shell command run when something alerts (e.g. a retraining pipeline), with "
                 "MEDSCRIBE_DRIFT_ALERTS and MEDSCRIBE_DRIFT_REPORT (the --out file) set");
  return [a](GlobalOptions& g) { return Run(g, *a); };
}

}  // namespace medscribe::cli
