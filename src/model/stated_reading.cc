#include "model/stated_reading.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

namespace medscribe::model {
namespace {

bool Digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool Alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool Alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One past the end of the first sentence of `t`: after a line end, or after a '.' that is not a
// decimal point (followed by something other than a digit; at the end of the text only when
// `final`). npos while the stream has not yet shown where it ends.
size_t SentenceEnd(std::string_view t, bool final) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\n') return i + 1;
    if (t[i] != '.') continue;
    if (i + 1 < t.size()) {
      if (!Digit(t[i + 1])) return i + 1;
    } else {
      return final ? i + 1 : std::string_view::npos;
    }
  }
  return final ? t.size() : std::string_view::npos;
}

// Whether the words before a number make it a threshold rather than a measurement.
bool Threshold(std::string_view lower_before) {
  while (!lower_before.empty() && lower_before.back() == ' ') lower_before.remove_suffix(1);
  for (std::string_view w : {"under", "below", "than", "over", "above", "<", ">", "up to",
                             "at least", "at most", "exceeding"}) {
    if (lower_before.ends_with(w)) return true;
  }
  return false;
}

std::string StateSize(std::string_view s, double mm) {
  const std::string low = Lower(s);
  const auto has = [&](std::string_view w) { return low.find(w) != std::string::npos; };
  if (!has("nodul") && !has("mass")) return std::string(s);
  if (has("recommend") || has("follow-up") || has("follow up")) return std::string(s);
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (!Digit(s[i]) || (i > 0 && (Alnum(s[i - 1]) || s[i - 1] == '.'))) {
      out += s[i++];
      continue;
    }
    size_t k = i;
    while (k < s.size() && Digit(s[k])) ++k;
    if (k + 1 < s.size() && s[k] == '.' && Digit(s[k + 1])) {
      for (++k; k < s.size() && Digit(s[k]);) ++k;
    }
    size_t u = k;
    while (u < s.size() && (s[u] == ' ' || s[u] == '-')) ++u;
    const std::string_view unit = std::string_view(low).substr(u, 2);
    const bool unit_ends = u + 2 >= s.size() || !Alpha(s[u + 2]);
    if (unit_ends && (unit == "mm" || unit == "cm") &&
        !Threshold(std::string_view(low).substr(0, i))) {
      char number[32];
      if (unit == "mm") {
        std::snprintf(number, sizeof number, "%ld", std::lround(mm));
      } else {
        std::snprintf(number, sizeof number, "%.1f", mm / 10);
      }
      out.append(number).append(s.substr(k, u + 2 - k));  // the separator and the unit as written
      i = u + 2;
      continue;
    }
    out.append(s.substr(i, k - i));
    i = k;
  }
  return out;
}

// --- Sides ---

// A thing a sentence names: a finding kind (its index in StatedReading::side) or, for -1,
// something with a side of its own whose words stay.
struct Mention {
  size_t begin, end;
  int kind;
  bool negated;
};

struct Stem {
  std::string_view text;  // lower case, matched at the start of a word
  int kind;
};

// FindingKind order: 0 cardiomegaly, 1 pleural effusion, 2 consolidation, 3 edema,
// 4 pneumothorax, 5 lesion, 6 atelectasis, 7 fracture, 8 endotracheal tube, 9 central line,
// 10 pacemaker, 11 chest tube. The reading decides no device's presence; whose side it states
// is StatedReading::side's.
constexpr Stem kStems[] = {{"cardiomegaly", 0},
                           {"enlarged cardiac", 0},
                           {"cardiac enlargement", 0},
                           {"enlarged heart", 0},
                           {"heart is enlarged", 0},
                           {"heart is mildly enlarged", 0},
                           {"heart is moderately enlarged", 0},
                           {"heart is markedly enlarged", 0},
                           {"heart size is enlarged", 0},
                           {"effusion", 1},
                           {"pleural fluid", 1},
                           {"consolidat", 2},
                           {"airspace", 2},
                           {"air space", 2},
                           {"pneumonia", 2},
                           {"edema", 3},
                           {"kerley", 3},
                           {"vascular congestion", 3},
                           {"pneumothora", 4},
                           {"nodul", 5},
                           {"mass", 5},
                           {"atelecta", 6},
                           {"collapse", 6},
                           {"fractur", 7},
                           {"chest tube", 11},
                           {"thoracostomy", 11},
                           {"central", 9},
                           {"catheter", 9},
                           {"picc", 9},
                           {"jugular", 9},
                           {"subclavian", 9},
                           {"pacemaker", 10},
                           {"endotracheal", 8},
                           {"atri", -1},
                           {"ventric", -1},
                           {"chest wall", -1},
                           {"breast", -1},
                           {"clavic", -1},
                           {"shoulder", -1},
                           {"humer", -1}};

