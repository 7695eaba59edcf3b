// Drift between a reference profile (the training data) and a current one (a later dataset, or
// live requests): per-feature histograms compared with the population stability index (PSI)
// and the Jensen-Shannon divergence.
//
// A profile holds, for each feature, counts per bin. Categorical features (department, device
// model, sex) count their values; numeric ones (a lab by its LOINC code, image intensity, report
// length) are binned at the reference's quantiles (up to 10 bins, at least 50 reference values
// each), which the profile keeps, so that a current profile built against the reference's edges
// counts the same bins.
//
// PSI = sum over bins of (c - r) ln(c / r) with r, c the bins' shares (each at least 1e-4, so an
// empty bin counts as rare, not impossible): below 0.1 is usually read as stable, above 0.25 as a
// major shift. JS divergence in bits, in [0, 1].
//
// Thread safety: values; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::monitor {

struct FeatureHistogram {
  bool numeric = false;
  std::vector<double> edges;             // numeric: the upper edges of all bins but the last
  std::map<std::string, double> counts;  // bin label ("<=4.2", ">9.1", or the category) -> count
  double total() const;
};

struct Profile {
  std::map<std::string, FeatureHistogram> features;
};

// Collects values and turns them into a profile.
class ProfileBuilder {
 public:
  // With a reference, numeric features are binned at the reference's edges; a feature the
  // reference lacks gets its own quantile edges, or with `reference_edges_only` one bin ("all"),
  // so that profiles built apart (the windows of live traffic) can be added together.
  explicit ProfileBuilder(const Profile* reference = nullptr, bool reference_edges_only = false)
      : reference_(reference), reference_edges_only_(reference_edges_only) {}
  void AddCategory(const std::string& feature, const std::string& value);
  void AddNumber(const std::string& feature, double value);  // non-finite values are skipped
  Profile Build() const;
  bool empty() const { return categories_.empty() && numbers_.empty(); }

  // What was added so far (category counts and the numbers themselves), as JSON, and the same
  // added back: how the workers of a distributed ingest hand their values to the merge.
  // MergeState: InvalidArgument when `state` is not such JSON.
  std::string StateJson() const;
  Status MergeState(std::string_view state);

 private:
  const Profile* reference_;
  bool reference_edges_only_;
  std::map<std::string, std::map<std::string, double>> categories_;
  std::map<std::string, std::vector<double>> numbers_;
};

// Adds the counts of `from` to `into`. FailedPrecondition naming the feature when a numeric
// feature's edges differ (profiles binned against different references).
Status Accumulate(Profile& into, const Profile& from);

double Psi(const FeatureHistogram& reference, const FeatureHistogram& current);
double JensenShannon(const FeatureHistogram& reference, const FeatureHistogram& current);

struct Thresholds {
  double psi = 0.25;
  double js = 0.1;
  double min_count = 30;  // a feature with fewer current values is reported, never alerted on
};

struct FeatureDrift {
  std::string feature;
  double psi = 0, js = 0;
  double reference_count = 0, current_count = 0;
  bool alert = false;  // psi or js above its threshold, with enough values
};

// One row per feature of either profile, the largest PSI first.
std::vector<FeatureDrift> Compare(const Profile& reference, const Profile& current,
                                  const Thresholds& t);

std::string ToJson(const Profile& p);
// InvalidArgument naming what is malformed.
StatusOr<Profile> ProfileFromJson(const std::string& text);

// A label value for the Prometheus text format: quotes and backslashes escaped, newlines as
// spaces.
std::string PrometheusLabel(const std::string& value);

// Prometheus text exposition: medscribe_drift_psi{feature="..."} and medscribe_drift_js, and
// medscribe_drift_alert (1 or 0) per feature.
std::string PrometheusText(const std::vector<FeatureDrift>& rows);

// A picture of the comparison (SVG): one horizontal bar per feature (at most `max_rows`, the
// largest PSI first) with its PSI on a log scale, alerting features in red, the PSI threshold
// as a dashed line, and `title` above (escaped).
std::string DriftSvg(const std::vector<FeatureDrift>& rows, const Thresholds& t,
                     const std::string& title, size_t max_rows = 40);

}  // namespace medscribe::monitor
