#include "clinical/hint_reference.h"

#include <nlohmann/json.hpp>

#include "clinical/workflow.h"
#include "common/files.h"
#include "crypto/hmac.h"
#include "dataset/shard.h"
#include "ingest/manifest.h"

namespace medscribe::clinical {

StatusOr<HintReference> ReferenceHints(const std::vector<std::shared_ptr<const RuleSet>>& rule_sets,
                                       const std::filesystem::path& dir, const std::string& split) {
  ASSIGN_OR_RETURN(const ingest::Part part, ingest::ReadDatasetPart(dir));
  HintReference ref;
  for (const ingest::ShardEntry& s : part.shards) {
    if (s.split != split) continue;
    const std::string where = (dir / s.name).string();
    ASSIGN_OR_RETURN(const std::string bytes, ReadFile(dir / s.name));
    if (bytes.size() != s.bytes || crypto::Hex(crypto::Sha256(bytes)) != s.sha256)
      return DataLossError(where +
                           " does not match its digest in the manifest (run `medscribe dataset "
                           "verify`)");
    ASSIGN_OR_RETURN(const auto members, dataset::ReadShard(bytes));
    for (const dataset::ShardMember& m : members) {
      if (m.field() != "json") continue;
      const Json sample = Json::parse(m.data, nullptr, false);
      if (!sample.is_object())
        return DataLossError(where + ": " + m.name + " is not a JSON sample");
      const Json* report = sample.contains("target_report") ? &sample["target_report"] : nullptr;
      if (report == nullptr || !report->is_string()) continue;
      Json conditions = Json::array();
      std::string dictation, modality;
      if (sample.contains("modalities") && sample["modalities"].is_object()) {
        const Json& mod = sample["modalities"];
        if (mod.contains("structured") && mod["structured"].is_object() &&
            mod["structured"].contains("conditions") && mod["structured"]["conditions"].is_array())
          conditions = mod["structured"]["conditions"];
        if (mod.contains("speech_transcript") && mod["speech_transcript"].is_string())
          dictation = mod["speech_transcript"].get<std::string>();
      }
      if (sample.contains("meta") && sample["meta"].is_object())
        modality = sample["meta"].value("modality_type", "");
      const Json record = RulesRecord(sample, std::move(conditions), dictation);
      const Json study = {{"modality", modality}};
      ++ref.reports;
      for (const Json& h : CheckRules(rule_sets, report->get<std::string>(), record, study))
        ++ref.hints[h.value("rule_id", "")];
    }
  }
  if (ref.reports == 0)
    return NotFoundError("the dataset in " + dir.string() + " has no " + split +
                         " reports to check the rules on");
  return ref;
}

}  // namespace medscribe::clinical