constexpr std::string_view kNegations[] = {"no",   "not",      "without",   "negative",
                                           "free", "resolved", "resolution"};
constexpr std::string_view kSideWords[] = {"right", "left", "bilateral", "bibasilar"};
constexpr std::string_view kClauseWords[] = {"and", "but", "with", "however", "while"};

bool WordStart(std::string_view low, size_t i) { return i == 0 || !Alpha(low[i - 1]); }

size_t WordEnd(std::string_view low, size_t i) {
  while (i < low.size() && Alpha(low[i])) ++i;
  return i;
}

template <typename Set>
bool IsOneOf(std::string_view w, const Set& set) {
  return std::find(std::begin(set), std::end(set), w) != std::end(set);
}

// Clause number of every byte of `low`: a new clause after ',', ';', ':' or a clause word.
std::vector<int> Clauses(std::string_view low) {
  std::vector<int> clause(low.size() + 1, 0);
  int c = 0;
  for (size_t i = 0; i < low.size();) {
    if (low[i] == ',' || low[i] == ';' || low[i] == ':') {
      clause[i++] = c++;
      continue;
    }
    if (Alpha(low[i]) && WordStart(low, i)) {
      const size_t e = WordEnd(low, i);
      const std::string_view w = low.substr(i, e - i);
      if (IsOneOf(w, kClauseWords)) ++c;
      for (; i < e; ++i) clause[i] = c;
      continue;
    }
    clause[i++] = c;
  }
  clause[low.size()] = c;
  return clause;
}

std::vector<Mention> Mentions(std::string_view low, const std::vector<int>& clause) {
  std::vector<Mention> out;
  for (size_t i = 0; i < low.size(); ++i) {
    if (!Alpha(low[i]) || !WordStart(low, i)) continue;
    const std::string_view word = low.substr(i, WordEnd(low, i) - i);
    for (const Stem& s : kStems) {
      if (low.substr(i, s.text.size()) != s.text) continue;
      if (word == "massive") break;  // a severity, not a mass
      Mention m{i, WordEnd(low, i + s.text.size()), s.kind, false};
      // Negated: a negation word earlier in the same clause.
      for (size_t j = i; j-- > 0 && clause[j] == clause[i];) {
        if (!Alpha(low[j]) || !WordStart(low, j)) continue;
        const std::string_view w = low.substr(j, WordEnd(low, j) - j);
        m.negated |= IsOneOf(w, kNegations);
      }
      out.push_back(m);
      i = m.end;
      break;
    }
  }
  return out;
}

// The mention a side word at [b, e) belongs to: the nearest in its clause, else the nearest in
// the sentence; at equal distance the one after it. nullptr when the sentence names none.
const Mention* Owner(const std::vector<Mention>& ms, const std::vector<int>& clause, size_t b,
                     size_t e) {
  const Mention* best = nullptr;
  size_t best_distance = 0;
  bool best_same_clause = false;
  for (const Mention& m : ms) {
    const bool after = m.begin >= e;
    const size_t distance = after ? m.begin - e : b - std::min(b, m.end);
    const bool same_clause = clause[m.begin] == clause[b];
    if (best == nullptr || (same_clause && !best_same_clause) ||
        (same_clause == best_same_clause &&
         (distance < best_distance || (distance == best_distance && after)))) {
      best = &m;
      best_distance = distance;
      best_same_clause = same_clause;
    }
  }
  return best;
}

