#include "synth/order.h"

#include <fmt/format.h>

namespace medscribe::synth {
namespace {

struct Presentation {
  const char* text;  // the symptom sentence
  const char* code;  // ICD-10-CM of the symptom (the working diagnosis)
  const char* display;
};

constexpr Presentation kCough{"Cough and fever.", "R05.9", "Cough, unspecified"};
constexpr Presentation kProductive{"Productive cough for several days.", "R05.9",
                                   "Cough, unspecified"};
constexpr Presentation kFever{"Fever and shortness of breath.", "R50.9", "Fever, unspecified"};
constexpr Presentation kDyspnea{"Shortness of breath.", "R06.02", "Shortness of breath"};
constexpr Presentation kOrthopnea{"Orthopnea and leg swelling.", "R06.01", "Orthopnea"};
constexpr Presentation kBreathSounds{"Decreased breath sounds at the base.", "R09.89",
                                     "Other specified symptoms and signs involving the "
                                     "circulatory and respiratory systems"};
constexpr Presentation kChestPain{"Chest pain.", "R07.9", "Chest pain, unspecified"};
constexpr Presentation kPleuritic{"Sudden onset pleuritic chest pain.", "R07.81", "Pleurodynia"};
constexpr Presentation kTrauma{"Fall with chest wall pain.", "S29.9XXA",
                               "Unspecified injury of thorax, initial encounter"};
constexpr Presentation kHypoxemia{"Hypoxemia.", "R09.02", "Hypoxemia"};
constexpr Presentation kWeightLoss{"Weight loss and hemoptysis.", "R04.2", "Hemoptysis"};
constexpr Presentation kFollowUp{"Follow-up imaging.", "Z09",
                                 "Encounter for follow-up examination after completed treatment "
                                 "for conditions other than malignant neoplasm"};
constexpr Presentation kStaging{"Known malignancy.", "Z08",
                                "Encounter for follow-up examination after completed treatment "
                                "for malignant neoplasm"};
constexpr Presentation kPreop{"Preoperative evaluation.", "Z01.818",
                              "Encounter for other preprocedural examination"};
constexpr Presentation kAnnual{"Annual physical examination.", "Z00.00",
                               "Encounter for general adult medical examination without "
                               "abnormal findings"};
constexpr Presentation kPalpitations{"Palpitations.", "R00.2", "Palpitations"};
constexpr Presentation kDailyIcu{"Daily ICU film.", "Z99.11",
                                 "Dependence on respirator [ventilator] status"};
constexpr Presentation kLine{"Line placement.", "Z45.2",
                             "Encounter for adjustment and management of vascular access device"};
constexpr Presentation kTube{"Intubated patient.", "Z99.11",
                             "Dependence on respirator [ventilator] status"};
constexpr Presentation kChronicCough{"Chronic cough.", "R05.3", "Chronic cough"};

// What a clinician who suspects `t` writes: a presentation and a question.
struct Suspicion {
  std::vector<Presentation> presentations;
  std::vector<const char*> questions;
};

Suspicion SuspicionOf(FindingType t) {
  switch (t) {
    case FindingType::kConsolidation:
      return {{kCough, kProductive, kFever, kHypoxemia},
              {"Evaluate for pneumonia.", "Rule out pneumonia.", "Pneumonia?"}};
    case FindingType::kEdema:
      return {{kDyspnea, kOrthopnea, kHypoxemia},
              {"Evaluate for congestive heart failure.", "Rule out pulmonary edema.",
               "Fluid overload?"}};
    case FindingType::kCardiomegaly:
      return {{kDyspnea, kOrthopnea, kPalpitations},
              {"Evaluate heart size.", "Evaluate for congestive heart failure."}};
    case FindingType::kPleuralEffusion:
      return {{kDyspnea, kBreathSounds}, {"Evaluate for pleural effusion.", "Effusion?"}};
    case FindingType::kPneumothorax:
      return {{kPleuritic, kTrauma, kDyspnea},
              {"Evaluate for pneumothorax.", "Rule out pneumothorax."}};
    case FindingType::kRibFracture:
      return {{kTrauma, kChestPain}, {"Evaluate for rib fracture.", "Rule out fracture."}};
    case FindingType::kNodule:
      return {{kFollowUp, kChronicCough},
              {"Follow-up of pulmonary nodule.", "Evaluate for nodule."}};
    case FindingType::kMass:
      return {{kWeightLoss, kStaging}, {"Evaluate for lung mass.", "Restaging."}};
    case FindingType::kAtelectasis:
      return {{kHypoxemia, kDyspnea},
              {"Postoperative. Evaluate for atelectasis.", "Evaluate for atelectasis."}};
    default:
      break;
  }
  return {{kDyspnea}, {"Evaluate."}};
}

// Findings a clinician of the department commonly asks to rule out, with weights.
std::vector<std::pair<FindingType, double>> RuleOutCandidates(Department d) {
  using F = FindingType;
  switch (d) {
    case Department::kED:
      return {{F::kConsolidation, 3},
              {F::kPneumothorax, 2},
              {F::kRibFracture, 1},
              {F::kEdema, 1},
              {F::kPleuralEffusion, 1}};
    case Department::kICU:
      return {{F::kConsolidation, 2},
              {F::kEdema, 2},
              {F::kPleuralEffusion, 2},
              {F::kPneumothorax, 1},
              {F::kAtelectasis, 1}};
    case Department::kCardiology:
      return {{F::kEdema, 3}, {F::kCardiomegaly, 2}, {F::kPleuralEffusion, 2}};
    case Department::kOncology:
      return {{F::kMass, 2}, {F::kPleuralEffusion, 2}, {F::kNodule, 1}, {F::kConsolidation, 1}};
    case Department::kPulmonology:
      return {
          {F::kConsolidation, 2}, {F::kNodule, 2}, {F::kPleuralEffusion, 1}, {F::kPneumothorax, 1}};
    case Department::kOutpatient:
      return {{F::kConsolidation, 2}, {F::kNodule, 1}, {F::kMass, 1}};
  }
  return {{F::kConsolidation, 1}};
}

Presentation RoutinePresentation(const Encounter& e, Rng& rng) {
  const bool tube = e.Has(FindingType::kEndotrachealTube);
  const bool line = e.Has(FindingType::kCentralLine) || e.Has(FindingType::kChestTube);
  if (tube && rng.Bernoulli(0.5)) return kTube;
  if (line && rng.Bernoulli(0.4)) return kLine;
  if (e.visit > 0 && rng.Bernoulli(0.4)) return kFollowUp;
  switch (e.department) {
    case Department::kED:
      return rng.Bernoulli(0.5) ? kChestPain : kDyspnea;
    case Department::kICU:
      return rng.Bernoulli(0.7) ? kDailyIcu : kHypoxemia;
    case Department::kCardiology:
      return rng.Bernoulli(0.5) ? kPalpitations : kPreop;
    case Department::kOncology:
      return kStaging;
    case Department::kPulmonology:
      return rng.Bernoulli(0.6) ? kChronicCough : kFollowUp;
    case Department::kOutpatient:
      return rng.Bernoulli(0.5) ? kPreop : kAnnual;
  }
  return kChestPain;
}

std::string RoutineQuestion(const Presentation& p, Rng& rng) {
  if (std::string_view(p.text) == kTube.text) return "Evaluate endotracheal tube position.";
  if (std::string_view(p.text) == kLine.text) return "Evaluate catheter position.";
  if (std::string_view(p.text) == kDailyIcu.text) return "";
  constexpr const char* kAny[] = {"", "Evaluate.", "Please assess."};
  return rng.Pick(kAny);
}

}  // namespace

void PlanOrder(Encounter& e, Rng& rng) {
  const Finding* primary = e.Primary();
  const double r = rng.Uniform();
  e.indication = IndicationKind::kRoutine;
  if (primary && r < 0.45) {
    e.indication = IndicationKind::kSuspected;
    e.suspected = primary->type;
  } else if (r < (primary ? 0.75 : 0.55)) {
    const auto candidates = RuleOutCandidates(e.department);
    std::vector<double> w;
    for (const auto& c : candidates) w.push_back(c.second);
    for (int attempt = 0; attempt < 5; ++attempt) {
      const FindingType t = candidates[rng.Weighted(w)].first;
      if (e.Has(t)) continue;
      e.indication = IndicationKind::kRuleOut;
      e.suspected = t;
      break;
    }
  }
  Presentation p{};
  std::string question;
  if (e.indication == IndicationKind::kRoutine) {
    p = RoutinePresentation(e, rng);
    question = RoutineQuestion(p, rng);
  } else {
    const Suspicion s = SuspicionOf(e.suspected);
    p = rng.Pick(s.presentations);
    question = rng.Pick(s.questions);
  }
  e.reason = question.empty() ? std::string(p.text) : std::string(p.text) + " " + question;
  e.working_diagnosis = {std::string(kIcd10Cm), p.code, p.display};
  const double u = rng.Uniform();
  switch (e.department) {
    case Department::kED:
      e.priority = u < 0.35 ? "stat" : u < 0.75 ? "urgent" : "routine";
      break;
    case Department::kICU:
      e.priority = u < 0.3 ? "stat" : u < 0.8 ? "urgent" : "routine";
      break;
    default:
      e.priority = u < 0.12 ? "urgent" : "routine";
      break;
  }
}

}  // namespace medscribe::synth
