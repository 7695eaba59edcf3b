// A rule-based labeler of the 14 CheXpert observations in a chest radiograph report, aware of
// negation and uncertainty (NegEx-style: a negation or uncertainty cue before the mention in the
// same sentence, within a few words, or a post-cue after it).
//
// Per class: kPositive, kNegative, kUncertain or kAbsent. As the field computes clinical efficacy
// (CheXpert labeler on reference and generated reports), uncertain counts as positive and
// negative as absent; "No Finding" is positive when no class other than Support Devices is.
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
// The five classes of the "top-5" figures: Atelectasis, Cardiomegaly, Consolidation, Edema,
// Pleural Effusion.
inline constexpr int kTop5[5] = {8, 2, 6, 5, 10};

enum class Mention { kAbsent, kPositive, kNegative, kUncertain };

struct Labels {
  std::array<Mention, kNumClasses> mention{};
  // Binary for F1: positive or uncertain.
  bool positive(int c) const {
    return mention[c] == Mention::kPositive || mention[c] == Mention::kUncertain;
  }
  // The side words ("left", "right", "bilateral") of the first positive sentence of each class.
  std::array<std::string, kNumClasses> side;
};

Labels LabelReport(std::string_view report);

struct F1Scores {
  double micro = 0, macro = 0, micro_top5 = 0, macro_top5 = 0;
  std::array<double, kNumClasses> per_class{};
};
F1Scores ClinicalF1(const std::vector<Labels>& generated, const std::vector<Labels>& reference);

}  // namespace medscribe::eval
