#include "monitor/drift.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

namespace medscribe::monitor {
namespace {

using Json = nlohmann::json;
constexpr double kFloor = 1e-4;
// Counts beyond this are refused when read (no sum of them can overflow to infinity).
constexpr double kMaxCount = 1e15;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// The bin label of `v` given the upper edges.
std::string BinOf(const std::vector<double>& edges, double v) {
  for (double e : edges)
    if (v <= e) return "<=" + Num(e);
  return edges.empty() ? "all" : ">" + Num(edges.back());
}

// Quantile edges of `values` (distinct, ascending): up to 10 bins, with at least 50 values per
// bin, so that two samples of one distribution rarely differ by chance (the expected PSI
// between them is about (bins - 1) (1/n1 + 1/n2)).
std::vector<double> QuantileEdges(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t bins = std::clamp<size_t>(values.size() / 50, 2, 10);
  std::vector<double> edges;
  for (size_t k = 1; k < bins && !values.empty(); ++k) {
    const double q = values[std::min(values.size() - 1, values.size() * k / bins)];
    if (edges.empty() || q > edges.back()) edges.push_back(q);
  }
  if (!edges.empty() && edges.back() >= values.back()) edges.pop_back();
  return edges;
}

// The shares of both histograms over the union of their bins, floored.
void Shares(const FeatureHistogram& a, const FeatureHistogram& b, std::vector<double>& pa,
            std::vector<double>& pb) {
  std::set<std::string> bins;
  for (const auto& [k, v] : a.counts) bins.insert(k);
  for (const auto& [k, v] : b.counts) bins.insert(k);
  const double ta = std::max(a.total(), 1e-12), tb = std::max(b.total(), 1e-12);
  for (const std::string& k : bins) {
    const auto ia = a.counts.find(k), ib = b.counts.find(k);
    pa.push_back(std::max(kFloor, ia == a.counts.end() ? 0.0 : ia->second / ta));
    pb.push_back(std::max(kFloor, ib == b.counts.end() ? 0.0 : ib->second / tb));
  }
}

}  // namespace

double FeatureHistogram::total() const {
  double t = 0;
  for (const auto& [k, v] : counts) t += v;
  return t;
}

void ProfileBuilder::AddCategory(const std::string& feature, const std::string& value) {
  categories_[feature][value] += 1;
}

void ProfileBuilder::AddNumber(const std::string& feature, double value) {
  if (std::isfinite(value)) numbers_[feature].push_back(value);
}

Profile ProfileBuilder::Build() const {
  Profile p;
  for (const auto& [f, counts] : categories_) p.features[f].counts = counts;
  for (const auto& [f, values] : numbers_) {
    FeatureHistogram& h = p.features[f];
    h.numeric = true;
    const FeatureHistogram* ref = nullptr;
    if (reference_) {
      const auto it = reference_->features.find(f);
      if (it != reference_->features.end() && it->second.numeric) ref = &it->second;
    }
    h.edges = ref                                   ? ref->edges
              : reference_ && reference_edges_only_ ? std::vector<double>{}
                                                    : QuantileEdges(values);
    for (double v : values) h.counts[BinOf(h.edges, v)] += 1;
  }
  return p;
}

std::string ProfileBuilder::StateJson() const {
  Json j = {{"categories", categories_}, {"numbers", numbers_}};
  return j.dump();
}

Status ProfileBuilder::MergeState(std::string_view state) {
  const Json j = Json::parse(state, nullptr, false);
  if (!j.is_object()) return InvalidArgumentError("a profile state is not a JSON object");
  try {
    const Json categories = j.value("categories", Json::object());
    const Json numbers = j.value("numbers", Json::object());
    for (const auto& [f, counts] : categories.items())
      for (const auto& [v, n] : counts.items()) {
        const double count = n.get<double>();
        if (!(count >= 0 && count <= kMaxCount))
          return InvalidArgumentError("a profile state holds a count outside [0, 1e15]");
        categories_[f][v] += count;
      }
    for (const auto& [f, values] : numbers.items())
      for (const Json& v : values) AddNumber(f, v.get<double>());
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("a profile state is malformed: ") + e.what());
  }
  return OkStatus();
}

