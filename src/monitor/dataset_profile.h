// The drift profile of a dataset version's split (docs/monitoring.md): what the model reads and
// writes, without PHI — department, encounter class, sex, age (90 and over as 90), detector model,
// each lab's value by LOINC code, the image's mean and spread of intensity, whether a dictation
// came, the number of labs, and the report's length in words.
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
