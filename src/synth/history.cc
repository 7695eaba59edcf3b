#include "synth/history.h"

#include <algorithm>
#include <cmath>

#include "common/rng.h"

namespace medscribe::synth {
namespace {

struct ChronicSpec {
  std::string_view code, display, phrase;
  double at_60;       // prevalence at age 60
  double per_decade;  // multiplier per decade of age above (or divided below) 60
};

constexpr ChronicSpec kSpecs[kNumChronic] = {
    {"I10", "Essential (primary) hypertension", "hypertension", 0.40, 1.25},
    {"E11.9", "Type 2 diabetes mellitus without complications", "type 2 diabetes", 0.18, 1.2},
    {"I50.9", "Heart failure, unspecified", "heart failure", 0.08, 1.6},
    {"I25.10", "Atherosclerotic heart disease of native coronary artery without angina pectoris",
     "coronary artery disease", 0.12, 1.4},
    {"I48.91", "Unspecified atrial fibrillation", "atrial fibrillation", 0.07, 1.7},
    {"J44.9", "Chronic obstructive pulmonary disease, unspecified", "COPD", 0.10, 1.3},
    {"J45.909", "Unspecified asthma, uncomplicated", "asthma", 0.07, 0.9},
    {"N18.3", "Chronic kidney disease, stage 3 (moderate)", "chronic kidney disease", 0.09, 1.5},
    {"C34.90", "Malignant neoplasm of unspecified part of unspecified bronchus or lung",
     "lung cancer", 0.025, 1.4},
    {"Z85.3", "Personal history of malignant neoplasm of breast", "breast cancer", 0.04, 1.3},
    {"Z87.891", "Personal history of nicotine dependence", "former smoker", 0.22, 1.05},
};

const ChronicSpec& Spec(Chronic c) { return kSpecs[static_cast<int>(c)]; }

}  // namespace

std::string_view ChronicCode(Chronic c) { return Spec(c).code; }
std::string_view ChronicDisplay(Chronic c) { return Spec(c).display; }
std::string_view ChronicPhrase(Chronic c) { return Spec(c).phrase; }

std::vector<Problem> MakeHistory(uint64_t seed, int index, int age, char sex,
                                 const Date& first_visit) {
  Rng rng = Rng::Stream(seed, HashString("history"), index);
  std::vector<Problem> out;
  const double decades = (age - 60) / 10.0;
  for (int i = 0; i < kNumChronic; ++i) {
    const Chronic c = static_cast<Chronic>(i);
    double p = Spec(c).at_60 * std::pow(Spec(c).per_decade, decades);
    if (c == Chronic::kBreastCancer && sex != 'F') p = 0;  // rare in men; left out
    // Conditions that travel together: heart failure with hypertension, COPD with smoking.
    if (c == Chronic::kHeartFailure && HasProblem(out, Chronic::kHypertension)) p *= 1.5;
    if (c == Chronic::kCopd && HasProblem(out, Chronic::kFormerSmoker)) p *= 2.5;
    if (c == Chronic::kLungCancer && HasProblem(out, Chronic::kFormerSmoker)) p *= 2.5;
    if (!rng.Bernoulli(std::min(0.8, p))) continue;
    const long years_before = rng.UniformInt(1, std::max(1, std::min(25, age - 18)));
    out.push_back({c, AddDays(first_visit, -365 * years_before - rng.UniformInt(0, 364))});
  }
  return out;
}

bool HasProblem(const std::vector<Problem>& history, Chronic c) {
  return std::any_of(history.begin(), history.end(),
                     [c](const Problem& p) { return p.condition == c; });
}

double HistoryFactor(const std::vector<Problem>& h, FindingType t) {
  double f = 1.0;
  auto has = [&](Chronic c) { return HasProblem(h, c); };
  switch (t) {
    case FindingType::kCardiomegaly:
      if (has(Chronic::kHeartFailure)) f *= 2.0;
      if (has(Chronic::kCoronaryDisease) || has(Chronic::kAtrialFibrillation)) f *= 1.3;
      break;
    case FindingType::kEdema:
      if (has(Chronic::kHeartFailure)) f *= 2.0;
      if (has(Chronic::kKidneyDisease)) f *= 1.4;
      break;
    case FindingType::kPleuralEffusion:
      if (has(Chronic::kHeartFailure) || has(Chronic::kLungCancer)) f *= 1.5;
      if (has(Chronic::kBreastCancer) || has(Chronic::kKidneyDisease)) f *= 1.3;
      break;
    case FindingType::kConsolidation:
      if (has(Chronic::kCopd)) f *= 1.3;
      break;
    case FindingType::kPneumothorax:
      if (has(Chronic::kCopd)) f *= 1.5;
      break;
    case FindingType::kNodule:
      if (has(Chronic::kLungCancer)) f *= 2.0;
      if (has(Chronic::kBreastCancer) || has(Chronic::kFormerSmoker)) f *= 1.3;
      break;
    case FindingType::kMass:
      if (has(Chronic::kLungCancer)) f *= 3.0;
      if (has(Chronic::kFormerSmoker)) f *= 1.4;
      break;
    case FindingType::kPacemaker:
      if (has(Chronic::kAtrialFibrillation) || has(Chronic::kHeartFailure)) f *= 1.5;
      break;
    default:
      break;
  }
  return f;
}

}  // namespace medscribe::synth