std::string SideWord(ReadSide side, bool was_bibasilar) {
  switch (side) {
    case ReadSide::kRight:
      return was_bibasilar ? "right basilar" : "right";
    case ReadSide::kLeft:
      return was_bibasilar ? "left basilar" : "left";
    case ReadSide::kBilateral:
      return was_bibasilar ? "bibasilar" : "bilateral";
    case ReadSide::kNone:
      break;
  }
  return "";
}

// `word` written in the case of `as`: capitalized, all capitals, or lower case.
std::string InCaseOf(std::string word, std::string_view as) {
  const bool upper0 = std::isupper(static_cast<unsigned char>(as[0])) != 0;
  const bool all_upper = as.size() > 1 && std::all_of(as.begin(), as.end(), [](char c) {
                           return std::isupper(static_cast<unsigned char>(c)) != 0;
                         });
  if (all_upper) {
    for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  } else if (upper0) {
    word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
  }
  return word;
}

// What a sentence names, read once for both edits below.
struct Named {
  std::string low;          // the sentence in lower case
  std::vector<int> clause;  // Clauses(low)
  std::vector<Mention> mentions;
};

Named Analyze(std::string_view s) {
  Named n{Lower(s), {}, {}};
  n.clause = Clauses(n.low);
  n.mentions = Mentions(n.low, n.clause);
  return n;
}

// Words a side is put after rather than before, where a named thing lacks one ("Small right
// pleural effusion"), and the words a noun phrase does not reach back over.
constexpr std::string_view kBeforeSide[] = {
    "small",   "moderate", "large",   "mild", "severe",    "trace",     "tiny",
    "minimal", "patchy",   "massive", "new",  "increased", "decreased", "persistent"};
constexpr std::string_view kPhraseStops[] = {
    "a",     "an",    "the",  "there", "is",    "are",     "was",        "were",
    "of",    "in",    "on",   "at",    "to",    "from",    "for",        "by",
    "as",    "again", "also", "seen",  "noted", "present", "identified", "demonstrated",
    "which", "that",  "this", "these", "mm",    "cm"};

// Where a side word goes for the mention `m` that has none: before the first word of its noun
// phrase (the words before it in its clause, back to a stop word, a word a side follows, a
// number or its unit, or the clause's start). npos where a side word already stands in that
// phrase.
size_t SideInsertion(std::string_view low, const std::vector<int>& clause, const Mention& m) {
  size_t at = m.begin;
  for (size_t j = m.begin; j-- > 0 && clause[j] == clause[m.begin];) {
    if (low[j] == ' ' || low[j] == '-') continue;
    if (!Alpha(low[j])) break;
    if (!WordStart(low, j)) continue;
    const std::string_view w = low.substr(j, WordEnd(low, j) - j);
    if (IsOneOf(w, kSideWords)) return std::string_view::npos;
    if (IsOneOf(w, kPhraseStops) || IsOneOf(w, kBeforeSide) || IsOneOf(w, kNegations)) break;
    at = j;
  }
  return at;
}

