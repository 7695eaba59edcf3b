// The clinical vocabulary of the synthetic cohort: findings, their attributes, departments.
//
// A Finding is what a radiologist would name on a chest radiograph, with laterality, zone and
// severity, plus the measurements that the renderer draws and the report quotes (size in mm for
// nodules and masses, cardiothoracic ratio for cardiomegaly, rib number for fractures).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace medscribe::synth {

enum class FindingType {
  kCardiomegaly,
  kPleuralEffusion,
  kConsolidation,
  kEdema,
  kPneumothorax,
  kNodule,
  kMass,
  kAtelectasis,
  kRibFracture,
  kEndotrachealTube,
  kCentralLine,
  kPacemaker,
  kChestTube,
};
inline constexpr int kNumFindingTypes = 13;

enum class Side { kNone, kRight, kLeft, kBilateral };
enum class Zone { kNone, kUpper, kMiddle, kLower };
enum class Severity { kNone, kMild, kModerate, kSevere };

enum class Department { kED, kICU, kCardiology, kOncology, kPulmonology, kOutpatient };
inline constexpr int kNumDepartments = 6;

// Change against the prior study, known only from the dictation.
enum class Change { kNoPrior, kNew, kIncreased, kDecreased, kUnchanged };

struct Finding {
  FindingType type = FindingType::kNodule;
  Side side = Side::kNone;
  Zone zone = Zone::kNone;
  Severity severity = Severity::kNone;
  double size_mm = 0;   // nodule, mass, pneumothorax apical distance
  double ctr = 0;       // cardiomegaly: cardiothoracic ratio
  int rib = 0;          // rib fracture: posterior rib number (1-based)
  double u = 0, v = 0;  // lesion centre in normalized image coordinates (renderer), 0 if n/a
};

std::string_view FindingName(FindingType t);   // "pleural_effusion"
std::string_view FindingLabel(FindingType t);  // "pleural effusion"
bool IsSupportDevice(FindingType t);
std::string_view SideName(Side s);               // "right", "left", "bilateral", ""
std::string_view ZoneName(Zone z);               // "upper", "middle", "lower", ""
std::string_view SeverityName(Severity s);       // "mild", "moderate", "severe", ""
std::string_view DepartmentName(Department d);   // "ED"
std::string_view DepartmentLabel(Department d);  // "Emergency Department"
std::string_view ChangeName(Change c);           // "increased"

// Prevalence (probability that a study of this department shows the finding before the
// co-occurrence rules apply). Rows: departments; columns: FindingType.
double BasePrevalence(Department d, FindingType t);

}  // namespace medscribe::synth
