#include "eval/clinical.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "eval/text_metrics.h"

namespace medscribe::eval {
namespace {

bool Has(const std::vector<std::string>& w, std::initializer_list<const char*> any) {
  for (const std::string& x : w) {
    for (const char* a : any) {
      if (x == a) return true;
    }
  }
  return false;
}

bool HasPhrase(const std::vector<std::string>& w, const std::vector<std::string>& p) {
  for (size_t i = 0; i + p.size() <= w.size(); ++i) {
    if (std::equal(p.begin(), p.end(), w.begin() + i)) return true;
  }
  return false;
}

}  // namespace

std::string ComparisonOf(std::string_view report) {
  // The indication may say "decreased breath sounds": only what the reader states counts.
  const std::vector<std::string> w = Words(StatementText(report));
  if (HasPhrase(w, {"no", "prior"}) || HasPhrase(w, {"no", "previous"})) return "no_prior";
  if (!Has(w, {"prior", "previous"})) return "";
  // The first change word wins; reports state one change per study.
  for (const std::string& x : w) {
    if (x == "new") return "new";
    if (x == "increased" || x == "worsened" || x == "progressed" || x == "enlarging")
      return "increased";
    if (x == "decreased" || x == "improved" || x == "smaller" || x == "resolving")
      return "decreased";
    if (x == "unchanged" || x == "stable") return "unchanged";
  }
  if (HasPhrase(w, {"no", "interval", "change"})) return "unchanged";
  return "";
}

bool ImpressionAddressesLab(std::string_view report) {
  std::string text(report);
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t from = lower.find("impression");
  if (from == std::string::npos) return false;
  const size_t to = lower.find("recommendation", from);
  const std::vector<std::string> w =
      Words(text.substr(from, to == std::string::npos ? std::string::npos : to - from));
  return Has(w, {"wbc", "leukocytosis", "bnp", "spo2", "hypoxemia", "hypoxia", "crp",
                 "procalcitonin", "fever", "febrile", "temperature", "troponin", "dimer",
                 "creatinine", "hemoglobin", "anemia"});
}

std::optional<double> LesionSizeMm(std::string_view report) {
  for (const std::string& sentence : ObservationSentences(report)) {
    const Labels l = LabelReport(sentence);
    if (!l.positive(kLungLesion)) continue;
    for (size_t i = 0; i < sentence.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(sentence[i])) ||
          (i > 0 &&
           (std::isalnum(static_cast<unsigned char>(sentence[i - 1])) || sentence[i - 1] == '.')))
        continue;
      size_t k = i;
      double v = 0;
      while (k < sentence.size() && std::isdigit(static_cast<unsigned char>(sentence[k])))
        v = v * 10 + (sentence[k++] - '0');
      if (k + 1 < sentence.size() && sentence[k] == '.' &&
          std::isdigit(static_cast<unsigned char>(sentence[k + 1]))) {
        double scale = 0.1;
        for (++k; k < sentence.size() && std::isdigit(static_cast<unsigned char>(sentence[k]));
             ++k, scale /= 10)
          v += (sentence[k] - '0') * scale;
      }
      while (k < sentence.size() && (sentence[k] == ' ' || sentence[k] == '-')) ++k;
      const std::string unit = sentence.substr(k, 2);
      const bool end =
          k + 2 >= sentence.size() || !std::isalpha(static_cast<unsigned char>(sentence[k + 2]));
      if (end && unit == "mm") return v;
      if (end && unit == "cm") return v * 10;
    }
  }
  return std::nullopt;
}

namespace {
// The device phrases, and which of DevicesOf's devices each names.
const std::vector<std::vector<std::string>>& DevicePhrases() {
  static const std::vector<std::vector<std::string>> kDevices = {
      {"endotracheal", "tube"}, {"central"}, {"pacemaker"}, {"chest", "tube"}, {"thoracostomy"}};
  return kDevices;
}
constexpr int kDeviceOfPhrase[] = {0, 1, 2, 3, 3};
}  // namespace

int DevicesOf(std::string_view report) {
  const std::vector<bool> a = AssertedPhrases(report, DevicePhrases());
  int out = 0;
  for (size_t k = 0; k < a.size(); ++k) out |= a[k] ? 1 << kDeviceOfPhrase[k] : 0;
  return out;
}

std::array<std::string, 4> DeviceSides(std::string_view report) {
  const std::vector<std::string> sides = AssertedPhraseSides(report, DevicePhrases());
  std::array<std::string, 4> out;
  std::array<bool, 4> said{};
  for (size_t k = 0; k < sides.size(); ++k) {
    const auto d = static_cast<size_t>(kDeviceOfPhrase[k]);
    if (said[d] || sides[k] == "-") continue;
    said[d] = true;
    out[d] = sides[k];
  }
  return out;
}