Status Accumulate(Profile& into, const Profile& from) {
  for (const auto& [f, h] : from.features) {
    auto [it, fresh] = into.features.try_emplace(f, h);
    if (fresh) continue;
    FeatureHistogram& to = it->second;
    if (to.numeric != h.numeric || to.edges != h.edges)
      return FailedPreconditionError("feature '" + f +
                                     "' is binned differently in the profiles added together "
                                     "(built against different references)");
    for (const auto& [bin, n] : h.counts) to.counts[bin] += n;
  }
  return OkStatus();
}

double Psi(const FeatureHistogram& reference, const FeatureHistogram& current) {
  std::vector<double> r, c;
  Shares(reference, current, r, c);
  double psi = 0;
  for (size_t i = 0; i < r.size(); ++i) psi += (c[i] - r[i]) * std::log(c[i] / r[i]);
  return psi;
}

double JensenShannon(const FeatureHistogram& reference, const FeatureHistogram& current) {
  std::vector<double> r, c;
  Shares(reference, current, r, c);
  double sr = 0, sc = 0;
  for (size_t i = 0; i < r.size(); ++i) sr += r[i], sc += c[i];
  double js = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const double p = r[i] / sr, q = c[i] / sc, m = (p + q) / 2;
    js += 0.5 * p * std::log2(p / m) + 0.5 * q * std::log2(q / m);
  }
  return std::max(0.0, js);
}

std::vector<FeatureDrift> Compare(const Profile& reference, const Profile& current,
                                  const Thresholds& t) {
  std::set<std::string> names;
  for (const auto& [f, h] : reference.features) names.insert(f);
  for (const auto& [f, h] : current.features) names.insert(f);
  std::vector<FeatureDrift> rows;
  const FeatureHistogram empty;
  for (const std::string& f : names) {
    const auto r = reference.features.find(f), c = current.features.find(f);
    const FeatureHistogram& rh = r == reference.features.end() ? empty : r->second;
    const FeatureHistogram& ch = c == current.features.end() ? empty : c->second;
    FeatureDrift d;
    d.feature = f;
    d.reference_count = rh.total();
    d.current_count = ch.total();
    if (d.reference_count > 0 && d.current_count > 0) {
      d.psi = Psi(rh, ch);
      d.js = JensenShannon(rh, ch);
    }
    d.alert = d.current_count >= t.min_count && d.reference_count >= t.min_count &&
              (d.psi > t.psi || d.js > t.js);
    rows.push_back(d);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const FeatureDrift& a, const FeatureDrift& b) { return a.psi > b.psi; });
  return rows;
}

std::string ToJson(const Profile& p) {
  Json features = Json::object();
  for (const auto& [f, h] : p.features)
    features[f] = {{"numeric", h.numeric}, {"edges", h.edges}, {"counts", h.counts}};
  return Json{{"format", "medscribe-profile"}, {"version", 1}, {"features", features}}.dump(1);
}

StatusOr<Profile> ProfileFromJson(const std::string& text) {
  const Json j = Json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("format") || j["format"] != "medscribe-profile" ||
      !j.contains("features") || !j["features"].is_object())
    return InvalidArgumentError("not a MedScribe profile (format \"medscribe-profile\")");
  Profile p;
  for (const auto& [f, v] : j["features"].items()) {
    FeatureHistogram& h = p.features[f];
    if (!v.is_object() || !v.contains("counts") || !v["counts"].is_object())
      return InvalidArgumentError("profile feature '" + f + "' has no counts");
    h.numeric = v.contains("numeric") && v["numeric"].is_boolean() && v["numeric"].get<bool>();
    if (v.contains("edges") && v["edges"].is_array())
      for (const Json& e : v["edges"])
        if (e.is_number()) h.edges.push_back(e.get<double>());
    for (const auto& [bin, count] : v["counts"].items()) {
      if (!count.is_number() || !(count.get<double>() >= 0 && count.get<double>() <= kMaxCount))
        return InvalidArgumentError("profile feature '" + f +
                                    "': a count is not a number in [0, 1e15]");
      h.counts[bin] = count.get<double>();
    }
  }
  return p;
}

