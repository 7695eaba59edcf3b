#include "eval/labeler.h"

#include <algorithm>
#include <cctype>

#include "eval/text_metrics.h"

namespace medscribe::eval {
namespace {

using Phrase = std::vector<std::string>;
using Phrases = std::vector<Phrase>;

// Mention phrases per class, as lower-case word sequences.
const Phrases kPhrases[kNumClasses] = {
    /* No Finding */ {},
    /* Enlarged Cardiomediastinum */
    {{"mediastinal", "widening"},
     {"widened", "mediastinum"},
     {"enlarged", "mediastinum"},
     {"mediastinal", "enlargement"},
     {"cardiomediastinal", "enlargement"},
     {"enlarged", "cardiomediastinal", "silhouette"}},
    /* Cardiomegaly */
    {{"cardiomegaly"},
     {"enlarged", "heart"},
     {"heart", "is", "enlarged"},
     {"heart", "is", "mildly", "enlarged"},
     {"heart", "is", "moderately", "enlarged"},
     {"heart", "is", "markedly", "enlarged"},
     {"cardiac", "enlargement"},
     {"enlarged", "cardiac", "silhouette"},
     {"heart", "size", "is", "enlarged"}},
    /* Lung Opacity */
    {{"opacity"}, {"opacities"}, {"opacification"}, {"haziness"}, {"infiltrate"}, {"infiltrates"}},
    /* Lung Lesion */
    {{"nodule"},
     {"nodules"},
     {"mass"},
     {"masses"},
     {"masslike"},
     {"nodular"},
     {"lesion"},
     {"lesions"}},
    /* Edema */
    {{"edema"}, {"kerley"}, {"vascular", "congestion"}, {"congestive", "heart", "failure"}},
    /* Consolidation */ {{"consolidation"}, {"consolidations"}, {"airspace", "disease"}},
    /* Pneumonia */ {{"pneumonia"}, {"infection"}, {"infectious", "process"}},
    /* Atelectasis */ {{"atelectasis"}, {"atelectatic"}, {"collapse"}},
    /* Pneumothorax */ {{"pneumothorax"}, {"pneumothoraces"}},
    /* Pleural Effusion */
    {{"effusion"}, {"effusions"}, {"pleural", "fluid"}, {"blunting"}},
    /* Pleural Other */
    {{"pleural", "thickening"},
     {"pleural", "plaque"},
     {"pleural", "plaques"},
     {"fibrothorax"},
     {"pleural", "scarring"}},
    /* Fracture */ {{"fracture"}, {"fractures"}, {"fractured"}},
    /* Support Devices */
    {{"tube"},
     {"line"},
     {"catheter"},
     {"pacemaker"},
     {"wires"},
     {"device"},
     {"devices"},
     {"icd"},
     {"picc"},
     {"drain"}},
};

// Phrases that contain a mention but do not mean the class (CheXpert's "unmention" list).
const Phrases kUnmention[kNumClasses] = {
    {},
    {},
    {},
    /* Lung Opacity */
    {{"nodular", "opacity"},
     {"nodular", "opacities"},
     {"masslike", "opacity"},
     {"mass", "like", "opacity"}},
    /* Lung Lesion */ {{"mass", "effect"}},
    {},
    {},
    {},
    {},
    {},
    {},
    {},
    {},
    /* Support Devices */
    {{"pleural", "line"},
     {"septal", "line"},
     {"b", "line"},
     {"line", "of"},
     {"fissure", "line"},
     {"azygoesophageal", "line"}},
};

const Phrases kNegationPre = {{"no"},
                              {"without"},
                              {"negative", "for"},
                              {"free", "of"},
                              {"resolved"},
                              {"resolution", "of"},
                              {"no", "longer"},
                              {"no", "evidence", "of"},
                              {"absence", "of"},
                              {"clear", "of"},
                              {"rather", "than"},
                              {"removed"}};
const Phrases kNegationPost = {
    {"is", "not", "seen"},    {"are", "not", "seen"}, {"has", "resolved"},
    {"have", "resolved"},     {"is", "absent"},       {"removed"},
    {"is", "not", "present"}, {"not", "identified"},  {"is", "no", "longer", "seen"}};
const Phrases kUncertainPre = {{"possible"},
                               {"possibly"},
                               {"may"},
                               {"might"},
                               {"could"},
                               {"questionable"},
                               {"suspicious", "for"},
                               {"concern", "for"},
                               {"cannot", "exclude"},
                               {"cannot", "be", "excluded"},
                               {"suggest"},
                               {"suggests"},
                               {"suggestive", "of"},
                               {"likely"},
                               {"probable"},
                               {"versus"},
                               {"vs"},
                               {"borderline"},
                               {"equivocal"},
                               {"differential", "diagnosis"}};
const Phrases kUncertainPost = {{"cannot", "be", "excluded"},
                                {"is", "not", "excluded"},
                                {"not", "excluded"},
                                {"is", "possible"},
                                {"not", "ruled", "out"}};
// Words that end the scope of a cue before them.
const Phrases kTerminators = {{"but"},   {"however"}, {"although"}, {"though"}, {"except"},
                              {"which"}, {"while"},   {"whereas"},  {"with"},   {"otherwise"}};

bool At(const std::vector<std::string>& w, size_t i, const Phrase& phrase) {
  if (i + phrase.size() > w.size()) return false;
  for (size_t k = 0; k < phrase.size(); ++k) {
    if (w[i + k] != phrase[k]) return false;
  }
  return true;
}

// True when a cue occurs in w[from, to).
bool CueIn(const std::vector<std::string>& w, size_t from, size_t to, const Phrases& cues) {
  for (size_t i = from; i < to && i < w.size(); ++i) {
    for (const auto& c : cues) {
      if (At(w, i, c)) return true;
    }
  }
  return false;
}

// A pre-cue within six words before `i`, with no terminator between it and the mention.
bool PreCue(const std::vector<std::string>& w, size_t i, const Phrases& cues) {
  const size_t from = i >= 6 ? i - 6 : 0;
  for (size_t j = i; j-- > from;) {
    if (CueIn(w, j, j + 1, kTerminators)) return false;
    if (CueIn(w, j, j + 1, cues)) return true;
  }
  return false;
}

// True when the mention at word i lies inside one of the phrases.
bool Covered(const std::vector<std::string>& w, size_t i, const Phrases& phrases) {
  for (const Phrase& u : phrases) {
    for (size_t j = i + 1 >= u.size() ? i + 1 - u.size() : 0; j <= i; ++j)
      if (At(w, j, u)) return true;
  }
  return false;
}

int Rank(Mention m) {  // which mention wins when a class occurs several times
  switch (m) {
    case Mention::kPositive:
      return 3;
    case Mention::kUncertain:
      return 2;
    case Mention::kNegative:
      return 1;
    default:
      return 0;
  }
}

std::string SeverityWord(const std::vector<std::string>& w, int c) {
  for (const std::string& x : w) {
    if (x == "small" || x == "trace" || x == "tiny" || x == "mild" || x == "mildly" ||
        x == "patchy" || x == "minimal")
      return "mild";
    if (x == "moderate" || x == "moderately" || x == "confluent") return "moderate";
    if (x == "large" || x == "massive" || x == "severe" || x == "markedly" || x == "marked" ||
        x == "dense" || x == "extensive" || (c == kAtelectasis && x == "collapse"))
      return "severe";
  }
  return "";
}

std::string ZoneWord(const std::vector<std::string>& w) {
  for (const std::string& x : w) {
    if (x == "upper" || x == "apical" || x == "apex" || x == "apices") return "upper";
    if (x == "middle" || x == "mid") return "middle";
    if (x == "lower" || x == "base" || x == "bases" || x == "basilar" || x == "bibasilar")
      return "lower";
  }
  return "";
}

std::vector<std::string> SplitSentences(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool end = c == '\n' ||
                     (c == '.' && (i + 1 == text.size() ||
                                   std::isspace(static_cast<unsigned char>(text[i + 1])))) ||
                     c == ';';
    if (end) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

struct Header {
  std::string_view name;
  bool observations;  // its text carries observations
  bool request;       // its text restates the order (what was asked, how it was done)
};
constexpr Header kHeaders[] = {{"findings", true, false},
                               {"impression", true, false},
                               {"conclusion", true, false},
                               {"indication", false, true},
                               {"indications", false, true},
                               {"clinical history", false, true},
                               {"history", false, true},
                               {"reason for exam", false, true},
                               {"reason", false, true},
                               {"comparison", false, false},
                               {"technique", false, true},
                               {"examination", false, true},
                               {"exam", false, true},
                               {"procedure", false, true},
                               {"recommendation", false, false},
                               {"recommendations", false, false}};

// The report's text under the headers `keep` accepts (and under no header), sections joined by
// newlines.
template <typename Keep>
std::string KeptSections(std::string_view report, Keep keep_header) {
  std::string lower(report);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Cut the report at every "HEADER:".
  std::string kept;
  bool keep = true;  // text under no header counts
  size_t start = 0;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (i > 0 && std::isalpha(static_cast<unsigned char>(lower[i - 1]))) continue;
    for (const Header& h : kHeaders) {
      if (lower.compare(i, h.name.size(), h.name) != 0) continue;
      size_t k = i + h.name.size();
      while (k < lower.size() && lower[k] == ' ') ++k;
      if (k >= lower.size() || lower[k] != ':') continue;
      if (keep) kept += std::string(report.substr(start, i - start)) + "\n";
      keep = keep_header(h);
      start = k + 1;
      i = k;
      break;
    }
  }
  if (keep) kept += std::string(report.substr(start));
  return kept;
}

}  // namespace

std::vector<std::string> ObservationSentences(std::string_view report) {
  return SplitSentences(KeptSections(report, [](const Header& h) { return h.observations; }));
}

std::string StatementText(std::string_view report) {
  return KeptSections(report, [](const Header& h) { return !h.request; });
}

Labels LabelReport(std::string_view report) {
  Labels out;
  for (const std::string& sentence : ObservationSentences(report)) {
    const std::vector<std::string> w = Words(sentence);
    for (int c = 1; c < kNumClasses; ++c) {
      for (size_t i = 0; i < w.size(); ++i) {
        const Phrase* hit = nullptr;
        for (const auto& p : kPhrases[c]) {
          if (At(w, i, p)) {
            hit = &p;
            break;
          }
        }
        if (!hit || Covered(w, i, kUnmention[c])) continue;
        const size_t after = i + hit->size(), after_end = after + 5;
        Mention m = Mention::kPositive;
        if (PreCue(w, i, kNegationPre) || CueIn(w, after, after_end, kNegationPost)) {
          m = Mention::kNegative;
        } else if (PreCue(w, i, kUncertainPre) || CueIn(w, after, after_end, kUncertainPost)) {
          m = Mention::kUncertain;
        }
        if (Rank(m) > Rank(out.mention[c])) out.mention[c] = m;
        if (m != Mention::kNegative) {
          if (out.side[c].empty()) {
            for (const std::string& x : w) {
              if (x == "left" || x == "right" || x == "bilateral" || x == "bibasilar") {
                out.side[c] = x == "bibasilar" ? "bilateral" : x;
                break;
              }
            }
          }
          if (out.severity[c].empty()) out.severity[c] = SeverityWord(w, c);
          if (out.zone[c].empty()) out.zone[c] = ZoneWord(w);
        }
        break;
      }
    }
  }
  // Pneumonia and consolidation imply an opacity.
  for (int c : {kConsolidation, kPneumonia}) {
    if (out.positive(c) && !out.positive(kLungOpacity)) out.mention[kLungOpacity] = out.mention[c];
  }
  bool any = false;
  for (int c = 1; c < kNumClasses - 1; ++c) any |= out.positive(c);
  out.mention[kNoFinding] = any ? Mention::kAbsent : Mention::kPositive;
  return out;
}

std::vector<std::string> AssertedPhraseSides(std::string_view report,
                                             const std::vector<std::vector<std::string>>& phrases) {
  std::vector<std::string> out(phrases.size(), "-");
  for (const std::string& sentence : ObservationSentences(report)) {
    const std::vector<std::string> w = Words(sentence);
    for (size_t k = 0; k < phrases.size(); ++k) {
      if (out[k] != "-") continue;
      for (size_t i = 0; i < w.size(); ++i) {
        if (!At(w, i, phrases[k]) || PreCue(w, i, kNegationPre)) continue;
        out[k].clear();
        for (size_t j = i; j-- > 0;) {
          if (w[j] == "right" || w[j] == "left") {
            out[k] = w[j];
            break;
          }
        }
        break;
      }
    }
  }
  return out;
}

std::vector<bool> AssertedPhrases(std::string_view report, const std::vector<Phrase>& phrases) {
  std::vector<bool> out;
  for (const std::string& side : AssertedPhraseSides(report, phrases)) out.push_back(side != "-");
  return out;
}

F1Scores ClinicalF1(const std::vector<Labels>& gen, const std::vector<Labels>& ref) {
  F1Scores s;
  const size_t n = std::min(gen.size(), ref.size());
  std::array<double, kNumClasses> tp{}, fp{}, fn{};
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < kNumClasses; ++c) {
      const bool g = gen[i].positive(c), r = ref[i].positive(c);
      tp[c] += g && r;
      fp[c] += g && !r;
      fn[c] += !g && r;
    }
  }
  auto f1 = [](double t, double p, double f) { return t == 0 ? 0.0 : 2 * t / (2 * t + p + f); };
  double TP = 0, FP = 0, FN = 0, macro = 0;
  for (int c = 0; c < kNumClasses; ++c) {
    s.per_class[c] = f1(tp[c], fp[c], fn[c]);
    s.precision[c] = tp[c] + fp[c] > 0 ? tp[c] / (tp[c] + fp[c]) : 0;
    s.recall[c] = tp[c] + fn[c] > 0 ? tp[c] / (tp[c] + fn[c]) : 0;
    s.support[c] = static_cast<int>(tp[c] + fn[c]);
    s.predicted[c] = static_cast<int>(tp[c] + fp[c]);
    s.present[c] = s.support[c] > 0;
    TP += tp[c], FP += fp[c], FN += fn[c];
    if (s.present[c]) {
      macro += s.per_class[c];
      ++s.classes_used;
    }
  }
  s.micro = f1(TP, FP, FN);
  s.macro = s.classes_used ? macro / s.classes_used : 0;
  double t5 = 0, p5 = 0, f5 = 0, m5 = 0;
  int used5 = 0;
  for (int c : kTop5) {
    t5 += tp[c], p5 += fp[c], f5 += fn[c];
    if (s.present[c]) m5 += s.per_class[c], ++used5;
  }
  s.micro_top5 = f1(t5, p5, f5);
  s.macro_top5 = used5 ? m5 / used5 : 0;
  return s;
}

}  // namespace medscribe::eval
