// The stay's vocabulary: acute problems and their codes, drugs, inpatient analytes.
#include "synth/stay.h"

#include <algorithm>

namespace medscribe::synth {

std::string_view AcuteName(Acute a) {
  constexpr std::string_view kNames[] = {"pneumonia",
                                         "heart_failure",
                                         "copd_exacerbation",
                                         "acute_kidney_injury",
                                         "gi_bleed",
                                         "cellulitis",
                                         "pyelonephritis",
                                         "atrial_fibrillation",
                                         "diabetic_ketoacidosis",
                                         "hypokalemia"};
  return kNames[static_cast<int>(a)];
}

std::string_view KeyAnalyte(Acute a) {
  switch (a) {
    case Acute::kPneumonia:
    case Acute::kCellulitis:
    case Acute::kUrinaryInfection:
      return "wbc";
    case Acute::kHeartFailure:
      return "bnp";
    case Acute::kCopdExacerbation:
      return "spo2";
    case Acute::kKidneyInjury:
      return "creatinine";
    case Acute::kGiBleed:
      return "hemoglobin";
    case Acute::kAtrialFibrillation:
      return "heart_rate";
    case Acute::kHyperglycemia:
      return "glucose";
    case Acute::kHypokalemia:
      return "potassium";
  }
  return "";
}

std::string_view AcutePhrase(Acute a) {
  constexpr std::string_view kPhrases[] = {"community-acquired pneumonia",
                                           "acute on chronic systolic heart failure",
                                           "COPD exacerbation",
                                           "acute kidney injury",
                                           "upper gastrointestinal bleeding",
                                           "cellulitis of the lower leg",
                                           "acute pyelonephritis",
                                           "atrial fibrillation with rapid ventricular response",
                                           "diabetic ketoacidosis",
                                           "hypokalemia"};
  return kPhrases[static_cast<int>(a)];
}

Code AcuteCode(Acute a) {
  switch (a) {
    case Acute::kPneumonia:
      return {std::string(kIcd10Cm), "J18.9", "Pneumonia, unspecified organism"};
    case Acute::kHeartFailure:
      return {std::string(kIcd10Cm), "I50.23",
              "Acute on chronic systolic (congestive) heart failure"};
    case Acute::kCopdExacerbation:
      return {std::string(kIcd10Cm), "J44.1",
              "Chronic obstructive pulmonary disease with (acute) exacerbation"};
    case Acute::kKidneyInjury:
      return {std::string(kIcd10Cm), "N17.9", "Acute kidney failure, unspecified"};
    case Acute::kGiBleed:
      return {std::string(kIcd10Cm), "K92.2", "Gastrointestinal hemorrhage, unspecified"};
    case Acute::kCellulitis:
      return {std::string(kIcd10Cm), "L03.119", "Cellulitis of unspecified part of limb"};
    case Acute::kUrinaryInfection:
      return {std::string(kIcd10Cm), "N10", "Acute pyelonephritis"};
    case Acute::kAtrialFibrillation:
      return {std::string(kIcd10Cm), "I48.91", "Unspecified atrial fibrillation"};
    case Acute::kHyperglycemia:
      return {std::string(kIcd10Cm), "E11.10",
              "Type 2 diabetes mellitus with ketoacidosis without coma"};
    case Acute::kHypokalemia:
      return {std::string(kIcd10Cm), "E87.6", "Hypokalemia"};
  }
  return {};
}

std::string_view OutcomeName(Outcome o) {
  constexpr std::string_view kNames[] = {"resolved", "improved", "stable"};
  return kNames[static_cast<int>(o)];
}

std::string_view MedChangeName(MedChange c) {
  constexpr std::string_view kNames[] = {"new", "changed", "continued", "stopped"};
  return kNames[static_cast<int>(c)];
}

const std::vector<Drug>& Drugs() {
  static const std::vector<Drug> kDrugs = {
      {"lisinopril", "lisinopril", "29046"},
      {"amlodipine", "amlodipine", "17767"},
      {"metformin", "metformin", "6809"},
      {"insulin_glargine", "insulin glargine", "274783"},
      {"insulin_lispro", "insulin lispro", "86009"},
      {"insulin_regular", "regular insulin", "5856"},
      {"furosemide", "furosemide", "4603"},
      {"carvedilol", "carvedilol", "20352"},
      {"aspirin", "aspirin", "1191"},
      {"atorvastatin", "atorvastatin", "83367"},
      {"apixaban", "apixaban", "1364430"},
      {"metoprolol", "metoprolol succinate", "6918"},
      {"diltiazem", "diltiazem", "3443"},
      {"tiotropium", "tiotropium", "69120"},
      {"albuterol", "albuterol", "435"},
      {"tamoxifen", "tamoxifen", "10324"},
      {"omeprazole", "omeprazole", "7646"},
      {"pantoprazole", "pantoprazole", "40790"},
      {"ceftriaxone", "ceftriaxone", "2193"},
      {"azithromycin", "azithromycin", "18631"},
      {"amoxicillin", "amoxicillin", "723"},
      {"levofloxacin", "levofloxacin", "82122"},
      {"cefazolin", "cefazolin", "2180"},
      {"cephalexin", "cephalexin", "2231"},
      {"vancomycin", "vancomycin", "11124"},
      {"doxycycline", "doxycycline", "3640"},
      {"ciprofloxacin", "ciprofloxacin", "2551"},
      {"methylprednisolone", "methylprednisolone", "6902"},
      {"prednisone", "prednisone", "8640"},
      {"enoxaparin", "enoxaparin", "67108"},
      {"sodium_chloride", "sodium chloride 0.9%", "9863"},
      {"potassium_chloride", "potassium chloride", "8591"},
      {"acetaminophen", "acetaminophen", "161"},
  };
  return kDrugs;
}

const Drug& DrugByKey(std::string_view key) {
  for (const Drug& d : Drugs())
    if (d.key == key) return d;
  return Drugs().front();  // unreachable for the keys this file uses
}

const std::vector<LabSpec>& StayLabSpecs() {
  static const std::vector<LabSpec> kSpecs = {
      {"wbc", "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10^3/uL", "10*3/uL",
       4.0, 11.0, 1, false},
      {"hemoglobin", "718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 12.0, 17.5, 1,
       false},
      {"platelets", "777-3", "Platelets [#/volume] in Blood by Automated count", "10^3/uL",
       "10*3/uL", 150, 400, 0, false},
      {"sodium", "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 135, 145,
       0, false},
      {"potassium", "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L",
       3.5, 5.1, 1, false},
      {"bicarbonate", "1963-8", "Bicarbonate [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L",
       22, 29, 0, false},
      {"creatinine", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0.6,
       1.3, 2, false},
      {"glucose", "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 70, 140,
       0, false},
      {"crp", "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", "mg/L", 0.0,
       5.0, 1, false},
      {"bnp", "30934-4", "Natriuretic peptide B [Mass/volume] in Serum or Plasma", "pg/mL", "pg/mL",
       0.0, 100.0, 0, false},
      {"troponin", "10839-9", "Troponin I.cardiac [Mass/volume] in Serum or Plasma", "ng/mL",
       "ng/mL", 0.0, 0.04, 2, false},
      {"lactate", "2524-7", "Lactate [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 0.5,
       2.0, 1, false},
      {"hba1c", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 4.0, 5.6, 1, false},
      {"heart_rate", "8867-4", "Heart rate", "/min", "/min", 60, 100, 0, true},
      {"temperature", "8310-5", "Body temperature", "C", "Cel", 36.1, 37.8, 1, true},
      {"spo2", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%", 95.0,
       100.0, 0, true},
      {"resp_rate", "9279-1", "Respiratory rate", "/min", "/min", 12, 20, 0, true},
      {"systolic_bp", "8480-6", "Systolic blood pressure", "mm[Hg]", "mm[Hg]", 90, 140, 0, true},
  };
  return kSpecs;
}

const LabPoint& LabSeries::Worst() const {
  const LabPoint* worst = &points.front();
  double score = -1;
  for (const LabPoint& p : points) {
    const double width = std::max(spec->high - spec->low, 1e-6);
    const double out = p.value > spec->high  ? (p.value - spec->high) / width
                       : p.value < spec->low ? (spec->low - p.value) / width
                                             : 0;
    if (out > score) score = out, worst = &p;
  }
  return *worst;
}

}  // namespace medscribe::synth
