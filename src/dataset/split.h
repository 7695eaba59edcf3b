// Train/validation/test splits grouped by patient.
//
// A patient's split is a function of (seed, pseudonymous patient id) alone: every encounter of a
// patient lands in one split, and adding data never moves a patient. The function is a keyed hash
// mapped to [0, 1), so within every stratum (department, device model, primary finding) the
// expected share of each split equals the requested fraction; the realized per-stratum counts are
// reported in the dataset manifest so that a user sees the balance. (Exact per-stratum quotas
// would have to move patients when data is added; stability wins.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe::dataset {

enum class Split { kTrain, kVal, kTest };

std::string_view SplitName(Split s);  // "train", "val", "test"

struct SplitFractions {
  double train = 0.8, val = 0.1, test = 0.1;
};

// Parses "0.8,0.1,0.1". InvalidArgument unless three non-negative numbers summing to 1 (±1e-6).
StatusOr<SplitFractions> ParseSplitFractions(std::string_view text);

Split AssignSplit(uint64_t seed, std::string_view patient_pseudonym, const SplitFractions& f);

}  // namespace medscribe::dataset
