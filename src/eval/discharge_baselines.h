// Baselines of the discharge scenario, read from the record alone:
//   - extractive (copy-forward): the last progress note's assessment and plan as the hospital
//     course, and the home medication list as the discharge medications, all continued;
//   - retrieval: the signed summary of the most similar other patient's stay (Jaccard
//     similarity of the stays' condition codes and medication codes).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

namespace medscribe::eval {

// What the baselines read of a stay's record (ingest/stay_record.h has the whole record).
struct BaselineStay {
  std::string encounter_id, patient_id;
  std::vector<std::string> condition_codes;   // codes of the stay's Conditions
  std::vector<std::string> medication_codes;  // RxNorm codes of its MedicationRequests
  std::vector<std::string> home_medications;  // "aspirin 81 mg oral daily", in record order
  std::string last_progress_note;             // text of the latest progress note, "" if none
  std::string summary;                        // the signed discharge summary
};

std::string ExtractiveSummary(const BaselineStay& stay);

// "" when the pool has no stay of another patient.
std::string RetrievalSummary(const BaselineStay& query, const std::vector<BaselineStay>& pool);

}  // namespace medscribe::eval
