#include "eval/clinical.h"

#include <algorithm>

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
  const std::vector<std::string> w = Words(std::string(report));
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

ClinicalChecks CheckReports(const std::vector<std::string>& gen,
                            const std::vector<std::string>& ref) {
  ClinicalChecks c;
  size_t side_ok = 0, lab_ok = 0, cmp_ok = 0;
  for (size_t i = 0; i < std::min(gen.size(), ref.size()); ++i) {
    const Labels g = LabelReport(gen[i]), r = LabelReport(ref[i]);
    for (int k = 1; k < kNumClasses; ++k) {
      if (!r.positive(k) || !g.positive(k) || r.side[k].empty()) continue;
      ++c.laterality_pairs;
      side_ok += g.side[k] == r.side[k];
    }
    if (ImpressionAddressesLab(ref[i])) {
      ++c.lab_reports;
      lab_ok += ImpressionAddressesLab(gen[i]);
    }
    if (const std::string rc = ComparisonOf(ref[i]); !rc.empty()) {
      ++c.comparison_reports;
      cmp_ok += ComparisonOf(gen[i]) == rc;
    }
  }
  auto rate = [](size_t a, size_t b) { return b ? static_cast<double>(a) / b : 0.0; };
  c.laterality_accuracy = rate(side_ok, c.laterality_pairs);
  c.lab_integration = rate(lab_ok, c.lab_reports);
  c.comparison_accuracy = rate(cmp_ok, c.comparison_reports);
  return c;
}

}  // namespace medscribe::eval
