// The medical history of a synthetic patient: the chronic conditions on the problem list, each
// with an onset years before the patient's first study in the cohort.
//
// The history exists before any study is read, so it may enter the model's prompt. It changes
// the prior probability of related findings (heart failure: edema, cardiomegaly, effusion; lung
// cancer: mass, nodule, effusion; ...) and the distributions of labs (heart failure and chronic
// kidney disease raise BNP; COPD lowers SpO2), without deciding either: a patient with heart
// failure often has a normal film, and most edema occurs without a heart-failure code.
//
// Thread safety: pure functions of their inputs.
#pragma once

#include <string_view>
#include <vector>

#include "common/civil_time.h"
#include "synth/findings.h"

namespace medscribe::synth {

enum class Chronic {
  kHypertension,
  kDiabetes,
  kHeartFailure,
  kCoronaryDisease,
  kAtrialFibrillation,
  kCopd,
  kAsthma,
  kKidneyDisease,
  kLungCancer,
  kBreastCancer,
  kFormerSmoker,
};
inline constexpr int kNumChronic = 11;

struct Problem {
  Chronic condition = Chronic::kHypertension;
  Date onset;
};

// ICD-10-CM code and display of a chronic condition ("I50.9", "Heart failure, unspecified").
std::string_view ChronicCode(Chronic c);
std::string_view ChronicDisplay(Chronic c);
// A short English phrase for notes ("heart failure").
std::string_view ChronicPhrase(Chronic c);

// The problem list of patient `index` (its own random stream), for a patient of `age` years
// whose first encounter in the cohort is on `first_visit`. Prevalence rises with age.
std::vector<Problem> MakeHistory(uint64_t seed, int index, int age, char sex,
                                 const Date& first_visit);

bool HasProblem(const std::vector<Problem>& history, Chronic c);

// Factor (>= 1) by which the history multiplies the prior probability of finding `t`.
double HistoryFactor(const std::vector<Problem>& history, FindingType t);

}  // namespace medscribe::synth
