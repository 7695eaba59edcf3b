// The ground truth of a synthetic cohort (truth/labels.jsonl, docs/formats/synthetic-cohort.md)
// as CheXpert labels, for checking the labeler and for the truth-based rows of `medscribe eval`.
//
// Finding types map to classes: cardiomegaly -> Cardiomegaly; pleural_effusion -> Pleural
// Effusion; consolidation -> Consolidation, Lung Opacity and Pneumonia (the cohort's reports
// call every consolidation pneumonia, certain or possible); edema -> Edema; pneumothorax ->
// Pneumothorax; nodule, mass -> Lung Lesion; atelectasis -> Atelectasis; rib_fracture ->
// Fracture; devices -> Support Devices; No Finding when none but devices. Enlarged
// Cardiomediastinum and Pleural Other are never produced by the generator.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "eval/labeler.h"

namespace medscribe::eval {

// The generator whose truth files this code reads; older truth files mean another cohort.
inline constexpr std::string_view kTruthGenerator = "medscribe-synth 2";

struct TruthRecord {
  std::string encounter_id;
  Labels labels;
  std::string report_text;  // the historical report
};

// Labels of a list of finding types ("pleural_effusion", ...). Unknown types are ignored.
Labels LabelsOfFindings(const std::vector<std::string>& types);

// Reads a truth file. NotFound when it cannot be opened; FailedPrecondition, saying to
// re-synthesize, when a record is not of kTruthGenerator; InvalidArgument naming the line when
// it is not a truth file.
StatusOr<std::vector<TruthRecord>> ReadTruth(const std::string& path);

}  // namespace medscribe::eval
