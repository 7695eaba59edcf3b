// The finding head's training targets from report text, read by the evaluation's labeler
// (src/eval): presence, side, severity and zone of each finding kind, the devices, a lesion's
// size.
#pragma once

#include "train/finding_labels.h"

namespace medscribe::cli {

class ReportFindingLabeler : public train::FindingLabeler {
 public:
  model::FindingTargets Targets(const std::string& report) const override;
};

}  // namespace medscribe::cli
