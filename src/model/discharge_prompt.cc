#include "model/discharge_prompt.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/lab_names.h"
#include "model/prompt_text.h"

namespace medscribe::model {
namespace {

using prompt_text::ClinicalPartOfNote;
using prompt_text::Number;
using prompt_text::Path;
using prompt_text::Str;

// Short names of the analytes: the radiology prompt's (lab_names.h), and those of a ward's
// daily panel and vital signs.
std::string_view AnalyteName(std::string_view loinc) {
  struct Entry {
    std::string_view code, name;
  };
  static constexpr Entry kNames[] = {
      {"777-3", "platelets"},    {"2951-2", "sodium"},     {"2823-3", "potassium"},
      {"1963-8", "bicarbonate"}, {"2345-7", "glucose"},    {"2524-7", "lactate"},
      {"4548-4", "HbA1c"},       {"8867-4", "heart rate"}, {"9279-1", "respiratory rate"},
      {"8480-6", "systolic BP"}};
  for (const Entry& e : kNames)
    if (e.code == loinc) return e.name;
  return LabShortName(loinc);
}

const json::Array& ArrayAt(const json::Value* v) {
  static const json::Array kEmpty;
  return v && v->is_array() ? v->as_array() : kEmpty;
}

std::string DayOf(const json::Value& item) {
  const json::Value* d = item.Find("day");
  return d && d->is_number() ? "day " + Number(d) : "";
}

// A display up to its first comma ("Pneumonia, unspecified organism" -> "Pneumonia").
std::string Display(const json::Value& item) {
  std::string d = Str(item.Find("display"));
  if (const size_t comma = d.find(','); comma != std::string::npos) d.resize(comma);
  return d.empty() ? Str(item.Find("code")) : d;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(sep) : "") + parts[i];
  return out;
}

std::string ProblemsLine(const json::Value& s) {
  std::vector<std::string> out;
  for (const json::Value& p : ArrayAt(s.Find("problems"))) {
    std::string line = "[" + Str(p.Find("id")) + "] " + Str(p.Find("code")) + " " + Display(p);
    const std::string day = DayOf(p);
    if (Str(p.Find("category")) == "problem-list-item")
      line += " (history)";
    else if (!day.empty())
      line += " (" + day + ")";
    out.push_back(line);
  }
  return Join(out, "; ");
}

std::string AllergiesLine(const json::Value& s) {
  std::vector<std::string> out;
  for (const json::Value& a : ArrayAt(s.Find("allergies"))) {
    std::string line = "[" + Str(a.Find("id")) + "] " + Str(a.Find("display"));
    std::vector<std::string> reactions;
    for (const json::Value& r : ArrayAt(a.Find("reactions")))
      if (r.is_string()) reactions.push_back(r.as_string());
    if (!reactions.empty()) line += ": " + Join(reactions, ", ");
    out.push_back(line);
  }
  return Join(out, "; ");
}

// Home medications (category community) or hospital orders.
std::string MedicationsLine(const json::Value& s, bool home) {
  std::vector<std::string> out;
  for (const json::Value& m : ArrayAt(s.Find("medications"))) {
    if ((Str(m.Find("category")) == "community") != home) continue;
    std::string line = "[" + Str(m.Find("id")) + "] " + Str(m.Find("display"));
    if (const std::string dosage = Str(m.Find("dosage")); !dosage.empty()) line += " " + dosage;
    const std::string status = Str(m.Find("status"));
    if (home) {
      line += ": " + status;
      if (const std::string why = Str(m.Find("status_reason")); !why.empty())
        line += " (" + why + ")";
    } else {
      const json::Array& days = ArrayAt(m.Find("days_given"));
      if (!days.empty()) {
        const std::string first = Number(&days.front()), last = Number(&days.back());
        line += first == last ? ", day " + first : ", days " + first + "-" + last;
      }
      line += ", " + status;
      std::vector<std::string> for_problems;
      for (const json::Value& p : ArrayAt(m.Find("for")))
        if (p.is_string()) for_problems.push_back(p.as_string());
      if (!for_problems.empty()) line += ", for " + Join(for_problems, ", ");
    }
    out.push_back(line);
  }
  return Join(out, "; ");
}

// How far a value lies outside its range, in range widths (0 inside).
double Outside(double v, const json::Value& series) {
  const json::Value* lo = series.Find("low");
  const json::Value* hi = series.Find("high");
  const double low = lo && lo->is_number() ? lo->as_double() : -1e300;
  const double high = hi && hi->is_number() ? hi->as_double() : 1e300;
  const double width = low > -1e299 && high < 1e299 ? std::max(high - low, 1e-9) : 1.0;
  return v > high ? (v - high) / width : v < low ? (low - v) / width : 0.0;
}

// Analytes that were ever abnormal: first, most abnormal and last value (`detail` 2), or first
// and last (1).
std::string SeriesLine(const json::Value& s, const char* key, int detail) {
  std::vector<std::string> out;
  for (const json::Value& series : ArrayAt(s.Find(key))) {
    const json::Array& values = ArrayAt(series.Find("values"));
    if (values.empty()) continue;
    bool abnormal = false;
    size_t worst = 0;
    double worst_by = -1;
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string flag = Str(values[i].Find("flag"));
      abnormal = abnormal || (!flag.empty() && flag != "N");
      const json::Value* v = values[i].Find("value");
      const double by = v && v->is_number() ? Outside(v->as_double(), series) : -1;
      if (by > worst_by) worst_by = by, worst = i;
    }
    if (!abnormal) continue;
    std::vector<size_t> shown = {0};
    if (detail >= 2 && worst != 0 && worst + 1 != values.size()) shown.push_back(worst);
    if (values.size() > 1) shown.push_back(values.size() - 1);
    const std::string code = Str(series.Find("code"));
    const std::string_view short_name = AnalyteName(code);
    std::string line = short_name.empty() ? Display(series) : std::string(short_name);
    if (const std::string unit = Str(series.Find("unit")); !unit.empty()) line += " " + unit;
    line += ":";
    for (size_t k = 0; k < shown.size(); ++k) {
      const json::Value& v = values[shown[k]];
      line += (k ? ", " : " ") + DayOf(v) + " " + Number(v.Find("value"));
      const std::string flag = Str(v.Find("flag"));
      if (!flag.empty() && flag != "N") line += " " + flag;
      line += " [" + Str(v.Find("id")) + "]";
    }
    out.push_back(line);
  }
  return Join(out, "; ");
}