std::string PrometheusLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string PrometheusText(const std::vector<FeatureDrift>& rows) {
  const auto label = [](const std::string& f) { return PrometheusLabel(f); };
  std::string s =
      "# HELP medscribe_drift_psi Population stability index of a feature against the "
      "training data.\n# TYPE medscribe_drift_psi gauge\n";
  for (const FeatureDrift& d : rows)
    s += "medscribe_drift_psi{feature=\"" + label(d.feature) + "\"} " + Num(d.psi) + "\n";
  s += "# HELP medscribe_drift_js Jensen-Shannon divergence (bits) of a feature against the "
       "training data.\n# TYPE medscribe_drift_js gauge\n";
  for (const FeatureDrift& d : rows)
    s += "medscribe_drift_js{feature=\"" + label(d.feature) + "\"} " + Num(d.js) + "\n";
  s += "# HELP medscribe_drift_alert 1 when a feature's drift crosses its threshold.\n"
       "# TYPE medscribe_drift_alert gauge\n";
  for (const FeatureDrift& d : rows)
    s += "medscribe_drift_alert{feature=\"" + label(d.feature) + "\"} " +
         std::string(d.alert ? "1" : "0") + "\n";
  return s;
}

std::string DriftSvg(const std::vector<FeatureDrift>& rows, const Thresholds& t,
                     const std::string& title, size_t max_rows) {
  const auto escape = [](const std::string& in) {
    std::string out;
    for (char c : in) {
      if (c == '<')
        out += "&lt;";
      else if (c == '>')
        out += "&gt;";
      else if (c == '&')
        out += "&amp;";
      else if (c == '"')
        out += "&quot;";
      else if (static_cast<unsigned char>(c) >= 0x20)
        out += c;
    }
    return out;
  };
  const size_t n = std::min(rows.size(), max_rows);
  // PSI from 0.001 to 100 over the bar area, log scale.
  const double left = 230, width = 460, top = 50, row_h = 18;
  const auto x_of = [&](double psi) {
    const double l = std::log10(std::clamp(psi, 1e-3, 1e2));
    return left + (l + 3) / 5 * width;
  };
  const double height = top + row_h * static_cast<double>(n) + 40;
  std::string s;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                left + width + 90, height);
  s += buf;
  s += "<text x=\"10\" y=\"20\" font-size=\"14\">" + escape(title) + "</text>\n";
  for (double tick : {1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0}) {
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/>"
                  "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#666\">%g</text>\n",
                  x_of(tick), top - 8, x_of(tick), height - 30, x_of(tick), height - 14, tick);
    s += buf;
  }
  for (size_t i = 0; i < n; ++i) {
    const FeatureDrift& d = rows[i];
    const double y = top + row_h * static_cast<double>(i);
    std::snprintf(buf, sizeof buf, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", left - 6,
                  y + 12);
    s += buf + escape(d.feature) + "</text>";
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\">%.3g</text>\n",
                  left, y + 2, std::max(1.0, x_of(d.psi) - left), row_h - 4,
                  d.alert ? "#c0392b" : "#5b8db8", x_of(d.psi) + 4, y + 12, d.psi);
    s += buf;
  }
  std::snprintf(buf, sizeof buf,
                "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#c0392b\" "
                "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%.0f\" fill=\"#c0392b\">PSI "
                "%g</text>\n</svg>\n",
                x_of(t.psi), top - 8, x_of(t.psi), height - 30, x_of(t.psi) + 4, top - 12, t.psi);
  s += buf;
  return s;
}

}  // namespace medscribe::monitor