// `s` (analyzed as `n`) with the side words of the kinds `side` gives a side made that side,
// and that side put before each such kind the sentence asserts without a side word of its own.
std::string StateSides(std::string_view s, const Named& n,
                       const std::array<ReadSide, StatedReading::kKinds>& side) {
  const std::string& low = n.low;
  const std::vector<int>& clause = n.clause;
  const std::vector<Mention>& ms = n.mentions;
  if (ms.empty()) return std::string(s);
  struct Edit {
    size_t begin, end;
    std::string text;
  };
  std::vector<Edit> edits;
  std::array<bool, StatedReading::kKinds> sided{};  // kinds a side word of the sentence belongs to
  for (size_t i = 0; i < low.size(); ++i) {
    if (!Alpha(low[i]) || !WordStart(low, i)) continue;
    const size_t e = WordEnd(low, i);
    const std::string_view w = std::string_view(low).substr(i, e - i);
    if (!IsOneOf(w, kSideWords)) {
      i = e;
      continue;
    }
    const Mention* m = Owner(ms, clause, i, e);
    if (m != nullptr && m->kind >= 0) sided[static_cast<size_t>(m->kind)] = true;
    if (m == nullptr || m->kind < 0 || m->negated ||
        side[static_cast<size_t>(m->kind)] == ReadSide::kNone) {
      i = e;
      continue;
    }
    const bool bibasilar = w == "bibasilar";
    const ReadSide current = w == "right"  ? ReadSide::kRight
                             : w == "left" ? ReadSide::kLeft
                                           : ReadSide::kBilateral;
    const ReadSide want = side[static_cast<size_t>(m->kind)];
    if (want != current)
      edits.push_back({i, e, InCaseOf(SideWord(want, bibasilar), s.substr(i, e - i))});
    i = e;
  }
  for (const Mention& m : ms) {
    if (m.negated || m.kind < 0) continue;
    const auto k = static_cast<size_t>(m.kind);
    if (sided[k] || side[k] == ReadSide::kNone) continue;
    sided[k] = true;  // once per kind
    const size_t at = SideInsertion(low, clause, m);
    if (at == std::string_view::npos) continue;
    // A capital that starts the phrase moves to the side word ("Dual-chamber" -> "Left
    // dual-chamber"); an acronym keeps its capitals.
    const size_t we = WordEnd(low, at);
    const std::string_view first = s.substr(at, we - at);
    const bool capital = std::isupper(static_cast<unsigned char>(s[at])) != 0;
    const bool acronym = first.size() > 1 && std::isupper(static_cast<unsigned char>(first[1]));
    std::string word = SideWord(side[k], false);
    if (capital) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
    word += ' ';
    if (capital && !acronym)
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(s[at])));
    edits.push_back({at, capital && !acronym ? at + 1 : at, std::move(word)});
  }
  std::sort(edits.begin(), edits.end(),
            [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  std::string out;
  size_t copied = 0;
  for (const Edit& e : edits) {
    if (e.begin < copied) continue;  // overlapping edits cannot arise; kept safe
    out.append(s.substr(copied, e.begin - copied));
    out += e.text;
    copied = e.end;
  }
  out.append(s.substr(copied));
  return out;
}

// Whether the sentence asserts nothing but findings the reading decided it did not find (at
// least one): such a sentence is the decoder's invention.
bool OnlyUnfound(const Named& n, const std::array<ReadPresence, StatedReading::kKinds>& p) {
  bool unfound = false;
  for (const Mention& m : n.mentions) {
    if (m.negated) continue;
    if (m.kind < 0 || p[static_cast<size_t>(m.kind)] != ReadPresence::kNotFound) return false;
    unfound = true;
  }
  return unfound;
}

// Whether the sentence denies nothing but findings the reading found and states (at least
// one): "No focal consolidation." where the reading found one.
bool OnlyDeniesStated(const Named& n,
                      const std::array<std::string, StatedReading::kKinds>& statement) {
  bool denied = false;
  for (const Mention& m : n.mentions) {
    if (!m.negated || m.kind < 0 || statement[static_cast<size_t>(m.kind)].empty()) return false;
    denied = true;
  }
  return denied;
}

// "1." or "\n2." alone: an item's number, its text to come.
bool BareNumber(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  const size_t digits = i;
  while (i < s.size() && Digit(s[i])) ++i;
  return i > digits && i - digits <= 2 && i + 1 == s.size() && s[i] == '.';
}

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

// --- Sections ---

struct Header {
  std::string_view name;
  bool describes_image;
};
constexpr Header kHeaders[] = {
    {"findings", true},         {"impression", true},        {"conclusion", true},
    {"recommendation", true},   {"recommendations", true},   {"indication", false},
    {"indications", false},     {"clinical history", false}, {"history", false},
    {"reason for exam", false}, {"reason", false},           {"comparison", false},
    {"technique", false},       {"examination", false},      {"exam", false},
    {"procedure", false}};

// The first header in `low` at or after `from` (a header name at a word's start followed by
// ':'): its position, the end of its ':', and whether its section describes the image.
struct HeaderAt {
  size_t begin = std::string_view::npos, end = 0;
  bool describes_image = true;
  bool findings = false;    // the FINDINGS section
  bool impression = false;  // the IMPRESSION (or CONCLUSION) section
};
HeaderAt NextHeader(std::string_view low, size_t from) {
  for (size_t i = from; i < low.size(); ++i) {
    if (!Alpha(low[i]) || !WordStart(low, i)) continue;
    for (const Header& h : kHeaders) {
      if (low.substr(i, h.name.size()) != h.name) continue;
      size_t k = i + h.name.size();
      while (k < low.size() && low[k] == ' ') ++k;
      if (k < low.size() && low[k] == ':')
        return {i, k + 1, h.describes_image, h.name == "findings",
                h.name == "impression" || h.name == "conclusion"};
    }
  }
  return {};
}

// `add` (statements, each after a space) put into `out` before its trailing white space;
// `before` is the byte given out before `out`. Its first space goes where `add` would start a
// line or the text.
void InsertBeforeSpace(std::string& out, std::string add, char before) {
  size_t at = out.size();
  while (at > 0 && std::isspace(static_cast<unsigned char>(out[at - 1]))) --at;
  const char prev = at > 0 ? out[at - 1] : before;
  if (prev == '\0' || std::isspace(static_cast<unsigned char>(prev))) add.erase(0, 1);
  out.insert(at, add);
}

}  // namespace

