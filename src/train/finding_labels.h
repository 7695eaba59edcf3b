// Where the finding head's training targets come from: a labeler of report text, behind an
// interface so that the ML core needs no labeler library (the command line passes the
// evaluation's labeler, src/eval). Targets come from the *training reports*, never from a
// cohort's ground truth.
#pragma once

#include <string>

#include "model/findings.h"

namespace medscribe::train {

class FindingLabeler {
 public:
  virtual ~FindingLabeler() = default;
  // The head's targets for one report (model/findings.h layout; NaN where the report does not
  // say). Must be thread-safe: the data loader calls it from its threads.
  virtual model::FindingTargets Targets(const std::string& report) const = 0;
};

}  // namespace medscribe::train
