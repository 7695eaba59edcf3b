// The plan of one synthetic inpatient stay: why the patient was admitted, each problem with its
// treatment, course and outcome, the daily labs and vital signs, the medications before, during
// and after the stay (with every change and its reason), procedures, consults, imaging,
// allergies, disposition, follow-up and results still pending at discharge.
//
// Everything the writers (FHIR, notes, the discharge summary, truth) need comes from this plan, so
// they agree with each other by construction: a drug the summary lists was ordered in the record,
// a lab trend the course states is the series the record holds.
//
// Thread safety: pure functions of their inputs; the tables are immutable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/civil_time.h"
#include "synth/encounter.h"
#include "synth/history.h"
#include "synth/people.h"

namespace medscribe::synth {

inline constexpr std::string_view kRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";

// Acute problems an admission treats.
enum class Acute {
  kPneumonia,
  kHeartFailure,  // acute on chronic heart failure
  kCopdExacerbation,
  kKidneyInjury,  // acute kidney injury
  kGiBleed,       // upper gastrointestinal bleeding
  kCellulitis,
  kUrinaryInfection,    // pyelonephritis / complicated urinary tract infection
  kAtrialFibrillation,  // with rapid ventricular response
  kHyperglycemia,       // diabetic ketoacidosis
  kHypokalemia,         // only as a secondary problem
};
inline constexpr int kNumAcute = 10;

std::string_view AcuteName(Acute a);  // "pneumonia" (truth and file key)
// The analyte whose course a problem's summary quotes (StayLabSpecs() key): "wbc" for
// pneumonia, "bnp" for heart failure, ...
std::string_view KeyAnalyte(Acute a);
std::string_view AcutePhrase(Acute a);  // "community-acquired pneumonia"
Code AcuteCode(Acute a);                // ICD-10-CM

enum class Outcome { kResolved, kImproved, kStable };
std::string_view OutcomeName(Outcome o);  // "resolved", "improved", "stable"

// How a discharge medication differs from the medication list before admission.
enum class MedChange { kNew, kChanged, kContinued, kStopped };
std::string_view MedChangeName(MedChange c);  // "new", "changed", "continued", "stopped"

struct Drug {
  std::string_view key;     // "furosemide"
  std::string_view name;    // display name, lower case: "furosemide"
  std::string_view rxnorm;  // RxNorm ingredient concept (TTY IN)
};
// The drugs of the cohort. Every drug a stay names is one of these.
const std::vector<Drug>& Drugs();
// REQUIRES: `key` names a drug of Drugs().
const Drug& DrugByKey(std::string_view key);

// One medication order. Inpatient orders start and stop on hospital days (0: the day of
// admission); home medications have start_day -1.
struct MedOrder {
  const Drug* drug = nullptr;
  std::string dose;       // "40 mg"
  std::string route;      // "oral", "intravenous", "inhaled", "subcutaneous"
  std::string frequency;  // "daily", "twice daily", "every 8 hours", ...
  int start_day = -1;
  int stop_day = -1;  // last day given; -1: continues past discharge
  int problem = -1;   // index into Stay::problems it treats
};

// A line of the discharge medication list.
struct DischargeMed {
  const Drug* drug = nullptr;
  std::string dose, route, frequency;
  MedChange change = MedChange::kContinued;
  std::string previous;  // kChanged: the dose before ("20 mg daily"); kStopped: the home dose
  std::string reason;    // why it is new, changed or stopped (English, PHI-free)
  int days_left = 0;     // a course to finish: days after discharge; 0: no end date
  int problem = -1;      // index into Stay::problems, -1: a home medication
  // kNew and kChanged: the hospital day the order at this dose began (it continues past
  // discharge); otherwise -1.
  int start_day = -1;
};

struct StayProblem {
  bool acute = true;
  Acute kind = Acute::kPneumonia;            // when acute
  Chronic chronic = Chronic::kHypertension;  // when not
  bool principal = false;
  Outcome outcome = Outcome::kResolved;
  Code code;
  std::string phrase;  // "community-acquired pneumonia", "type 2 diabetes"
  std::string course;  // canonical one-paragraph course (English; facts of the plan)
};

// Inpatient analytes, beside the radiology cohort's LabSpecs().
const std::vector<LabSpec>& StayLabSpecs();

struct LabPoint {
  int day = 0;
  double value = 0;
  char flag = 'N';
};
struct LabSeries {
  const LabSpec* spec = nullptr;
  std::vector<LabPoint> points;  // by day, increasing
  const LabPoint& First() const { return points.front(); }
  const LabPoint& Last() const { return points.back(); }
  // The most abnormal point (farthest outside the reference range, relative to it).
  const LabPoint& Worst() const;
};

struct StayProcedure {
  Code code;           // CPT
  std::string phrase;  // "transthoracic echocardiogram"
  int day = 0;
  std::string result;  // one sentence, English
  int problem = -1;
};

struct Consult {
  std::string specialty;  // "cardiology"
  int day = 0;
  int consultant = 0;  // index into the cohort's referring clinicians
  std::string recommendation;
  int problem = -1;
};

struct Imaging {
  Code code;          // CPT
  std::string title;  // "XR Chest 2 views"
  int day = 0;
  std::string impression;
  int problem = -1;
};

struct Allergy {
  std::string substance;  // "penicillin"
  std::string code;       // RxNorm ingredient
  std::string reaction;   // "hives"
};

struct FollowUp {
  std::string with;  // "primary care", "cardiology"
  int within_days = 7;
  std::string purpose;  // "repeat basic metabolic panel"
};

// A result not final at discharge; the record holds it as an Observation that is "preliminary"
// (with its interim result) or "registered" (no result yet).
struct Pending {
  std::string test;     // "blood cultures"
  Code code;            // LOINC
  int day = 0;          // drawn on
  std::string interim;  // "No growth at 48 hours"; "" when nothing is reported yet
};

struct Stay {
  int index = 0;
  std::string id;   // "stay-000001" (FHIR Encounter id; not PHI)
  int patient = 0;  // index into the cohort's patients
  DateTime admitted;
  DateTime discharged;
  int days = 2;                 // length of stay in midnights (2..14); hospital days are 0..days
  int attending = 0;            // index into the cohort's referring clinicians (hospitalists)
  std::string chief_complaint;  // English, PHI-free
  std::vector<StayProblem> problems;  // principal first, then acute, then chronic
  std::vector<MedOrder> home_meds;
  std::vector<MedOrder> inpatient_meds;
  std::vector<DischargeMed> discharge_meds;  // home and new, in list order; stopped included
  std::vector<LabSeries> labs;
  std::vector<LabSeries> vitals;
  std::vector<StayProcedure> procedures;
  std::vector<Consult> consults;
  std::vector<Imaging> imaging;
  std::vector<Allergy> allergies;  // empty: no known drug allergies
  std::string disposition;         // "home", "home with home health", "skilled nursing facility"
  std::string condition;           // "stable", "improved", "fair"
  std::vector<FollowUp> follow_up;
  std::vector<Pending> pending;
  bool notes_zh = false;  // progress notes written in Traditional Chinese
  bool dictated = false;  // a dictated discharge note exists
  std::string voice;      // espeak-ng voice of the dictation
  int words_per_minute = 160;

  DateTime DayTime(int day, int hour, int minute = 0) const;
};

// Plans stay `index` of patient `patient` (age and history as of admission) from its own
// random stream. `clinicians` is the number of the cohort's referring clinicians.
Stay PlanStay(uint64_t seed, int index, int patient, const Patient& p, const Date& admission,
              const std::vector<Problem>& history, int clinicians,
              const std::vector<std::string>& voices);

}  // namespace medscribe::synth