std::string ProceduresLine(const json::Value& s) {
  std::vector<std::string> out;
  for (const json::Value& p : ArrayAt(s.Find("procedures"))) {
    std::string line = "[" + Str(p.Find("id")) + "] " + DayOf(p) + " " + Display(p);
    if (const std::string o = Str(p.Find("outcome")); !o.empty()) line += ": " + o;
    out.push_back(line);
  }
  return Join(out, "; ");
}

std::string PendingLine(const json::Value& s) {
  std::vector<std::string> out;
  for (const json::Value& p : ArrayAt(s.Find("pending"))) {
    std::string line =
        "[" + Str(p.Find("id")) + "] " + DayOf(p) + " " + Display(p) + ": " + Str(p.Find("status"));
    if (const std::string r = Str(p.Find("result")); !r.empty()) line += ", " + r;
    out.push_back(line);
  }
  return Join(out, "; ");
}

std::string ImagingLine(const json::Value& s) {
  std::vector<std::string> out;
  for (const json::Value& r : ArrayAt(s.Find("imaging"))) {
    std::string title;
    const std::string text = Str(r.Find("text"));
    if (text.rfind("EXAM: ", 0) == 0) title = text.substr(6, text.find('\n') - 6);
    std::string line = "[" + Str(r.Find("id")) + "] " + DayOf(r);
    if (!title.empty()) line += " " + title;
    line += ": " + Str(r.Find("conclusion"));
    out.push_back(line);
  }
  return Join(out, "; ");
}

// The part of a note a summary draws on: the assessment and plan (a consult's
// recommendations), without the segments that held an identifier.
std::string PlanOf(const std::string& text) {
  std::string plan;
  bool found = false;
  for (const char* heading : {"ASSESSMENT AND PLAN:", "A/P:", "評估與計畫：", "Recommendations:"}) {
    const size_t at = text.find(heading);
    if (at == std::string::npos) continue;
    plan = ClinicalPartOfNote(text.substr(at + std::string(heading).size()));
    found = true;
    break;
  }
  if (!found) plan = prompt_text::CutUtf8(ClinicalPartOfNote(text), 300);
  // A signature's title whose name was an identifier ("Dr. [NAME]" leaves "Dr.").
  for (const char* title : {" Dr.", " Mr.", " Mrs.", " Ms."}) {
    const std::string t(title);
    if (plan.size() >= t.size() && plan.compare(plan.size() - t.size(), t.size(), t) == 0)
      plan.resize(plan.size() - t.size());
  }
  return plan;
}

struct NoteItem {
  double day = 0;
  size_t order = 0;  // in the sample
  int priority = 0;  // lower first
  std::string line;
};

