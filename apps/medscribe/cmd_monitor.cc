// `medscribe monitor`: drift of a dataset against a model's training data (monitor/drift.h).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli.h"
#include "common/files.h"
#include "model/json.h"
#include "monitor/dataset_profile.h"
#include "report_engine.h"

namespace medscribe::cli {
namespace {
namespace fs = std::filesystem;

struct MonitorArgs {
  std::string model, reference, current, out, prometheus;
  std::string reference_split = "train", split = "test";
  monitor::Thresholds thresholds;
};

// The training dataset a registered model's lineage names (run.json "dataset").
StatusOr<std::string> TrainingDataset(GlobalOptions& g, const std::string& ref) {
  ASSIGN_OR_RETURN(const std::string dir, ResolveModelDir(g, ref));
  ASSIGN_OR_RETURN(const std::string text, ReadFile(fs::path(dir) / "run.json"));
  ASSIGN_OR_RETURN(const model::json::Value run, model::json::Parse(text));
  const model::json::Value* d = run.Find("dataset");
  if (!d || !d->is_string() || d->as_string().empty())
    return NotFoundError("the lineage of " + ref +
                         " names no training dataset; pass --reference DATASET");
  if (!fs::exists(fs::path(d->as_string()) / "manifest.json"))
    return NotFoundError("the training dataset of " + ref + " (" + d->as_string() +
                         ") is not on this machine; pass --reference DATASET");
  return d->as_string();
}

int Run(GlobalOptions& g, const MonitorArgs& a) {
  std::string reference = a.reference;
  if (!a.model.empty()) {
    auto d = TrainingDataset(g, a.model);
    if (!d.ok()) return ReportError(d.status());
    reference = *d;
  }
  if (reference.empty())
    return ReportError(InvalidArgumentError("give --model MODEL or --reference DATASET"));
  auto ref = monitor::ProfileDataset(reference, a.reference_split);
  if (!ref.ok()) return ReportError(ref.status());
  auto cur = monitor::ProfileDataset(a.current, a.split, &*ref);
  if (!cur.ok()) return ReportError(cur.status());
  const std::vector<monitor::FeatureDrift> rows = monitor::Compare(*ref, *cur, a.thresholds);
  std::printf("%-28s %9s %9s %9s %9s  %s\n", "feature", "PSI", "JS", "reference", "current", "");
  int alerts = 0;
  for (const monitor::FeatureDrift& d : rows) {
    std::printf("%-28s %9.4f %9.4f %9.0f %9.0f  %s\n", d.feature.c_str(), d.psi, d.js,
                d.reference_count, d.current_count, d.alert ? "ALERT" : "");
    alerts += d.alert;
  }
  std::printf(
      "%d of %zu features drifted (PSI > %g or JS > %g, at least %g values); reference "
      "%s (%s), current %s (%s)\n",
      alerts, rows.size(), a.thresholds.psi, a.thresholds.js, a.thresholds.min_count,
      reference.c_str(), a.reference_split.c_str(), a.current.c_str(), a.split.c_str());
  if (!a.prometheus.empty()) {
    if (Status s = WriteFile(a.prometheus, monitor::PrometheusText(rows)); !s.ok())
      return ReportError(s);
  }
  if (!a.out.empty()) {
    model::json::Array features;
    for (const monitor::FeatureDrift& d : rows)
      features.push_back(model::json::Value(
          model::json::Object{{"feature", model::json::Value(d.feature)},
                              {"psi", model::json::Value(d.psi)},
                              {"js", model::json::Value(d.js)},
                              {"reference_count", model::json::Value(d.reference_count)},
                              {"current_count", model::json::Value(d.current_count)},
                              {"alert", model::json::Value(d.alert)}}));
    const model::json::Value report(model::json::Object{
        {"reference", model::json::Value(reference)},
        {"current", model::json::Value(a.current)},
        {"thresholds", model::json::Value(model::json::Object{
                           {"psi", model::json::Value(a.thresholds.psi)},
                           {"js", model::json::Value(a.thresholds.js)},
                           {"min_count", model::json::Value(a.thresholds.min_count)}})},
        {"alerts", model::json::Value(alerts)},
        {"features", model::json::Value(std::move(features))}});
    if (Status s = WriteFile(a.out, model::json::Dump(report, 2) + "\n"); !s.ok())
      return ReportError(s);
  }
  // 4: drift above a threshold (for schedulers that start retraining on it).
  return alerts > 0 ? 4 : kExitOk;
}

}  // namespace

Runner RegisterMonitor(CLI::App& app) {
  auto a = std::make_shared<MonitorArgs>();
  app.add_option("--model", a->model,
                 "Registry MODEL whose training dataset (from its lineage) is the reference");
  app.add_option("--reference", a->reference, "Reference dataset (instead of --model)");
  app.add_option("--reference-split", a->reference_split, "Split of the reference")
      ->capture_default_str();
  app.add_option("--current", a->current,
                 "Dataset to check (e.g. a new ingest or a feedback "
                 "export)")
      ->required();
  app.add_option("--split", a->split, "Split of the current dataset")->capture_default_str();
  app.add_option("--psi", a->thresholds.psi, "Alert above this population stability index")
      ->capture_default_str();
  app.add_option("--js", a->thresholds.js, "Alert above this Jensen-Shannon divergence (bits)")
      ->capture_default_str();
  app.add_option("--min-count", a->thresholds.min_count,
                 "Values a feature needs on both sides before it may alert")
      ->capture_default_str();
  app.add_option("--out", a->out, "Also write the report as JSON");
  app.add_option("--prometheus", a->prometheus,
                 "Also write Prometheus gauges (medscribe_drift_psi{feature=...}, "
                 "medscribe_drift_js, medscribe_drift_alert) for the textfile collector");
  return [a](GlobalOptions& g) { return Run(g, *a); };
}

}  // namespace medscribe::cli
