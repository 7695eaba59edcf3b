// The drift profile of a dataset version's split (docs/monitoring.md): the features of
// monitor/features.h over its samples, images and reports.
#pragma once

#include <string>

#include "common/status.h"
#include "monitor/drift.h"

namespace medscribe::monitor {

// The profile of `split` of the dataset in `dir`; numeric features binned at `reference`'s edges
// when given. NotFound / DataLoss as the dataset readers say.
StatusOr<Profile> ProfileDataset(const std::string& dir, const std::string& split,
                                 const Profile* reference = nullptr);

}  // namespace medscribe::monitor
