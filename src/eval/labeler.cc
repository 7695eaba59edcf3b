#include "eval/labeler.h"

#include <algorithm>
#include <cctype>

#include "eval/text_metrics.h"

namespace medscribe::eval {
namespace {

// Mention phrases per class, as lower-case word sequences.
const std::vector<std::vector<std::string>> kPhrases[kNumClasses] = {
    /* No Finding */ {},
    /* Enlarged Cardiomediastinum */
    {{"mediastinal", "widening"},
     {"widened", "mediastinum"},
     {"enlarged", "mediastinum"},
     {"cardiomediastinal", "enlargement"}},
    /* Cardiomegaly */
    {{"cardiomegaly"},
     {"enlarged", "heart"},
     {"heart", "is", "enlarged"},
     {"cardiac", "enlargement"},
     {"enlarged", "cardiac", "silhouette"},
     {"heart", "size", "is", "enlarged"}},
    /* Lung Opacity */
    {{"opacity"}, {"opacities"}, {"opacification"}, {"haziness"}, {"infiltrate"}, {"infiltrates"}},
    /* Lung Lesion */ {{"nodule"}, {"nodules"}, {"mass"}, {"masses"}, {"nodular"}, {"lesion"}},
    /* Edema */
    {{"edema"}, {"kerley"}, {"vascular", "congestion"}, {"congestive", "heart", "failure"}},
    /* Consolidation */ {{"consolidation"}, {"consolidations"}, {"airspace", "disease"}},
    /* Pneumonia */ {{"pneumonia"}, {"infection"}},
    /* Atelectasis */ {{"atelectasis"}, {"atelectatic"}, {"collapse"}},
    /* Pneumothorax */ {{"pneumothorax"}, {"pneumothoraces"}},
    /* Pleural Effusion */ {{"effusion"}, {"effusions"}, {"blunting"}},
    /* Pleural Other */ {{"pleural", "thickening"}, {"pleural", "plaque"}, {"fibrothorax"}},
    /* Fracture */ {{"fracture"}, {"fractures"}, {"fractured"}},
    /* Support Devices */
    {{"tube"}, {"line"}, {"catheter"}, {"pacemaker"}, {"wires"}, {"device"}, {"icd"}},
};

const std::vector<std::vector<std::string>> kNegationPre = {{"no"},
                                                            {"without"},
                                                            {"negative", "for"},
                                                            {"free", "of"},
                                                            {"resolved"},
                                                            {"no", "evidence", "of"},
                                                            {"not", "seen"},
                                                            {"absence", "of"},
                                                            {"clear", "of"},
                                                            {"rather", "than"},
                                                            {"removed"}};
const std::vector<std::vector<std::string>> kNegationPost = {
    {"is", "not", "seen"}, {"are", "not", "seen"}, {"has", "resolved"},
    {"have", "resolved"},  {"is", "absent"},       {"removed"}};
const std::vector<std::vector<std::string>> kUncertainPre = {{"possible"},
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
                                                             {"equivocal"}};
const std::vector<std::vector<std::string>> kUncertainPost = {{"cannot", "be", "excluded"},
                                                              {"is", "not", "excluded"},
                                                              {"not", "excluded"},
                                                              {"is", "possible"}};

bool At(const std::vector<std::string>& w, size_t i, const std::vector<std::string>& phrase) {
  if (i + phrase.size() > w.size()) return false;
  for (size_t k = 0; k < phrase.size(); ++k) {
    if (w[i + k] != phrase[k]) return false;
  }
  return true;
}

// True when a cue occurs in w[from, to).
bool CueIn(const std::vector<std::string>& w, size_t from, size_t to,
           const std::vector<std::vector<std::string>>& cues) {
  for (size_t i = from; i < to && i < w.size(); ++i) {
    for (const auto& c : cues) {
      if (At(w, i, c)) return true;
    }
  }
  return false;
}

std::vector<std::string> Sentences(std::string_view text) {
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

}  // namespace

Labels LabelReport(std::string_view report) {
  Labels out;
  for (const std::string& sentence : Sentences(report)) {
    const std::vector<std::string> w = Words(sentence);
    // Section headers ("FINDINGS:", "IMPRESSION:") are plain words here; "recommendation"
    // sentences talk about follow-up, not findings.
    if (!w.empty() && (w[0] == "recommendation" || w[0] == "comparison" || w[0] == "indication"))
      continue;
    for (int c = 1; c < kNumClasses; ++c) {
      for (size_t i = 0; i < w.size(); ++i) {
        const std::vector<std::string>* hit = nullptr;
        for (const auto& p : kPhrases[c]) {
          if (At(w, i, p)) {
            hit = &p;
            break;
          }
        }
        if (!hit) continue;
        const size_t before = i >= 6 ? i - 6 : 0;
        const size_t after_end = i + hit->size() + 5;
        Mention m = Mention::kPositive;
        if (CueIn(w, before, i, kNegationPre) ||
            CueIn(w, i + hit->size(), after_end, kNegationPost)) {
          m = Mention::kNegative;
        } else if (CueIn(w, before, i, kUncertainPre) ||
                   CueIn(w, i + hit->size(), after_end, kUncertainPost)) {
          m = Mention::kUncertain;
        }
        if (Rank(m) > Rank(out.mention[c])) {
          out.mention[c] = m;
          if (m != Mention::kNegative && out.side[c].empty()) {
            for (const std::string& x : w) {
              if (x == "left" || x == "right" || x == "bilateral") {
                out.side[c] = x;
                break;
              }
            }
          }
        }
        break;
      }
    }
  }
  // Pneumonia and consolidation imply an opacity.
  for (int c : {6, 7}) {
    if (out.positive(c) && !out.positive(3)) out.mention[3] = out.mention[c];
  }
  bool any = false;
  for (int c = 1; c < kNumClasses - 1; ++c) any |= out.positive(c);
  out.mention[0] = any ? Mention::kAbsent : Mention::kPositive;
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
    TP += tp[c], FP += fp[c], FN += fn[c];
    macro += s.per_class[c];
  }
  s.micro = f1(TP, FP, FN);
  s.macro = macro / kNumClasses;
  double t5 = 0, p5 = 0, f5 = 0, m5 = 0;
  for (int c : kTop5) {
    t5 += tp[c], p5 += fp[c], f5 += fn[c];
    m5 += s.per_class[c];
  }
  s.micro_top5 = f1(t5, p5, f5);
  s.macro_top5 = m5 / 5;
  return s;
}

}  // namespace medscribe::eval
