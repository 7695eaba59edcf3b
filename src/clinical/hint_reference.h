// How often each rule fires on a dataset's reference reports: the reference the live drafts'
// hint rates are compared with (`medscribe monitor`, docs/monitoring.md). A rule that fires on
// far more drafts than it fired on the signed reports the model learned from says the drafts
// changed, or the data did.
//
// Thread safety: plain functions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "clinical/rules.h"
#include "common/status.h"

namespace medscribe::clinical {

struct HintReference {
  int64_t reports = 0;                   // reference reports checked
  std::map<std::string, int64_t> hints;  // hints raised, by rule id
};

// The hints `rule_sets` raise on the reference report (`target_report`) of each sample of
// `split` of the dataset in `dir`, each with the record workflow.h's RulesRecord builds from
// the sample (its own conditions, those recorded before the study, and its dictation
// transcript) and a study of the sample's modality. Shards are checked against the manifest's
// digests. NotFound / DataLoss naming the dataset file at fault.
StatusOr<HintReference> ReferenceHints(const std::vector<std::shared_ptr<const RuleSet>>& rule_sets,
                                       const std::filesystem::path& dir, const std::string& split);

}  // namespace medscribe::clinical
