#include "synth/findings.h"

namespace medscribe::synth {
namespace {

constexpr std::string_view kNames[kNumFindingTypes] = {"cardiomegaly",  "pleural_effusion",
                                                       "consolidation", "edema",
                                                       "pneumothorax",  "nodule",
                                                       "mass",          "atelectasis",
                                                       "rib_fracture",  "endotracheal_tube",
                                                       "central_line",  "pacemaker",
                                                       "chest_tube"};
constexpr std::string_view kLabels[kNumFindingTypes] = {
    "cardiomegaly", "pleural effusion",  "consolidation",           "pulmonary edema",
    "pneumothorax", "pulmonary nodule",  "pulmonary mass",          "atelectasis",
    "rib fracture", "endotracheal tube", "central venous catheter", "cardiac pacemaker",
    "chest tube"};

// Per-department prevalence, columns in FindingType order:
//  cardio effus consol edema  ptx   nodule mass  atel  ribfx  ett   cvc   pacer ctube
constexpr double kPrevalence[kNumDepartments][kNumFindingTypes] = {
    {0.10, 0.10, 0.25, 0.06, 0.07, 0.05, 0.02, 0.08, 0.08, 0.02, 0.02, 0.03, 0.02},  // ED
    {0.20, 0.30, 0.25, 0.25, 0.06, 0.03, 0.02, 0.35, 0.03, 0.45, 0.55, 0.06, 0.10},  // ICU
    {0.45, 0.25, 0.05, 0.25, 0.01, 0.04, 0.01, 0.08, 0.01, 0.01, 0.08, 0.30, 0.02},  // Cardiology
    {0.08, 0.25, 0.08, 0.03, 0.02, 0.30, 0.22, 0.12, 0.02, 0.00, 0.25, 0.01, 0.04},  // Oncology
    {0.06, 0.12, 0.30, 0.04, 0.05, 0.20, 0.06, 0.15, 0.01, 0.01, 0.03, 0.01, 0.02},  // Pulmonology
    {0.05, 0.03, 0.04, 0.01, 0.01, 0.08, 0.01, 0.03, 0.02, 0.00, 0.00, 0.03, 0.00},  // Outpatient
};

}  // namespace

std::string_view FindingName(FindingType t) { return kNames[static_cast<int>(t)]; }
std::string_view FindingLabel(FindingType t) { return kLabels[static_cast<int>(t)]; }

bool IsSupportDevice(FindingType t) {
  return t == FindingType::kEndotrachealTube || t == FindingType::kCentralLine ||
         t == FindingType::kPacemaker || t == FindingType::kChestTube;
}

std::string_view SideName(Side s) {
  switch (s) {
    case Side::kRight:
      return "right";
    case Side::kLeft:
      return "left";
    case Side::kBilateral:
      return "bilateral";
    case Side::kNone:
      break;
  }
  return "";
}

std::string_view ZoneName(Zone z) {
  switch (z) {
    case Zone::kUpper:
      return "upper";
    case Zone::kMiddle:
      return "middle";
    case Zone::kLower:
      return "lower";
    case Zone::kNone:
      break;
  }
  return "";
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kMild:
      return "mild";
    case Severity::kModerate:
      return "moderate";
    case Severity::kSevere:
      return "severe";
    case Severity::kNone:
      break;
  }
  return "";
}

std::string_view DepartmentName(Department d) {
  constexpr std::string_view k[] = {"ED",       "ICU",         "CARDIOLOGY",
                                    "ONCOLOGY", "PULMONOLOGY", "OUTPATIENT"};
  return k[static_cast<int>(d)];
}

std::string_view DepartmentLabel(Department d) {
  constexpr std::string_view k[] = {"Emergency Department", "Intensive Care Unit",
                                    "Cardiology",           "Oncology",
                                    "Pulmonology",          "Outpatient Clinic"};
  return k[static_cast<int>(d)];
}

std::string_view ChangeName(Change c) {
  constexpr std::string_view k[] = {"no_prior", "new", "increased", "decreased", "unchanged"};
  return k[static_cast<int>(c)];
}

double BasePrevalence(Department d, FindingType t) {
  return kPrevalence[static_cast<int>(d)][static_cast<int>(t)];
}

}  // namespace medscribe::synth
