#include "clinical/draft_vars.h"

#include <cctype>

#include "eval/clinical.h"
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
    out += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

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