bool StatedReading::empty() const {
  return !(lesion_mm > 0) &&
         std::all_of(side.begin(), side.end(), [](ReadSide s) { return s == ReadSide::kNone; }) &&
         std::all_of(presence.begin(), presence.end(),
                     [](ReadPresence p) { return p != ReadPresence::kNotFound; }) &&
         std::all_of(statement.begin(), statement.end(),
                     [](const std::string& s) { return s.empty(); });
}

std::string ReadingStatement::Statements(bool unasserted_only) {
  stated_ = true;
  std::string out;
  for (size_t k = 0; k < StatedReading::kKinds; ++k) {
    if (reading_.statement[k].empty() || (unasserted_only && asserted_[k])) continue;
    asserted_[k] = true;
    out.append(" ").append(reading_.statement[k]);
  }
  return out;
}

std::string ReadingStatement::Found() {
  impression_empty_ = false;
  // A reading that decided every image finding absent reads a normal study.
  bool normal = true;
  for (size_t k = 0; k < StatedReading::kImageFindings; ++k)
    normal &= reading_.presence[k] == ReadPresence::kNotFound;
  return (normal ? " No acute cardiopulmonary abnormality." : "") +
         Statements(/*unasserted_only=*/false);
}

std::string ReadingStatement::Renumbered(std::string_view number) {
  size_t i = 0;
  while (i < number.size() && !Digit(number[i])) ++i;
  size_t e = i;
  while (e < number.size() && Digit(number[e])) ++e;
  return std::string(number.substr(0, i)) + std::to_string(++item_) + std::string(number.substr(e));
}

