// `medscribe eval`'s table of the finding head beside the draft (train/finding_scores.h), with
// the reference and draft targets read by ReportFindingLabeler.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "train/data.h"
#include "train/finding_scores.h"

namespace medscribe::cli {

// REQUIRES: samples, references and drafts of equal length, in the same order. FailedPrecondition
// when the engine's model has no finding head.
StatusOr<train::FindingScores> ScoreHeadBesideDraft(engine::Engine& engine,
                                                    const std::vector<train::RawSample>& samples,
                                                    const std::vector<std::string>& references,
                                                    const std::vector<std::string>& drafts);

// Re-reads the engine's finding head at the thresholds that maximize F-beta of presence on
// `samples`' reports (model::CalibrateReadThresholds, labels by ReportFindingLabeler), in place
// of the model's own; the thresholds, in FindingKind order. REQUIRES: beta > 0; no engine Step()
// running. FailedPrecondition when the engine's model has no finding head.
StatusOr<std::vector<double>> CalibrateReading(engine::Engine& engine,
                                               const std::vector<train::RawSample>& samples,
                                               double beta);

void PrintHeadBesideDraft(const train::FindingScores& s);
nlohmann::ordered_json HeadBesideDraftJson(const train::FindingScores& s);

}  // namespace medscribe::cli
