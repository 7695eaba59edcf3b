#include "clinical/feedback.h"

#include <map>
#include <nlohmann/json.hpp>

#include "clinical/workflow.h"
#include "common/base64.h"
#include "common/files.h"
#include "common/npy.h"
#include "common/png.h"
#include "crypto/hmac.h"
#include "dataset/shard.h"
#include "dataset/split.h"
#include "deid/text_deid.h"
#include "ingest/manifest.h"

namespace medscribe::clinical {
namespace fs = std::filesystem;

StatusOr<FeedbackResult> ExportFeedback(DraftStore& store, const FeedbackOptions& o) {
  std::error_code ec;
  if (fs::exists(o.out, ec)) {
    if (!o.force)
      return AlreadyExistsError(o.out.string() + " exists; choose another --out or pass --force");
    fs::remove_all(o.out, ec);
  }
  DraftQuery q;
  q.all_departments = true;  // the export is the site's, across departments
  q.status = "signed";
  q.signed_since = o.since;
  q.limit = 1000000;
  ASSIGN_OR_RETURN(std::vector<DraftRow> rows, store.List(q));
  // Latest signature per encounter.
  std::map<std::string, const DraftRow*> latest;
  for (const DraftRow& r : rows) {
    auto& slot = latest[r.encounter_key];
    if (slot == nullptr || r.signed_at > slot->signed_at) slot = &r;
  }
  if (latest.empty()) return NotFoundError("no report was signed since " + o.since);

  const fs::path part_dir = ingest::PartDir(o.out, 0, 1);
  fs::create_directories(part_dir, ec);
  if (ec) return IoError("cannot create " + part_dir.string() + ": " + ec.message());
  ingest::Part part;
  part.settings_json = Json{{"kind", "feedback"},
                            {"since", o.since},
                            {"seed", o.seed},
                            {"image", "8-bit review thumbnail"},
                            {"tool", "medscribe feedback export"}}
                           .dump();
  std::map<std::string, std::unique_ptr<dataset::ShardWriter>> writers;
  std::map<std::string, uint64_t> counts;
  ingest::Tally tally;
  FeedbackResult result;
  for (const auto& [key, row] : latest) {
    ++tally.inputs;
    Json doc = Json::parse(row->phi, nullptr, false);
    auto skip = [&](const std::string& reason, const std::string& detail) {
      ++tally.quarantined;
      ++result.skipped;
      part.quarantine.push_back({"draft", row->id, "", reason, detail});
    };
    if (doc.is_discarded() || !doc.contains("sample") || !doc["sample"].is_object() ||
        !doc.contains("scrub")) {
      skip("no_sample", "the draft holds no de-identified sample");
      continue;
    }
    const Json& scrub = doc["scrub"];
    const deid::TextScrubber scrubber(scrub.value("known", std::vector<std::string>{}),
                                      scrub.value("shift_days", 0));
    const std::string final_text = scrubber.Scrub(doc.value("final", ""));
    const std::string draft_text = scrubber.Scrub(doc.value("draft", ""));
    // The image the model read: the thumbnail, unless a color thumbnail stands beside it.
    std::string thumb = doc.value("model_image", "");
    if (thumb.empty()) thumb = doc.value("thumbnail", "");
    const std::string prefix = "data:image/png;base64,";
    if (thumb.rfind(prefix, 0) != 0) {
      skip("no_image", "the draft holds no image");
      continue;
    }
    auto png = Base64Decode(std::string_view(thumb).substr(prefix.size()));
    int w = 0, h = 0;
    auto pixels =
        png.ok() ? DecodePngGray(*png, &w, &h) : StatusOr<std::vector<float>>(png.status());
    if (!pixels.ok()) {
      skip("no_image", pixels.status().message());
      continue;
    }
    Json sample = doc["sample"];
    sample["target_report"] = final_text;
    sample["modalities"]["image"]["shape"] = {1, h, w};
    sample["modalities"]["image"]["dicom"] = Json::array();
    sample["feedback"] = {{"draft", draft_text},
                          {"diff", LineDiff(draft_text, final_text)},
                          {"model_version", row->model_version},
                          {"input_digest", row->input_digest}};
    const std::string sample_key = sample.value("key", row->encounter_key);
    const std::string patient = sample.value("patient_id", "");
    const std::string split(
        dataset::SplitName(dataset::AssignSplit(o.seed, patient, dataset::SplitFractions{})));
    auto& writer = writers[split];
    const std::string shard = split + "-000000.tar";
    if (!writer) {
      ASSIGN_OR_RETURN(writer, dataset::ShardWriter::Create((part_dir / shard).string()));
    }
    const std::string json = sample.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    RETURN_IF_ERROR(writer->Add(sample_key + ".json", json));
    RETURN_IF_ERROR(writer->Add(sample_key + ".txt", final_text));
    RETURN_IF_ERROR(writer->Add(
        sample_key + ".img.npy",
        EncodeNpyFloat32(pixels->data(), {1, static_cast<size_t>(h), static_cast<size_t>(w)})));
    ++counts[split];
    const Json& meta = sample.contains("meta") ? sample["meta"] : Json::object();
    part.index.push_back({sample_key, split, shard, patient, meta.value("department", ""),
                          meta.value("device_model", ""), meta.value("primary_finding", "")});
    const std::string signed_hash = crypto::Hex(crypto::Sha256(final_text));
    part.lineage.push_back({"signed_report", "drafts/" + row->id, signed_hash, final_text.size()});
    ++tally.ingested;
    ++result.samples;
  }
  for (auto& [split, writer] : writers) {
    ASSIGN_OR_RETURN(dataset::ShardSummary sum, writer->Finish());
    part.shards.push_back({split + "-000000.tar", split, sum.sha256, sum.bytes, counts[split]});
  }
  part.tallies["drafts"] = tally;
  std::sort(part.lineage.begin(), part.lineage.end());
  std::sort(part.quarantine.begin(), part.quarantine.end());
  std::sort(part.index.begin(), part.index.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  RETURN_IF_ERROR(WriteFile(part_dir / "part.json", ingest::PartToJson(part)));
  ASSIGN_OR_RETURN(result.dataset_id, ingest::MergeParts(o.out));
  return result;
}

StatusOr<std::map<std::string, monitor::DraftEdits>> SignedEditsByModel(DraftStore& store,
                                                                        const std::string& since) {
  DraftQuery q;
  q.status = "signed";
  q.all_departments = true;
  q.signed_since = since;
  ASSIGN_OR_RETURN(std::vector<DraftRow> rows, store.List(q));
  std::map<std::string, monitor::DraftEdits> out;
  for (const DraftRow& row : rows) {
    const nlohmann::json doc = nlohmann::json::parse(row.phi, nullptr, false);
    if (!doc.is_object()) continue;
    out[row.model_version].Add(doc.value("draft", ""), doc.value("final", ""));
  }
  return out;
}

}  // namespace medscribe::clinical