std::vector<NoteItem> Notes(const json::Value& s) {
  std::vector<NoteItem> items;
  const json::Array& notes = ArrayAt(s.Find("notes"));
  // The latest progress note.
  size_t latest = notes.size();
  double latest_day = -1e9;
  for (size_t i = 0; i < notes.size(); ++i) {
    const json::Value* d = notes[i].Find("day");
    const double day = d && d->is_number() ? d->as_double() : -1;
    if (Str(notes[i].Find("type")) == "11506-3" && day >= latest_day) latest = i, latest_day = day;
  }
  for (size_t i = 0; i < notes.size(); ++i) {
    const json::Value& n = notes[i];
    const std::string type = Str(n.Find("type"));
    const char* kind = type == "34117-2"   ? "admission"
                       : type == "11506-3" ? "progress"
                       : type == "11488-4" ? "consult"
                                           : "note";
    const json::Value* d = n.Find("day");
    NoteItem item;
    item.day = d && d->is_number() ? d->as_double() : -1;
    item.order = i;
    item.priority = type == "34117-2" || i == latest ? 0 : type == "11488-4" ? 1 : 2;
    const std::string plan = PlanOf(Str(n.Find("text")));
    if (plan.empty()) continue;
    item.line = "[" + Str(n.Find("id")) + "] " + DayOf(n) + " " + kind + ": " + plan;
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

StatusOr<Prompt> BuildDischargePrompt(const json::Value& sample, const DischargePromptOptions& o) {
  if (!sample.is_object() || Str(sample.Find("task")) != "discharge_summary")
    return InvalidArgumentError("not a stay sample (task 'discharge_summary')");
  const json::Value* sp = Path(sample, {"modalities", "structured"});
  if (!sp || !sp->is_object()) return InvalidArgumentError("stay sample without a record");
  const json::Value& s = *sp;

  std::string patient;
  const std::string age = Str(Path(s, {"patient", "age"}));
  const std::string sex = Str(Path(s, {"patient", "sex"}));
  patient = (age.empty() ? "age unknown" : age) + (sex.empty() ? "" : " " + sex) + "; inpatient";
  if (const std::string los = Number(Path(s, {"encounter", "length_of_stay_days"})); !los.empty())
    patient += ", " + los + " days";
  if (const std::string d = Str(Path(s, {"encounter", "disposition"})); !d.empty())
    patient += "; disposition " + d;

  auto or_none = [](const std::string& v) { return v.empty() ? std::string("none") : v; };
  std::string head = "<discharge>\n<patient> " + patient + "\n";
  head += "<problems> " + or_none(ProblemsLine(s)) + "\n";
  head += "<allergies> " + or_none(AllergiesLine(s)) + "\n";
  head += "<home medications> " + or_none(MedicationsLine(s, true)) + "\n";
  head += "<hospital medications> " + or_none(MedicationsLine(s, false)) + "\n";
  std::string tail = "<procedures> " + or_none(ProceduresLine(s)) + "\n";
  tail += "<imaging> " + or_none(ImagingLine(s)) + "\n";
  tail += "<pending> " + or_none(PendingLine(s)) + "\n";
  const std::string dictation =
      o.dictation ? Str(Path(sample, {"modalities", "speech_transcript"})) : "";
  std::string end = "<dictation> " + or_none(dictation) + "\n<summary>";

  // Notes by priority (the admission note's and the latest progress note's plans, consults,
  // earlier progress notes newest first), shown in the record's order. Labs and vital signs keep
  // the most detail that leaves room for the first-priority notes.
  std::vector<NoteItem> notes = Notes(s);
  std::stable_sort(notes.begin(), notes.end(), [](const NoteItem& a, const NoteItem& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.day > b.day;
  });
  size_t first_notes = 0;
  for (const NoteItem& n : notes)
    if (n.priority == 0) first_notes += n.line.size() + 1;
  const size_t fixed = head.size() + tail.size() + end.size() + 9;  // "<notes> " and "\n"
  std::string series;
  for (int detail : {2, 1, 0}) {
    series = detail == 0 ? "<labs> none\n<vitals> none\n"
                         : "<labs> " + or_none(SeriesLine(s, "labs", detail)) + "\n<vitals> " +
                               or_none(SeriesLine(s, "vitals", detail)) + "\n";
    if (fixed + series.size() + first_notes <= o.max_chars) break;
  }
  size_t used = fixed + series.size();
  std::vector<const NoteItem*> kept;
  for (const NoteItem& n : notes) {
    if (used + n.line.size() + 1 > o.max_chars) continue;
    used += n.line.size() + 1;
    kept.push_back(&n);
  }
  std::sort(kept.begin(), kept.end(),
            [](const NoteItem* a, const NoteItem* b) { return a->order < b->order; });
  std::vector<std::string> lines;
  for (const NoteItem* n : kept) lines.push_back(n->line);

  Prompt p;
  p.text = head + series + tail + "<notes> " + or_none(Join(lines, " ")) + "\n" + end;
  p.target = Str(sample.Find("target_report"));
  return p;
}

}  // namespace medscribe::model
