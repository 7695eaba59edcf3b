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

// The reference profile ingest wrote into the dataset's manifest (`drift_profile`: its train
// split). NotFound when the manifest has none; DataLoss when it is malformed.
StatusOr<Profile> ManifestProfile(const std::string& dir);

}  // namespace medscribe::monitor
