// One training sample per inpatient stay, for the discharge-summary task: the stay's record
// (ingest/stay_record.h) de-identified into the sample schema (docs/formats/dataset.md, "Stay
// samples"), the signed discharge summary as the target.
//
// Every item of the record gets a short source tag, unique in the sample, assigned in record
// order: P problems, A allergies, M medications, L lab values, V vital signs, R procedures,
// I imaging reports, N notes ("M3", "L12"). The prompt shows the tags beside what it quotes, so
// a draft can cite its sources; `sources` maps each tag back to the resource ("MedicationRequest/
// medrx-s000042-3") for the review page. The dataset keeps only the tags.
//
// Times become hospital days (0 = the day of admission, by calendar date); text (notes, reports,
// the summary, the reason for admission) goes through the patient's TextScrubber.
//
// Thread safety: AssembleStaySample is a pure function of its inputs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "deid/pseudonymizer.h"
#include "ingest/stay_record.h"

namespace medscribe::ingest {

inline constexpr const char* kTaskDischargeSummary = "discharge_summary";

struct StaySample {
  std::string key;  // "ENC-" + 12 hex digits: the pseudonym of the stay's Encounter
  std::string patient_pseudonym;
  std::string json;     // the sample
  std::string summary;  // the target, scrubbed ("" when the record has none)
  std::vector<std::pair<std::string, std::string>> sources;  // tag -> "Type/id"
};

// `transcripts`: the raw ASR output of the stay's dictated discharge notes, scrubbed into
// `speech_transcript` (null without any). InvalidArgument when the stay has no patient or no
// admission time.
StatusOr<StaySample> AssembleStaySample(const StayRecord& stay, const deid::Pseudonymizer& p,
                                        const std::vector<std::string>& transcripts = {});

}  // namespace medscribe::ingest
