// Evaluation of discharge summaries against the truth of a synthetic inpatient stay
// (truth/stays.jsonl, docs/formats/synthetic-cohort.md) and its signed summary:
//   - problem coverage: of the truth's problems, the share whose hospital-course paragraph
//     (the line of HOSPITAL COURSE that names the problem first) states its outcome
//     (resolved; improved/improving; stable/unchanged); "mentioned" counts the problem named
//     anywhere in the summary;
//   - medication reconciliation: the DISCHARGE MEDICATIONS section read as (drug, change) pairs
//     (change from a START/CHANGE/CONTINUE/STOP group heading, a [NEW]/[CHANGED]/[CONTINUED]/
//     [STOPPED] marker, or a leading verb), precision, recall and F1 against the truth's list,
//     micro-averaged over stays; the drug-only F1; and the invented-medication rate: listed drugs
//     the stay's discharge list does not have, over all listed drugs;
//   - unsupported statements: of the summary's statements (non-empty lines of its sections but
//     the header, allergies, condition and disposition), the share that names a drug absent from
//     the stay's record (discharge list and inpatient orders), a problem, procedure or consulting
//     service the stay does not have, a medication with a change that contradicts the truth, or
//     a follow-up service the truth does not have;
//   - follow-up completeness: of the truth's follow-up appointments, the share the FOLLOW-UP
//     section names with the same timing (days, or weeks when a multiple of 7);
//   - pending results: of the truth's pending tests, the share PENDING RESULTS names;
//   - ROUGE-L against the signed summary (text_metrics.h).
// Words are matched case-insensitively on word boundaries. The lexicons (every drug, problem,
// procedure and service any stay of the cohort names) come from the truth files, so a summary
// that names another patient's drug is caught.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "eval/bootstrap.h"

namespace medscribe::eval {

struct DischargeMedTruth {
  std::string name;    // "amoxicillin" (lower case)
  std::string change;  // "new", "changed", "continued", "stopped"
};

struct DischargeProblemTruth {
  std::string name;     // "pneumonia" or an ICD-10-CM code for chronic problems
  std::string phrase;   // "community-acquired pneumonia" (lower case)
  std::string outcome;  // "resolved", "improved", "stable"
};

struct FollowUpTruth {
  std::string with;  // "primary care" (lower case)
  int within_days = 0;
};

struct DischargeTruth {
  std::string encounter_id;
  std::string patient_id;
  std::vector<DischargeProblemTruth> problems;
  std::vector<DischargeMedTruth> medications;  // the discharge list, stopped included
  std::vector<std::string> inpatient_only;     // drug names given in hospital only
  std::vector<std::string> procedures;         // phrases, lower case
  std::vector<std::string> consults;           // specialties, lower case
  std::vector<FollowUpTruth> follow_up;
  std::vector<std::string> pending;  // test names, lower case
  std::string summary_document;      // "DocumentReference/<id>"
};

// Parses one line of truth/stays.jsonl. InvalidArgument naming what is missing when the line is
// not an inpatient truth record; FailedPrecondition when it is of another generator version.
StatusOr<DischargeTruth> ParseDischargeTruth(std::string_view json_line);
// Reads a whole truth file (NotFound when it cannot be opened; errors name the line).
StatusOr<std::vector<DischargeTruth>> ReadDischargeTruth(const std::string& path);

struct DischargeLexicon {
  std::vector<std::string> drugs, problems, procedures, services;  // lower case, longest first
};
DischargeLexicon BuildDischargeLexicon(const std::vector<DischargeTruth>& truths);

// What a summary states, as the scorer reads it.
struct MedItem {
  std::string drug;    // lexicon name
  std::string change;  // "new", "changed", "continued", "stopped", "" when not stated
};
struct SummaryReading {
  std::vector<std::pair<std::string, std::string>> course;  // (problem phrase, outcome or "")
  std::vector<std::string> mentioned_problems;
  std::vector<MedItem> medications;
  std::vector<std::pair<std::string, int>> follow_up;  // (service, days or -1)
  std::vector<std::string> statements;                 // as scored for support, lower case
};
SummaryReading ReadSummary(std::string_view text, const DischargeLexicon& lexicon);

// The change a medication line's group heading, marker or leading verb names ("start", "NEW",
// "increased", "continue", "held", ...; lower case): "new", "changed", "continued", "stopped",
// or "".
std::string MedicationChangeOfWord(std::string_view word);

struct DischargeCase {
  const DischargeTruth* truth = nullptr;
  std::string draft;      // the summary scored
  std::string reference;  // the signed summary (for ROUGE-L)
};

struct DischargeScores {
  size_t stays = 0;
  Interval problem_coverage;  // with 95% bootstrap interval over stays
  double problem_mentioned = 0;
  Interval med_f1;
  double med_precision = 0, med_recall = 0;
  double drug_f1 = 0;
  double invented_medication_rate = 0;
  double unsupported_rate = 0;
  size_t statements = 0;
  double follow_up_completeness = 0;
  double pending_recall = 0;
  double rouge_l = 0;
};

// REQUIRES: every case's truth is non-null.
DischargeScores ScoreDischarge(const std::vector<DischargeCase>& cases,
                               const DischargeLexicon& lexicon, int bootstrap = 1000);

}  // namespace medscribe::eval
