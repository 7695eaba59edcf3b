#include "clinical/draft_vars.h"

#include <cctype>
#include <map>
#include <set>

#include "eval/clinical.h"
#include "eval/discharge.h"
#include "eval/labeler.h"

namespace medscribe::clinical {
namespace {

constexpr const char* kHeadings[] = {"EXAMINATION", "INDICATION", "COMPARISON",
                                     "FINDINGS",    "IMPRESSION", "RECOMMENDATION"};

// Position of "HEADING:" at the start of a line (or of the text), or npos.
size_t HeadingAt(std::string_view text, std::string_view heading, size_t from) {
  const std::string marker = std::string(heading) + ":";
  for (size_t p = text.find(marker, from); p != std::string_view::npos;
       p = text.find(marker, p + 1)) {
    if (p == 0 || text[p - 1] == '\n' || text[p - 1] == ' ') return p;
  }
  return std::string_view::npos;
}

std::string Trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

std::string SnakeCase(std::string_view name) {
  std::string out;
  for (char c : name)
    out += c == ' ' || c == '-' || c == '/'
               ? '_'
               : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A heading line: upper-case letters, spaces, hyphens and slashes, then a colon and nothing
// else. The medication list's START/CHANGE/CONTINUE/STOP groups are not headings.
bool IsHeading(const std::string& line, std::string* name) {
  if (line.size() < 4 || line.back() != ':') return false;
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    const char c = line[i];
    if (!(std::isupper(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '/'))
      return false;
  }
  *name = line.substr(0, line.size() - 1);
  static const std::set<std::string> kGroups = {"START", "CHANGE",  "CONTINUE",  "STOP",
                                                "NEW",   "CHANGED", "CONTINUED", "STOPPED"};
  return !kGroups.count(*name);
}

// A discharge medication line's change: the group it is under, its [NEW]/[CHANGED]/[CONTINUED]/
// [STOPPED] marker, or its leading verb; and the reason written in parentheses or after the
// marker's colon.
Value MedicationLine(const std::string& line, const std::string& group) {
  std::string lower = line;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string change, reason;
  const size_t bracket = lower.find('[');
  if (bracket != std::string::npos) {
    change = eval::MedicationChangeOfWord(lower.substr(bracket + 1));
    const size_t colon = line.find(':', bracket), close = line.find(']', bracket);
    if (colon != std::string::npos && close != std::string::npos && colon < close)
      reason = Trim(line.substr(colon + 1, close - colon - 1));
  }
  if (change.empty()) change = eval::MedicationChangeOfWord(group);
  if (change.empty()) {
    std::string first = lower;
    while (!first.empty() && (first[0] == '-' || first[0] == ' ')) first.erase(first.begin());
    change = eval::MedicationChangeOfWord(first.substr(0, first.find(' ')));
  }
  if (reason.empty()) {
    const size_t open = line.find('('), close = line.rfind(')');
    if (open != std::string::npos && close != std::string::npos && close > open)
      reason = Trim(line.substr(open + 1, close - open - 1));
  }
  std::map<std::string, Value> m;
  m["line"] = Value::String(line);
  m["change"] = Value::String(change);
  m["reason"] = Value::String(reason);
  return Value::Object(std::move(m));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SummarySections(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = Trim(text.substr(start, end - start));
    start = end + 1;
    std::string name;
    if (IsHeading(line, &name)) {
      out.emplace_back(name, "");
    } else if (!out.empty() && !line.empty()) {
      out.back().second += line + "\n";
    }
  }
  return out;
}

std::string SectionText(std::string_view report, std::string_view heading) {
  const size_t at = HeadingAt(report, heading, 0);
  if (at == std::string_view::npos) return "";
  const size_t start = at + heading.size() + 1;
  size_t end = report.size();
  for (const char* h : kHeadings) {
    const size_t next = HeadingAt(report, h, start);
    if (next != std::string_view::npos && next < end) end = next;
  }
  return Trim(report.substr(start, end - start));
}

Value DraftValue(std::string_view report) {
  std::map<std::string, Value> d;
  std::map<std::string, Value> sections;
  std::vector<Value> medications;
  for (const auto& [heading, body] : SummarySections(report)) {
    sections[SnakeCase(heading)] = Value::String(Trim(body));
    if (heading != "DISCHARGE MEDICATIONS") continue;
    std::string group;
    size_t start = 0;
    while (start < body.size()) {
      size_t end = body.find('\n', start);
      if (end == std::string::npos) end = body.size();
      const std::string line = Trim(std::string_view(body).substr(start, end - start));
      start = end + 1;
      if (line.empty() || line == "None.") continue;
      if (line.back() == ':' && line.find(' ') == std::string::npos) {
        group = line.substr(0, line.size() - 1);
        for (char& c : group) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        continue;
      }
      medications.push_back(MedicationLine(line, group));
    }
  }
  d["sections"] = Value::Object(std::move(sections));
  d["medications"] = Value::List(std::move(medications));
  d["text"] = Value::String(std::string(report));
  d["findings"] = Value::String(SectionText(report, "FINDINGS"));
  d["impression"] = Value::String(SectionText(report, "IMPRESSION"));
  d["recommendation"] = Value::String(SectionText(report, "RECOMMENDATION"));
  d["comparison_section"] = Value::String(SectionText(report, "COMPARISON"));
  d["comparison"] = Value::String(eval::ComparisonOf(report));
  const eval::Labels labels = eval::LabelReport(report);
  std::map<std::string, Value> l, sides;
  for (int c = 0; c < eval::kNumClasses; ++c) {
    const char* m = "absent";
    switch (labels.mention[c]) {
      case eval::Mention::kPositive:
        m = "positive";
        break;
      case eval::Mention::kNegative:
        m = "negative";
        break;
      case eval::Mention::kUncertain:
        m = "uncertain";
        break;
      case eval::Mention::kAbsent:
        break;
    }
    l[SnakeCase(eval::kClassNames[c])] = Value::String(m);
    sides[SnakeCase(eval::kClassNames[c])] = Value::String(labels.side[c]);
  }
  d["labels"] = Value::Object(std::move(l));
  d["sides"] = Value::Object(std::move(sides));
  return Value::Object(std::move(d));
}

}  // namespace medscribe::clinical
