#include "eval/discharge_baselines.h"

#include <algorithm>
#include <set>
#include <string_view>

namespace medscribe::eval {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

double Jaccard(const std::set<std::string>& a, const std::set<std::string>& b) {
  size_t both = 0;
  for (const std::string& x : a) both += b.count(x);
  const size_t either = a.size() + b.size() - both;
  return either ? static_cast<double>(both) / static_cast<double>(either) : 0.0;
}

std::set<std::string> Codes(const BaselineStay& r) {
  std::set<std::string> out;
  for (const std::string& c : r.condition_codes) out.insert("c:" + c);
  for (const std::string& m : r.medication_codes) out.insert("m:" + m);
  return out;
}

}  // namespace

std::string ExtractiveSummary(const BaselineStay& stay) {
  // The assessment and plan: the lines after "A/P:" (English) or "評估與計畫：" (Chinese) up to
  // the note's closing lines.
  std::string course;
  bool in_plan = false;
  size_t start = 0;
  const std::string& note = stay.last_progress_note;
  while (start < note.size()) {
    size_t end = note.find('\n', start);
    if (end == std::string::npos) end = note.size();
    const std::string_view line(note.data() + start, end - start);
    start = end + 1;
    if (StartsWith(line, "A/P:") || StartsWith(line, "評估與計畫")) {
      in_plan = true;
      continue;
    }
    if (!in_plan) continue;
    if (StartsWith(line, "Dispo") || StartsWith(line, "Updated") || StartsWith(line, "已向") ||
        StartsWith(line, "主治") || StartsWith(line, "Dr. "))
      break;
    course += std::string(line) + "\n";
  }
  std::string out = "DISCHARGE SUMMARY\n\nHOSPITAL COURSE:\n";
  out += course.empty() ? "None.\n" : course;
  out += "\nDISCHARGE MEDICATIONS:\n";
  if (stay.home_medications.empty()) out += "None.\n";
  for (const std::string& m : stay.home_medications) out += "- " + m + " [CONTINUED]\n";
  return out;
}

std::string RetrievalSummary(const BaselineStay& query, const std::vector<BaselineStay>& pool) {
  const std::set<std::string> q = Codes(query);
  const BaselineStay* best = nullptr;
  double best_score = -1;
  for (const BaselineStay& r : pool) {
    if (r.patient_id == query.patient_id) continue;
    const double s = Jaccard(q, Codes(r));
    if (s > best_score) best_score = s, best = &r;
  }
  return best ? best->summary : "";
}

}  // namespace medscribe::eval