std::vector<ReportChecks> CheckEach(const std::vector<std::string>& gen,
                                    const std::vector<std::string>& ref,
                                    const std::vector<Labels>* truth) {
  std::vector<ReportChecks> out(std::min(gen.size(), ref.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    ReportChecks& c = out[i];
    const Labels g = LabelReport(gen[i]), r = LabelReport(ref[i]);
    for (int k = 1; k < kNumClasses; ++k) {
      if (g.positive(k)) {
        ++c.asserted;
        const bool made_up = !r.positive(k) && !(truth && (*truth)[i].positive(k));
        c.made_up += made_up;
        c.made_up_by[k] += made_up;
      }
      if (!r.positive(k) || !g.positive(k)) continue;
      if (!r.side[k].empty()) {
        ++c.side_pairs;
        c.side_ok += g.side[k] == r.side[k];
        c.side_missed[k] += g.side[k] != r.side[k];
      }
      if (!r.severity[k].empty()) {
        ++c.severity_pairs;
        c.severity_ok += g.severity[k] == r.severity[k];
      }
    }
    if (const auto rs = LesionSizeMm(ref[i])) {
      ++c.size_reports;
      const auto gs = LesionSizeMm(gen[i]);
      c.size_ok += gs && std::abs(*gs - *rs) <= 2.0;
    }
    if (const int rd = DevicesOf(ref[i]), gd = DevicesOf(gen[i]); rd || gd) {
      ++c.device_reports;
      c.device_ok += rd == gd;
    }
    if (ImpressionAddressesLab(ref[i])) {
      ++c.lab_reports;
      c.lab_ok += ImpressionAddressesLab(gen[i]);
    }
    if (const std::string rc = ComparisonOf(ref[i]); !rc.empty()) {
      ++c.comparison_reports;
      c.comparison_ok += ComparisonOf(gen[i]) == rc;
    }
  }
  return out;
}

ClinicalChecks Aggregate(const std::vector<ReportChecks>& each, const std::vector<size_t>* idx) {
  ReportChecks t;
  auto add = [&](const ReportChecks& c) {
    t.side_ok += c.side_ok, t.side_pairs += c.side_pairs;
    t.severity_ok += c.severity_ok, t.severity_pairs += c.severity_pairs;
    t.size_ok += c.size_ok, t.size_reports += c.size_reports;
    t.device_ok += c.device_ok, t.device_reports += c.device_reports;
    t.lab_ok += c.lab_ok, t.lab_reports += c.lab_reports;
    t.comparison_ok += c.comparison_ok, t.comparison_reports += c.comparison_reports;
    t.made_up += c.made_up, t.asserted += c.asserted;
    for (int k = 0; k < kNumClasses; ++k) {
      t.side_missed[k] += c.side_missed[k];
      t.made_up_by[k] += c.made_up_by[k];
    }
  };
  if (idx) {
    for (size_t i : *idx) add(each[i]);
  } else {
    for (const ReportChecks& c : each) add(c);
  }
  auto rate = [](int a, int b) { return b ? static_cast<double>(a) / b : 0.0; };
  ClinicalChecks c;
  c.laterality_accuracy = rate(t.side_ok, t.side_pairs);
  c.laterality_pairs = static_cast<size_t>(t.side_pairs);
  c.severity_accuracy = rate(t.severity_ok, t.severity_pairs);
  c.severity_pairs = static_cast<size_t>(t.severity_pairs);
  c.size_accuracy = rate(t.size_ok, t.size_reports);
  c.size_reports = static_cast<size_t>(t.size_reports);
  c.device_accuracy = rate(t.device_ok, t.device_reports);
  c.device_reports = static_cast<size_t>(t.device_reports);
  c.lab_integration = rate(t.lab_ok, t.lab_reports);
  c.lab_reports = static_cast<size_t>(t.lab_reports);
  c.comparison_accuracy = rate(t.comparison_ok, t.comparison_reports);
  c.comparison_reports = static_cast<size_t>(t.comparison_reports);
  c.hallucination_rate = rate(t.made_up, t.asserted);
  c.asserted = static_cast<size_t>(t.asserted);
  c.side_missed = t.side_missed;
  c.made_up_by = t.made_up_by;
  return c;
}

ClinicalChecks CheckReports(const std::vector<std::string>& gen,
                            const std::vector<std::string>& ref, const std::vector<Labels>* truth) {
  return Aggregate(CheckEach(gen, ref, truth));
}

}  // namespace medscribe::eval
