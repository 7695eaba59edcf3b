#include "eval/discharge.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "eval/text_metrics.h"
#include "eval/truth.h"

namespace medscribe::eval {
namespace {

using Json = nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool WordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Non-overlapping occurrences of lexicon entries in `text` (lower case), longest entries first:
// a shorter entry inside a longer one's match is not reported. Returns (position, entry), by
// position.
std::vector<std::pair<size_t, std::string>> FindAll(const std::string& text,
                                                    const std::vector<std::string>& lexicon) {
  std::vector<bool> taken(text.size(), false);
  std::vector<std::pair<size_t, std::string>> out;
  for (const std::string& entry : lexicon) {
    if (entry.empty()) continue;
    for (size_t at = text.find(entry); at != std::string::npos; at = text.find(entry, at + 1)) {
      const size_t end = at + entry.size();
      if ((at > 0 && WordChar(text[at - 1]) && WordChar(entry.front())) ||
          (end < text.size() && WordChar(text[end]) && WordChar(entry.back())))
        continue;
      if (std::any_of(taken.begin() + static_cast<long>(at), taken.begin() + static_cast<long>(end),
                      [](bool b) { return b; }))
        continue;
      std::fill(taken.begin() + static_cast<long>(at), taken.begin() + static_cast<long>(end),
                true);
      out.emplace_back(at, entry);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool HasWord(const std::string& text, std::string_view word) {
  return !FindAll(text, {std::string(word)}).empty();
}

// The last outcome the line states.
std::string OutcomeOf(const std::string& line) {
  struct W {
    const char* word;
    const char* outcome;
  };
  constexpr W kWords[] = {{"resolved", "resolved"}, {"resolving", "improved"},
                          {"improved", "improved"}, {"improving", "improved"},
                          {"stable", "stable"},     {"unchanged", "stable"}};
  size_t best = 0;
  std::string outcome;
  for (const W& w : kWords) {
    for (const auto& [pos, entry] : FindAll(line, {w.word})) {
      if (outcome.empty() || pos >= best) best = pos, outcome = w.outcome;
    }
  }
  return outcome;
}

const std::set<std::string>& GroupWords() {
  static const std::set<std::string> kWords = {"start",
                                               "started",
                                               "new",
                                               "change",
                                               "changed",
                                               "changes",
                                               "continue",
                                               "continued",
                                               "stop",
                                               "stopped",
                                               "hold",
                                               "held",
                                               "discontinue",
                                               "discontinued",
                                               "new medications",
                                               "changed medications",
                                               "continued medications",
                                               "stopped medications"};
  return kWords;
}

}  // namespace

std::string MedicationChangeOfWord(std::string_view w) {
  if (w.rfind("start", 0) == 0 || w.rfind("new", 0) == 0 || w.rfind("begin", 0) == 0) return "new";
  if (w.rfind("chang", 0) == 0 || w.rfind("increas", 0) == 0 || w.rfind("decreas", 0) == 0)
    return "changed";
  if (w.rfind("continu", 0) == 0 || w.rfind("resume", 0) == 0) return "continued";
  if (w.rfind("stop", 0) == 0 || w.rfind("discontinu", 0) == 0 || w.rfind("hold", 0) == 0 ||
      w.rfind("held", 0) == 0)
    return "stopped";
  return "";
}

namespace {

struct Section {
  std::string name;                // upper case as written
  std::vector<std::string> lines;  // lower case, trimmed, non-empty
};

std::string Trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

// "HOSPITAL COURSE:" -> "HOSPITAL COURSE"; "" when the line is not a heading. A heading is upper
// case letters, spaces, hyphens and slashes before a colon.
std::string HeadingOf(const std::string& line, std::string* rest) {
  const size_t colon = line.find(':');
  if (colon == std::string::npos || colon < 3) return "";
  for (size_t i = 0; i < colon; ++i) {
    const char c = line[i];
    if (!(std::isupper(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '/'))
      return "";
  }
  *rest = Trim(line.substr(colon + 1));
  return line.substr(0, colon);
}

std::vector<Section> Sections(std::string_view text) {
  std::vector<Section> out(1);  // the header before the first heading
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string line = Trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    std::string rest;
    const std::string heading = HeadingOf(line, &rest);
    if (!heading.empty() && !GroupWords().count(Lower(heading))) {
      out.push_back(Section{heading, {}});
      if (!rest.empty()) out.back().lines.push_back(Lower(rest));
      continue;
    }
    out.back().lines.push_back(Lower(line));
  }
  return out;
}

bool IsNone(const std::string& line) { return line == "none." || line == "none" || line == "n/a"; }

std::vector<std::string> Strings(const Json& j, const char* key, const char* field = nullptr) {
  std::vector<std::string> out;
  if (!j.contains(key) || !j[key].is_array()) return out;
  for (const Json& e : j[key]) {
    if (field && e.is_object() && e.contains(field) && e[field].is_string())
      out.push_back(Lower(e[field].get<std::string>()));
    else if (!field && e.is_string())
      out.push_back(Lower(e.get<std::string>()));
  }
  return out;
}

void SortLongestFirst(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

double Ratio(double a, double b) { return b > 0 ? a / b : 0; }
double F1(double tp, double d, double t) {
  const double p = Ratio(tp, d), r = Ratio(tp, t);
  return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

}  // namespace

namespace {

StatusOr<DischargeTruth> ParseTruthObject(const Json& j);

}  // namespace

StatusOr<DischargeTruth> ParseDischargeTruth(std::string_view json_line) {
  const Json j = Json::parse(json_line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgumentError("not a JSON object");
  try {
    return ParseTruthObject(j);
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("a field of the wrong type: ") + e.what());
  }
}

namespace {

// REQUIRES: j is an object. Throws Json::exception for fields of the wrong type.
StatusOr<DischargeTruth> ParseTruthObject(const Json& j) {
  if (j.value("kind", "") != "inpatient" || !j.contains("problems") ||
      !j.contains("discharge_medications"))
    return InvalidArgumentError(
        "not an inpatient truth record (no kind 'inpatient', problems and "
        "discharge_medications): give the truth/stays.jsonl of `medscribe synth --kind "
        "inpatient`");
  if (j.value("generator", "") != kTruthGenerator)
    return FailedPreconditionError("truth of generator '" + j.value("generator", "") +
                                   "'; synthesize the cohort again with this version");
  DischargeTruth t;
  t.encounter_id = j.value("encounter_id", "");
  t.patient_id = j.value("patient_id", "");
  t.summary_document = j.value("summary_document", "");
  for (const Json& p : j["problems"]) {
    if (!p.is_object()) continue;
    t.problems.push_back(DischargeProblemTruth{p.value("name", ""), Lower(p.value("phrase", "")),
                                               p.value("outcome", "")});
  }
  for (const Json& m : j["discharge_medications"]) {
    if (!m.is_object()) continue;
    t.medications.push_back(DischargeMedTruth{Lower(m.value("name", "")), m.value("change", "")});
  }
  t.inpatient_only = Strings(j, "inpatient_only_medications", "name");
  t.procedures = Strings(j, "procedures", "phrase");
  t.consults = Strings(j, "consults", "specialty");
  t.pending = Strings(j, "pending", "test");
  if (j.contains("follow_up") && j["follow_up"].is_array()) {
    for (const Json& f : j["follow_up"])
      if (f.is_object())
        t.follow_up.push_back(FollowUpTruth{Lower(f.value("with", "")), f.value("within_days", 0)});
  }
  if (t.encounter_id.empty()) return InvalidArgumentError("no encounter_id");
  return t;
}

}  // namespace

StatusOr<std::vector<DischargeTruth>> ReadDischargeTruth(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open truth file '" + path + "'");
  std::vector<DischargeTruth> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (Trim(line).empty()) continue;
    auto t = ParseDischargeTruth(line);
    if (!t.ok())
      return Status(t.status().code(),
                    path + ":" + std::to_string(n) + ": " + std::string(t.status().message()));
    out.push_back(std::move(*t));
  }
  return out;
}

DischargeLexicon BuildDischargeLexicon(const std::vector<DischargeTruth>& truths) {
  DischargeLexicon lex;
  for (const DischargeTruth& t : truths) {
    for (const DischargeMedTruth& m : t.medications) lex.drugs.push_back(m.name);
    lex.drugs.insert(lex.drugs.end(), t.inpatient_only.begin(), t.inpatient_only.end());
    for (const DischargeProblemTruth& p : t.problems) lex.problems.push_back(p.phrase);
    lex.procedures.insert(lex.procedures.end(), t.procedures.begin(), t.procedures.end());
    lex.services.insert(lex.services.end(), t.consults.begin(), t.consults.end());
    for (const FollowUpTruth& f : t.follow_up) lex.services.push_back(f.with);
  }
  for (auto* v : {&lex.drugs, &lex.problems, &lex.procedures, &lex.services}) SortLongestFirst(*v);
  return lex;
}

SummaryReading ReadSummary(std::string_view text, const DischargeLexicon& lex) {
  SummaryReading r;
  std::set<std::string> mentioned;
  for (const Section& sec : Sections(text)) {
    const std::string name = sec.name;
    const bool scored_for_support = !name.empty() && name != "ALLERGIES" &&
                                    name != "CONDITION AT DISCHARGE" && name != "DISPOSITION";
    std::string group;
    for (const std::string& line : sec.lines) {
      for (const auto& [pos, p] : FindAll(line, lex.problems)) mentioned.insert(p);
      std::string bare = line;
      while (!bare.empty() && (bare.front() == '-' || bare.front() == '*' || bare.front() == ' '))
        bare.erase(bare.begin());
      if (!bare.empty() && bare.back() == ':' &&
          GroupWords().count(bare.substr(0, bare.size() - 1))) {
        group = MedicationChangeOfWord(bare);
        continue;
      }
      if (IsNone(bare)) continue;
      if (scored_for_support) r.statements.push_back(line);
      if (name == "HOSPITAL COURSE") {
        const auto found = FindAll(line, lex.problems);
        if (!found.empty()) r.course.emplace_back(found.front().second, OutcomeOf(line));
      } else if (name == "DISCHARGE MEDICATIONS") {
        std::string change;
        for (const char* marker : {"[new", "[changed", "[continued", "[stopped"}) {
          if (line.find(marker) != std::string::npos) change = MedicationChangeOfWord(marker + 1);
        }
        if (change.empty()) change = group;
        if (change.empty()) {
          const size_t sp = bare.find_first_of(" :");
          change = MedicationChangeOfWord(bare.substr(0, sp));
        }
        // The line's drug is the first it names; others are reasons ("replaced by ...").
        const auto drugs = FindAll(line, lex.drugs);
        if (!drugs.empty()) r.medications.push_back(MedItem{drugs.front().second, change});
      } else if (name == "FOLLOW-UP") {
        const auto services = FindAll(line, lex.services);
        if (services.empty()) continue;
        int days = -1;
        const size_t within = line.find("within ");
        if (within != std::string::npos) {
          size_t i = within + 7;
          int n = 0;
          bool digits = false;
          while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])))
            n = n * 10 + (line[i++] - '0'), digits = true;
          if (digits) days = line.compare(i, 5, " week") == 0 ? 7 * n : n;
        }
        r.follow_up.emplace_back(services.front().second, days);
      }
    }
  }
  r.mentioned_problems.assign(mentioned.begin(), mentioned.end());
  return r;
}

namespace {

struct CaseCounts {
  double covered = 0, problems = 0, mentioned = 0;
  double med_tp = 0, med_d = 0, med_t = 0;
  double drug_tp = 0, drug_d = 0, drug_t = 0, invented = 0;
  double unsupported = 0, statements = 0;
  double follow_ok = 0, follow_t = 0;
  double pending_ok = 0, pending_t = 0;
};

CaseCounts Count(const DischargeCase& c, const DischargeLexicon& lex) {
  const DischargeTruth& t = *c.truth;
  const SummaryReading r = ReadSummary(c.draft, lex);
  CaseCounts k;
  for (const DischargeProblemTruth& p : t.problems) {
    ++k.problems;
    k.covered += std::any_of(r.course.begin(), r.course.end(), [&](const auto& line) {
      return line.first == p.phrase && line.second == p.outcome;
    });
    k.mentioned += std::find(r.mentioned_problems.begin(), r.mentioned_problems.end(), p.phrase) !=
                   r.mentioned_problems.end();
  }
  std::set<std::pair<std::string, std::string>> truth_pairs, draft_pairs;
  std::set<std::string> truth_drugs, draft_drugs;
  std::map<std::string, std::string> truth_change;
  for (const DischargeMedTruth& m : t.medications) {
    truth_pairs.emplace(m.name, m.change);
    truth_drugs.insert(m.name);
    truth_change[m.name] = m.change;
  }
  for (const MedItem& m : r.medications) {
    draft_pairs.emplace(m.drug, m.change);
    draft_drugs.insert(m.drug);
  }
  for (const auto& p : draft_pairs) k.med_tp += truth_pairs.count(p);
  k.med_d = static_cast<double>(draft_pairs.size());
  k.med_t = static_cast<double>(truth_pairs.size());
  for (const std::string& d : draft_drugs) {
    k.drug_tp += truth_drugs.count(d);
    k.invented += !truth_drugs.count(d);
  }
  k.drug_d = static_cast<double>(draft_drugs.size());
  k.drug_t = static_cast<double>(truth_drugs.size());

  // Support: each statement against the stay's record.
  std::set<std::string> record_drugs(truth_drugs.begin(), truth_drugs.end());
  record_drugs.insert(t.inpatient_only.begin(), t.inpatient_only.end());
  std::set<std::string> problems, procedures(t.procedures.begin(), t.procedures.end());
  for (const DischargeProblemTruth& p : t.problems) problems.insert(p.phrase);
  std::set<std::string> services(t.consults.begin(), t.consults.end());
  for (const FollowUpTruth& f : t.follow_up) services.insert(f.with);
  for (const std::string& s : r.statements) {
    bool bad = false;
    for (const auto& [pos, d] : FindAll(s, lex.drugs)) bad = bad || !record_drugs.count(d);
    // A problem named by a broader or narrower phrase of the stay's own ("heart failure" for
    // acute on chronic systolic heart failure) is supported.
    for (const auto& [pos, p] : FindAll(s, lex.problems)) {
      bad = bad || std::none_of(problems.begin(), problems.end(), [&](const std::string& q) {
              return q == p || HasWord(q, p) || HasWord(p, q);
            });
    }
    for (const auto& [pos, p] : FindAll(s, lex.procedures)) bad = bad || !procedures.count(p);
    for (const auto& [pos, v] : FindAll(s, lex.services)) bad = bad || !services.count(v);
    k.unsupported += bad;
  }
  // A medication stated with a change the truth contradicts is unsupported too (counted once
  // per listed drug, on top of the statement count's line).
  for (const MedItem& m : r.medications) {
    auto it = truth_change.find(m.drug);
    if (it != truth_change.end() && !m.change.empty() && m.change != it->second) ++k.unsupported;
  }
  k.statements = static_cast<double>(r.statements.size());
  k.unsupported = std::min(k.unsupported, k.statements);

  for (const FollowUpTruth& f : t.follow_up) {
    ++k.follow_t;
    k.follow_ok += std::any_of(r.follow_up.begin(), r.follow_up.end(), [&](const auto& x) {
      return x.first == f.with && x.second == f.within_days;
    });
  }
  std::string pending_text;
  for (const Section& sec : Sections(c.draft))
    if (sec.name == "PENDING RESULTS")
      for (const std::string& l : sec.lines) pending_text += l + "\n";
  for (const std::string& p : t.pending) {
    ++k.pending_t;
    k.pending_ok += HasWord(pending_text, p);
  }
  return k;
}

}  // namespace

DischargeScores ScoreDischarge(const std::vector<DischargeCase>& cases,
                               const DischargeLexicon& lexicon, int bootstrap) {
  DischargeScores s;
  s.stays = cases.size();
  if (cases.empty()) return s;
  std::vector<CaseCounts> counts;
  counts.reserve(cases.size());
  for (const DischargeCase& c : cases) counts.push_back(Count(c, lexicon));
  CaseCounts sum;
  for (const CaseCounts& k : counts) {
    sum.covered += k.covered, sum.problems += k.problems, sum.mentioned += k.mentioned;
    sum.med_tp += k.med_tp, sum.med_d += k.med_d, sum.med_t += k.med_t;
    sum.drug_tp += k.drug_tp, sum.drug_d += k.drug_d, sum.drug_t += k.drug_t;
    sum.invented += k.invented;
    sum.unsupported += k.unsupported, sum.statements += k.statements;
    sum.follow_ok += k.follow_ok, sum.follow_t += k.follow_t;
    sum.pending_ok += k.pending_ok, sum.pending_t += k.pending_t;
  }
  s.problem_coverage = Bootstrap(
      counts.size(),
      [&](const std::vector<size_t>& idx) {
        double a = 0, b = 0;
        for (size_t i : idx) a += counts[i].covered, b += counts[i].problems;
        return Ratio(a, b);
      },
      bootstrap);
  s.med_f1 = Bootstrap(
      counts.size(),
      [&](const std::vector<size_t>& idx) {
        double tp = 0, d = 0, t = 0;
        for (size_t i : idx) tp += counts[i].med_tp, d += counts[i].med_d, t += counts[i].med_t;
        return F1(tp, d, t);
      },
      bootstrap);
  s.problem_mentioned = Ratio(sum.mentioned, sum.problems);
  s.med_precision = Ratio(sum.med_tp, sum.med_d);
  s.med_recall = Ratio(sum.med_tp, sum.med_t);
  s.drug_f1 = F1(sum.drug_tp, sum.drug_d, sum.drug_t);
  s.invented_medication_rate = Ratio(sum.invented, sum.drug_d);
  s.unsupported_rate = Ratio(sum.unsupported, sum.statements);
  s.statements = static_cast<size_t>(sum.statements);
  s.follow_up_completeness = Ratio(sum.follow_ok, sum.follow_t);
  s.pending_recall = sum.pending_t > 0 ? Ratio(sum.pending_ok, sum.pending_t) : 1.0;
  std::vector<std::string> drafts, refs;
  for (const DischargeCase& c : cases) drafts.push_back(c.draft), refs.push_back(c.reference);
  s.rouge_l = ScoreTexts(drafts, refs).rouge_l;
  return s;
}

}  // namespace medscribe::eval