std::string ReadingStatement::Edit(std::string_view sentence) {
  const std::string low = Lower(sentence);
  std::string out = std::exchange(space_, "");
  size_t at = 0;
  while (at <= sentence.size()) {
    const HeaderAt h = NextHeader(low, at);
    const size_t part_end = std::min(h.begin, sentence.size());
    const std::string_view raw = sentence.substr(at, part_end - at);
    const bool last = h.begin == std::string_view::npos;
    std::string part(raw);
    bool dropped = false;
    if (describes_image_ && !raw.empty()) {
      if (last && BareNumber(raw)) {  // held until its item's text shows whether it stays
        if (!held_.empty()) out += Renumbered(held_);
        held_ = part;
        break;
      }
      const Named named = Analyze(raw);
      dropped =
          OnlyUnfound(named, reading_.presence) || OnlyDeniesStated(named, reading_.statement);
      if (dropped) {
        part.clear();
      } else {
        for (const Mention& m : named.mentions)
          if (!m.negated && m.kind >= 0) asserted_[static_cast<size_t>(m.kind)] = true;
        // Sides first, on the text `named` describes; a size edit touches no side word.
        part = StateSides(raw, named, reading_.side);
        if (reading_.lesion_mm > 0) part = StateSize(part, reading_.lesion_mm);
      }
    }
    if (dropped_item_ && !part.empty()) {
      if (part[0] == '\n') part.erase(0, 1);  // the line of an item left out goes with it
      dropped_item_ = false;
    }
    if (in_impression_ && !dropped && !Blank(part)) impression_empty_ = false;
    if (!held_.empty()) {
      if (dropped) {
        held_.clear();
        dropped_item_ = true;
      } else if (Blank(part) && last) {
        held_ += part;
        part.clear();
      } else {
        out += Renumbered(held_);
        held_.clear();
      }
    }
    out += part;
    if (last) break;
    if (in_findings_ && !stated_)
      InsertBeforeSpace(out, Statements(/*unasserted_only=*/true), last_);
    if (in_impression_ && impression_empty_) InsertBeforeSpace(out, Found(), last_);
    // The header stays apart from what was put before it.
    if (!out.empty() && !std::isspace(static_cast<unsigned char>(out.back())) && out.back() != ':')
      out += ' ';
    out.append(sentence.substr(h.begin, h.end - h.begin));
    describes_image_ = h.describes_image;
    in_findings_ = h.findings;
    in_impression_ = h.impression;
    impression_empty_ = true;
    item_ = 0;
    at = h.end;
  }
  // Trailing white space, where statements may yet be put, waits for the text after it.
  if (!stated_ || (in_impression_ && impression_empty_)) {
    size_t text = out.size();
    while (text > 0 && std::isspace(static_cast<unsigned char>(out[text - 1]))) --text;
    space_ = out.substr(text);
    out.resize(text);
  }
  if (!out.empty()) last_ = out.back();
  return out;
}

std::string ReadingStatement::Feed(std::string_view piece) {
  pending_.append(piece);
  std::string out;
  if (reading_.empty()) {
    out.swap(pending_);
    return out;
  }
  for (size_t end; (end = SentenceEnd(pending_, false)) != std::string::npos;) {
    out += Edit(std::string_view(pending_).substr(0, end));
    pending_.erase(0, end);
  }
  return out;
}

std::string ReadingStatement::Finish() {
  std::string out;
  if (reading_.empty()) {
    out.swap(pending_);
    return out;
  }
  while (!pending_.empty()) {
    const size_t end = SentenceEnd(pending_, true);
    out += Edit(std::string_view(pending_).substr(0, end));
    pending_.erase(0, end);
  }
  out += std::exchange(space_, "");
  if (!held_.empty()) out += Renumbered(std::exchange(held_, ""));
  if (in_impression_ && impression_empty_)
    InsertBeforeSpace(out, Found(), last_);
  else if (!stated_)
    InsertBeforeSpace(out, Statements(/*unasserted_only=*/true), last_);
  return out;
}

std::string StateReading(std::string_view draft, const StatedReading& reading) {
  ReadingStatement s(reading);
  std::string out = s.Feed(draft);
  return out + s.Finish();
}

}  // namespace medscribe::model
