#include "ingest/record.h"

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "ingest/manifest.h"
#include "ingest/quarantine.h"

namespace medscribe::ingest {
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

// Calls fn(line) for every non-empty line.
template <typename Fn>
Status ForEachLine(const std::string& text, Fn fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    if (end > pos) RETURN_IF_ERROR(fn(std::string_view(text).substr(pos, end - pos)));
    pos = end + 1;
  }
  return OkStatus();
}

}  // namespace

Status RecordInWarehouse(const fs::path& dir, const std::string& created_at,
                         warehouse::Warehouse& w) {
  warehouse::DatasetRecord d;
  ASSIGN_OR_RETURN(d.id, DatasetId(dir));
  ASSIGN_OR_RETURN(d.manifest, ReadFile(dir / "manifest.json"));
  d.created_at = created_at;
  std::error_code ec;
  d.location = fs::absolute(dir, ec).lexically_normal().string();
  const Json m = Json::parse(d.manifest, nullptr, false);
  if (!m.is_object() || !m.contains("splits")) return DataLossError("manifest.json is malformed");
  for (const auto& [split, s] : m["splits"].items()) {
    d.splits.push_back(
        {split, s.value("samples", 0L), s.value("patients", 0L), s.value("shards", 0L)});
  }
  ASSIGN_OR_RETURN(std::string index, ReadFile(dir / "index.jsonl"));
  RETURN_IF_ERROR(ForEachLine(index, [&](std::string_view line) -> Status {
    const Json j = Json::parse(line, nullptr, false);
    if (!j.is_object()) return DataLossError("index.jsonl holds a line that is not JSON");
    d.samples.push_back({j.value("key", ""), j.value("split", ""), j.value("shard", ""),
                         j.value("patient_id", ""), j.value("department", ""),
                         j.value("device_model", ""), j.value("primary_finding", "")});
    return OkStatus();
  }));
  ASSIGN_OR_RETURN(std::string quarantine, ReadFile(dir / "quarantine.jsonl"));
  RETURN_IF_ERROR(ForEachLine(quarantine, [&](std::string_view line) -> Status {
    ASSIGN_OR_RETURN(QuarantineRecord q, QuarantineFromJsonLine(line));
    d.quarantine.push_back({q.kind, q.source, q.sha256, q.reason, q.detail});
    return OkStatus();
  }));
  return w.RecordDataset(d);
}

}  // namespace medscribe::ingest
