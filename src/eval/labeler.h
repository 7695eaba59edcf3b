// A rule-based labeler of the 14 CheXpert observations in a chest radiograph report, aware of
// sections, negation and uncertainty.
//
// Sections: only what the radiologist observed counts: FINDINGS, IMPRESSION (CONCLUSION) and
// text under no header. INDICATION, HISTORY, REASON, COMPARISON, TECHNIQUE, EXAMINATION and
// RECOMMENDATION text never produces a label ("evaluate for pneumonia" is a question).
//
// Mentions follow CheXpert's phrases, with its "unmention" exceptions (a "pleural line" or
// "Kerley B lines" is not a support device, a "nodular opacity" is a lesion, not a lung opacity).
// Negation and uncertainty are NegEx-style: a cue before the mention in the same sentence within
// six words and not past a scope terminator ("but", "however", "which", ...), or a post-cue
// within five words after it.
//
// Per class: kPositive, kNegative, kUncertain or kAbsent. As the field computes clinical efficacy
// (CheXpert labeler on reference and generated reports), uncertain counts as positive and
// negative as absent; "No Finding" is positive when no class other than Support Devices is.
// Consolidation and Pneumonia imply Lung Opacity.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace medscribe::eval {

inline constexpr int kNumClasses = 14;
inline constexpr const char* kClassNames[kNumClasses] = {
    "No Finding",       "Enlarged Cardiomediastinum",
    "Cardiomegaly",     "Lung Opacity",
    "Lung Lesion",      "Edema",
    "Consolidation",    "Pneumonia",
    "Atelectasis",      "Pneumothorax",
    "Pleural Effusion", "Pleural Other",
    "Fracture",         "Support Devices"};
enum Class {
  kNoFinding = 0,
  kEnlargedCardiomediastinum,
  kCardiomegaly,
  kLungOpacity,
  kLungLesion,
  kEdema,
  kConsolidation,
  kPneumonia,
  kAtelectasis,
  kPneumothorax,
  kPleuralEffusion,
  kPleuralOther,
  kFracture,
  kSupportDevices,
};
// The five classes of the "top-5" figures: Atelectasis, Cardiomegaly, Consolidation, Edema,
// Pleural Effusion.
inline constexpr int kTop5[5] = {kAtelectasis, kCardiomegaly, kConsolidation, kEdema,
                                 kPleuralEffusion};

enum class Mention { kAbsent, kPositive, kNegative, kUncertain };

struct Labels {
  std::array<Mention, kNumClasses> mention{};
  // Binary for F1: positive or uncertain.
  bool positive(int c) const {
    return mention[c] == Mention::kPositive || mention[c] == Mention::kUncertain;
  }
  // The side ("left", "right", "bilateral") of the first positive sentence of each class.
  std::array<std::string, kNumClasses> side;
  // The severity ("mild", "moderate", "severe") stated in the first positive sentence of each
  // class: small/trace/patchy/mildly -> mild, confluent/moderately -> moderate,
  // large/massive/dense/markedly/collapse -> severe; "" when none is stated.
  std::array<std::string, kNumClasses> severity;
  // The zone ("upper", "middle", "lower") of the first positive sentence naming one: upper,
  // apical, apex -> upper; middle, mid -> middle; lower, base, basilar, bibasilar -> lower.
  std::array<std::string, kNumClasses> zone;
};

Labels LabelReport(std::string_view report);

// The sentences of the sections that carry observations (FINDINGS, IMPRESSION, CONCLUSION, text
// under no header), in order, as the labeler sees them.
std::vector<std::string> ObservationSentences(std::string_view report);

// The report without the sections that restate the order (INDICATION, HISTORY, REASON,
// EXAMINATION, TECHNIQUE, PROCEDURE): what the reader states, the comparison included.
std::string StatementText(std::string_view report);

// For each phrase (lower-case words), whether an observation sentence of the report mentions it
// without a negation cue before it: "Endotracheal tube in place" asserts {"endotracheal",
// "tube"}, "No chest tube" does not assert {"chest", "tube"}.
std::vector<bool> AssertedPhrases(std::string_view report,
                                  const std::vector<std::vector<std::string>>& phrases);
// For each phrase, the side word ("right" or "left") nearest before it in the first observation
// sentence that asserts it ("Left chest wall pacemaker" gives {"pacemaker"} "left"); empty where
// that sentence has none before it, "-" where no sentence asserts the phrase.
std::vector<std::string> AssertedPhraseSides(std::string_view report,
                                             const std::vector<std::vector<std::string>>& phrases);

struct F1Scores {
  double micro = 0, macro = 0, micro_top5 = 0, macro_top5 = 0;
  std::array<double, kNumClasses> per_class{}, precision{}, recall{};
  std::array<int, kNumClasses> support{};  // positive references
  std::array<int, kNumClasses> predicted{};
  // A class is present when some reference is positive for it. Macro averages run over present
  // classes only (a class a cohort never produces has no F1); `classes_used` counts them.
  std::array<bool, kNumClasses> present{};
  int classes_used = 0;
};
// Micro F1 counts every class (a false positive of an absent class still counts).
F1Scores ClinicalF1(const std::vector<Labels>& generated, const std::vector<Labels>& reference);

}  // namespace medscribe::eval
