// The plan of one synthetic imaging encounter: who, where, when, what the image shows, the labs,
// the codes, who reads it, and what the dictation says. Everything the writers (DICOM, FHIR, notes,
// audio, truth) need comes from this plan, so they agree with each other by construction.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/civil_time.h"
#include "common/rng.h"
#include "synth/findings.h"
#include "synth/history.h"
#include "synth/people.h"
#include "synth/render.h"

namespace medscribe::synth {

struct Code {
  std::string system;
  std::string code;
  std::string display;
};

inline constexpr std::string_view kIcd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";
inline constexpr std::string_view kCpt = "http://www.ama-assn.org/go/cpt";
inline constexpr std::string_view kLoinc = "http://loinc.org";
inline constexpr std::string_view kSnomed = "http://snomed.info/sct";

struct LabSpec {
  std::string_view key;      // "wbc"
  std::string_view loinc;    // "6690-2"
  std::string_view display;  // LOINC long common name
  std::string_view unit;     // human unit
  std::string_view ucum;     // UCUM code
  double low, high;          // reference range
  int decimals;
  bool vital_sign;  // SpO2 and temperature are vital signs, the rest laboratory
};

// The ten analytes the cohort reports.
const std::vector<LabSpec>& LabSpecs();

// Why the study was ordered. `suspected` is what the ordering clinician asked about; whether
// the image shows it is known only to the truth file.
enum class IndicationKind {
  kSuspected,  // the clinician suspects the finding the image shows ("Evaluate for pneumonia.")
  kRuleOut,    // the clinician asks about a finding the image does not show
  kRoutine,    // no specific suspicion: line check, pre-op, follow-up, daily ICU film, symptoms
};
std::string_view IndicationKindName(IndicationKind k);  // "suspected", "rule_out", "routine"

struct LabResult {
  const LabSpec* spec = nullptr;
  double value = 0;
  char flag = 'N';  // 'H' high, 'L' low, 'N' normal
};

struct Encounter {
  int index = 0;
  std::string id;   // "enc-000001" (FHIR logical id; not PHI)
  int patient = 0;  // index into the cohort's patients
  int visit = 0;    // 0 for the patient's first encounter in the cohort
  Department department = Department::kED;
  DateTime start;        // encounter start
  DateTime study_time;   // image acquisition
  DateTime report_time;  // historical report signed
  DateTime labs_time;
  std::string accession;  // "ACC" + digits
  bool accession_in_dicom = true;
  int device = 0;          // DeviceProfile index
  bool burned_in = false;  // BurnedInAnnotation = YES, text drawn into the pixels
  Anatomy anatomy;
  std::vector<Finding> findings;
  std::vector<LabResult> labs;
  // Known before the study is read: the patient's problem list and the order.
  std::vector<Problem> history;
  IndicationKind indication = IndicationKind::kRoutine;
  FindingType suspected = FindingType::kConsolidation;  // meaningful unless kRoutine
  Code working_diagnosis;            // the order's reason code (a symptom, ICD-10-CM)
  std::string priority = "routine";  // the order's priority: "stat", "urgent" or "routine"
  // Coded after the report is signed: the encounter's final diagnoses (for billing and the
  // coding rules; never part of what a model reads) and the procedures of the encounter.
  std::vector<Code> conditions;
  std::vector<Code> procedures;
  bool coding_discrepancy = false;   // a final diagnosis code disagrees with the image
  std::string discrepancy;           // what disagrees (truth only)
  int radiologist = 0;               // index into the cohort's radiologists; style follows it
  int referring = 0;                 // index into the cohort's referring physicians
  std::string reason;                // reason for exam, English, PHI-free
  bool note_zh = false;              // note written in Traditional Chinese
  int prior = -1;                    // index of the patient's previous encounter, -1 if none
  Change change = Change::kNoPrior;  // of the primary finding against the prior study
  bool urgent = false;               // dictation asks for the result to be called in
  std::string voice;                 // espeak-ng voice, e.g. "en-us+f3"
  int words_per_minute = 160;
  double noise_snr_db = 0;  // 0: clean; otherwise white noise at this SNR
  std::string study_uid, series_uid, sop_uid;

  // First finding that is not a support device; nullptr for a normal study (devices only).
  const Finding* Primary() const;
  bool Has(FindingType t) const;
  const LabResult* Lab(std::string_view key) const;
  std::string AnnotatorId() const;
};

// Samples findings for a department and history with the co-occurrence rules applied,
// positioned in `a`.
std::vector<Finding> SampleFindings(Department d, const Anatomy& a,
                                    const std::vector<Problem>& history, Rng& rng);
// Samples the labs drawn for the encounter from overlapping distributions, as in practice:
// the findings shift them (pneumonia: leukocytosis, fever, CRP in most but not all cases; edema:
// BNP; pneumothorax, effusion, pneumonia: lower SpO2) and so do age, sex, the history (heart
// failure and kidney disease raise BNP, COPD lowers SpO2, ...) and causes outside the chest
// (raised CRP or WBC in some normal films). Which labs were drawn follows the department and the
// clinician's suspicion (e.indication, e.suspected), not the image.
std::vector<LabResult> SampleLabs(const Encounter& e, int age, char sex, Rng& rng);
// Multiplies the values of the labs named in `factors` (by key) and sets their flags again.
void ScaleLabs(std::vector<LabResult>& labs, const std::map<std::string, double>& factors);
// The final ICD-10-CM diagnoses for the findings (coded after the report); with `discrepant`, one
// code is deliberately wrong (an extra diagnosis the image does not support, or a missing one) and
// `what` says which.
std::vector<Code> ConditionsFor(const std::vector<Finding>& findings, bool discrepant, Rng& rng,
                                std::string* what);
// CPT procedures: the radiograph, and device insertions performed in this encounter.
std::vector<Code> ProceduresFor(const std::vector<Finding>& findings, Rng& rng);

// A 2.25.<decimal> UID (ITU-T X.667 derived) from the seed and a name; unique per input.
std::string MakeUid(uint64_t seed, std::string_view kind, int index);

}  // namespace medscribe::synth
