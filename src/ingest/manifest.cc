#include "ingest/manifest.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "common/files.h"
#include "crypto/hmac.h"
#include "dataset/shard.h"
#include "monitor/drift.h"

namespace medscribe::ingest {
namespace fs = std::filesystem;
using Json = nlohmann::json;  // keys sorted: the manifest is deterministic

namespace {

constexpr const char* kManifest = "manifest.json";
constexpr const char* kIndex = "index.jsonl";
constexpr const char* kQuarantine = "quarantine.jsonl";
constexpr const char* kLineage = "lineage.jsonl";
constexpr const char* kPartFile = "part.json";

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json IndexJson(const IndexEntry& e) {
  return {{"key", e.key},
          {"split", e.split},
          {"shard", e.shard},
          {"patient_id", e.patient_id},
          {"department", e.department},
          {"device_model", e.device_model},
          {"primary_finding", e.primary_finding}};
}

Json LineageJson(const LineageEntry& e) {
  return {{"kind", e.kind}, {"path", e.path}, {"sha256", e.sha256}, {"bytes", e.bytes}};
}

// Reads a string member; DataLoss naming it when absent or not a string.
Status Get(const Json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return DataLossError(std::string("missing '") + key + "'");
  out = it->get<std::string>();
  return OkStatus();
}
Status Get(const Json& j, const char* key, uint64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) {
    return DataLossError(std::string("missing number '") + key + "'");
  }
  out = it->get<uint64_t>();
  return OkStatus();
}

StatusOr<IndexEntry> IndexFromJson(const Json& j) {
  IndexEntry e;
  RETURN_IF_ERROR(Get(j, "key", e.key));
  RETURN_IF_ERROR(Get(j, "split", e.split));
  RETURN_IF_ERROR(Get(j, "shard", e.shard));
  RETURN_IF_ERROR(Get(j, "patient_id", e.patient_id));
  RETURN_IF_ERROR(Get(j, "department", e.department));
  RETURN_IF_ERROR(Get(j, "device_model", e.device_model));
  RETURN_IF_ERROR(Get(j, "primary_finding", e.primary_finding));
  return e;
}

std::string Sha256Hex(std::string_view data) { return crypto::Hex(crypto::Sha256(data)); }

struct FileDigest {
  std::string sha256;
  uint64_t bytes = 0;
};

// Writes `text` to dir/name and returns its digest.
StatusOr<FileDigest> WriteHashed(const fs::path& dir, const char* name, const std::string& text) {
  RETURN_IF_ERROR(WriteFile(dir / name, text));
  return FileDigest{Sha256Hex(text), text.size()};
}

}  // namespace

std::string PartToJson(const Part& p) {
  Json j;
  j["rank"] = p.rank;
  j["world_size"] = p.world_size;
  j["settings"] = p.settings_json;
  j["fhir_other_types"] = p.fhir_other_types;
  if (!p.drift_state.empty()) j["drift"] = p.drift_state;
  j["shards"] = Json::array();
  for (const ShardEntry& s : p.shards) {
    j["shards"].push_back({{"name", s.name},
                           {"split", s.split},
                           {"sha256", s.sha256},
                           {"bytes", s.bytes},
                           {"samples", s.samples}});
  }
  j["index"] = Json::array();
  for (const IndexEntry& e : p.index) j["index"].push_back(IndexJson(e));
  j["quarantine"] = Json::array();
  for (const QuarantineRecord& q : p.quarantine) {
    j["quarantine"].push_back(Json::parse(ToJsonLine(q)));
  }
  j["lineage"] = Json::array();
  for (const LineageEntry& e : p.lineage) j["lineage"].push_back(LineageJson(e));
  for (const auto& [kind, t] : p.tallies) {
    j["tallies"][kind] = {
        {"inputs", t.inputs}, {"ingested", t.ingested}, {"quarantined", t.quarantined}};
  }
  return Dump(j);
}

StatusOr<Part> PartFromJson(std::string_view text) {
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLossError("part.json is not a JSON object");
  Part p;
  uint64_t rank = 0, world = 0;
  RETURN_IF_ERROR(Get(j, "rank", rank));
  RETURN_IF_ERROR(Get(j, "world_size", world));
  p.rank = static_cast<int>(rank);
  p.world_size = static_cast<int>(world);
  RETURN_IF_ERROR(Get(j, "settings", p.settings_json));
  RETURN_IF_ERROR(Get(j, "fhir_other_types", p.fhir_other_types));
  if (j.contains("drift")) RETURN_IF_ERROR(Get(j, "drift", p.drift_state));
  auto array = [&](const char* key) -> const Json* {
    auto it = j.find(key);
    return it != j.end() && it->is_array() ? &*it : nullptr;
  };
  const Json* shards = array("shards");
  const Json* index = array("index");
  const Json* quarantine = array("quarantine");
  const Json* lineage = array("lineage");
  if (!shards || !index || !quarantine || !lineage) return DataLossError("part.json is incomplete");
  for (const Json& s : *shards) {
    ShardEntry e;
    RETURN_IF_ERROR(Get(s, "name", e.name));
    RETURN_IF_ERROR(Get(s, "split", e.split));
    RETURN_IF_ERROR(Get(s, "sha256", e.sha256));
    RETURN_IF_ERROR(Get(s, "bytes", e.bytes));
    RETURN_IF_ERROR(Get(s, "samples", e.samples));
    p.shards.push_back(std::move(e));
  }
  for (const Json& e : *index) {
    ASSIGN_OR_RETURN(IndexEntry x, IndexFromJson(e));
    p.index.push_back(std::move(x));
  }
  for (const Json& q : *quarantine) {
    ASSIGN_OR_RETURN(QuarantineRecord r, QuarantineFromJsonLine(Dump(q)));
    p.quarantine.push_back(std::move(r));
  }
  for (const Json& l : *lineage) {
    LineageEntry e;
    RETURN_IF_ERROR(Get(l, "kind", e.kind));
    RETURN_IF_ERROR(Get(l, "path", e.path));
    RETURN_IF_ERROR(Get(l, "sha256", e.sha256));
    RETURN_IF_ERROR(Get(l, "bytes", e.bytes));
    p.lineage.push_back(std::move(e));
  }
  if (auto it = j.find("tallies"); it != j.end() && it->is_object()) {
    for (const auto& [kind, t] : it->items()) {
      Tally x;
      RETURN_IF_ERROR(Get(t, "inputs", x.inputs));
      RETURN_IF_ERROR(Get(t, "ingested", x.ingested));
      RETURN_IF_ERROR(Get(t, "quarantined", x.quarantined));
      p.tallies[kind] = x;
    }
  }
  return p;
}

fs::path PartDir(const fs::path& dir, int rank, int world_size) {
  return dir / "parts" / fmt::format("rank-{:05d}-of-{:05d}", rank, world_size);
}

StatusOr<std::string> MergeParts(const fs::path& dir) {
  const fs::path parts_dir = dir / "parts";
  std::error_code ec;
  if (!fs::is_directory(parts_dir, ec)) {
    return NotFoundError("no parts to merge in '" + dir.string() + "' (expected " +
                         parts_dir.string() + "/rank-*)");
  }
  std::vector<Part> parts;
  std::vector<fs::path> part_dirs;
  for (const auto& entry : fs::directory_iterator(parts_dir, ec)) {
    if (!entry.is_directory() || !fs::exists(entry.path() / kPartFile)) continue;
    ASSIGN_OR_RETURN(std::string text, ReadFile(entry.path() / kPartFile));
    auto part = PartFromJson(text);
    if (!part.ok()) {
      return DataLossError(entry.path().string() + "/part.json: " + part.status().message());
    }
    parts.push_back(std::move(part).value());
    part_dirs.push_back(entry.path());
  }
  if (ec) return IoError("cannot list '" + parts_dir.string() + "': " + ec.message());
  if (parts.empty()) return NotFoundError("no finished part under '" + parts_dir.string() + "'");
  std::vector<size_t> order(parts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return parts[a].rank < parts[b].rank; });
  const int world = parts[order[0]].world_size;
  std::vector<std::string> missing;
  std::set<int> ranks;
  for (const Part& p : parts) {
    if (p.world_size != world) {
      return FailedPreconditionError("parts of different world sizes in '" + parts_dir.string() +
                                     "'; remove the stale ones and rerun them");
    }
    if (p.settings_json != parts[order[0]].settings_json) {
      return FailedPreconditionError("parts of rank " + std::to_string(p.rank) + " and " +
                                     std::to_string(parts[order[0]].rank) +
                                     " were run with different options or inputs");
    }
    ranks.insert(p.rank);
  }
  for (int r = 0; r < world; ++r) {
    if (!ranks.count(r)) missing.push_back(std::to_string(r));
  }
  if (!missing.empty()) {
    return NotFoundError(
        fmt::format("{} of {} parts are not finished (ranks {}); run them, then "
                    "`medscribe dataset merge {}`",
                    missing.size(), world, fmt::join(missing, ", "), dir.string()));
  }

  // Final shard names: per split, numbered in rank order then local order.
  std::map<std::string, int> next;
  std::vector<Part> merged_parts;
  for (size_t i : order) {
    Part p = parts[i];
    std::map<std::string, std::string> rename;
    for (ShardEntry& s : p.shards) {
      const std::string final_name = fmt::format("{}-{:06d}.tar", s.split, next[s.split]++);
      const fs::path from = part_dirs[i] / s.name;
      if (fs::exists(from)) {
        fs::rename(from, dir / final_name, ec);
        if (ec) return IoError("cannot move shard '" + from.string() + "': " + ec.message());
      } else if (!fs::exists(dir / final_name)) {
        return DataLossError("shard '" + from.string() + "' of a finished part is missing");
      }
      rename[s.name] = final_name;
      s.name = final_name;
    }
    for (IndexEntry& e : p.index) e.shard = rename[e.shard];
    merged_parts.push_back(std::move(p));
  }
  // The whole dataset: totals, checks, files.
  const Part& first = merged_parts.front();
  std::map<std::string, Tally> tallies;
  for (const auto& [kind, t] : first.tallies) tallies[kind].inputs = t.inputs;
  std::vector<IndexEntry> index;
  std::vector<QuarantineRecord> quarantine;
  std::vector<LineageEntry> lineage;
  std::vector<ShardEntry> shards;
  uint64_t other_types = first.fhir_other_types;
  monitor::ProfileBuilder drift;
  for (const Part& p : merged_parts) {
    if (!p.drift_state.empty()) {
      if (Status s = drift.MergeState(p.drift_state); !s.ok())
        return DataLossError("part " + std::to_string(p.rank) + ": " + s.message());
    }
    for (const auto& [kind, t] : p.tallies) {
      if (t.inputs != tallies[kind].inputs) {
        return FailedPreconditionError("workers saw different " + kind +
                                       " inputs; were the inputs changed during the run?");
      }
      tallies[kind].ingested += t.ingested;
      tallies[kind].quarantined += t.quarantined;
    }
    index.insert(index.end(), p.index.begin(), p.index.end());
    quarantine.insert(quarantine.end(), p.quarantine.begin(), p.quarantine.end());
    lineage.insert(lineage.end(), p.lineage.begin(), p.lineage.end());
    shards.insert(shards.end(), p.shards.begin(), p.shards.end());
  }
  std::map<std::string, uint64_t> quarantined_by_kind;
  for (const QuarantineRecord& q : quarantine) {
    ++quarantined_by_kind[q.kind == "encounter" ? "encounters" : q.kind];
  }
  for (const auto& [kind, t] : tallies) {
    if (t.inputs != t.ingested + t.quarantined) {
      return FailedPreconditionError(fmt::format(
          "{}: {} inputs but {} ingested + {} quarantined; an input was lost (internal error)",
          kind, t.inputs, t.ingested, t.quarantined));
    }
    if (t.quarantined != quarantined_by_kind[kind]) {
      return FailedPreconditionError(fmt::format("{}: {} quarantined but {} quarantine records",
                                                 kind, t.quarantined, quarantined_by_kind[kind]));
    }
  }
  std::sort(index.begin(), index.end(),
            [](const IndexEntry& a, const IndexEntry& b) { return a.key < b.key; });
  std::sort(quarantine.begin(), quarantine.end());
  std::sort(lineage.begin(), lineage.end());

  std::string index_text, quarantine_text, lineage_text;
  for (const IndexEntry& e : index) index_text += Dump(IndexJson(e)) + "\n";
  for (const QuarantineRecord& q : quarantine) quarantine_text += ToJsonLine(q);
  std::map<std::string, std::string> lineage_by_kind;
  std::map<std::string, std::pair<uint64_t, uint64_t>> lineage_counts;  // files, bytes
  for (const LineageEntry& e : lineage) {
    const std::string line = Dump(LineageJson(e)) + "\n";
    lineage_text += line;
    lineage_by_kind[e.kind] += line;
    ++lineage_counts[e.kind].first;
    lineage_counts[e.kind].second += e.bytes;
  }
  ASSIGN_OR_RETURN(FileDigest index_d, WriteHashed(dir, kIndex, index_text));
  ASSIGN_OR_RETURN(FileDigest quarantine_d, WriteHashed(dir, kQuarantine, quarantine_text));
  ASSIGN_OR_RETURN(FileDigest lineage_d, WriteHashed(dir, kLineage, lineage_text));

  Json m;
  m["format"] = "medscribe-dataset";
  m["schema_version"] = kManifestSchemaVersion;
  m["settings"] = Json::parse(first.settings_json, nullptr, false);
  m["world_size"] = world;
  std::set<std::string> patients;
  for (const IndexEntry& e : index) patients.insert(e.patient_id);
  m["counts"]["samples"] = index.size();
  m["counts"]["patients"] = patients.size();
  m["counts"]["shards"] = shards.size();
  m["counts"]["fhir_other_types"] = other_types;
  for (const auto& [kind, t] : tallies) {
    m["counts"]["inputs"][kind] = {
        {"inputs", t.inputs}, {"ingested", t.ingested}, {"quarantined", t.quarantined}};
  }
  std::map<std::string, std::set<std::string>> split_patients;
  for (const std::string split : {"train", "val", "test"}) {
    m["splits"][split] = {{"samples", 0}, {"patients", 0}, {"shards", 0}};
    for (const char* stratum : {"department", "device_model", "primary_finding"}) {
      m["splits"][split]["strata"][stratum] = Json::object();
    }
  }
  for (const IndexEntry& e : index) {
    Json& s = m["splits"][e.split];
    s["samples"] = s["samples"].get<uint64_t>() + 1;
    split_patients[e.split].insert(e.patient_id);
    for (auto [stratum, value] : {std::pair{"department", &e.department},
                                  {"device_model", &e.device_model},
                                  {"primary_finding", &e.primary_finding}}) {
      Json& c = s["strata"][stratum][*value];
      c = (c.is_null() ? 0 : c.get<uint64_t>()) + 1;
    }
  }
  for (const auto& [split, ps] : split_patients) m["splits"][split]["patients"] = ps.size();
  m["shards"] = Json::array();
  std::sort(shards.begin(), shards.end(),
            [](const ShardEntry& a, const ShardEntry& b) { return a.name < b.name; });
  for (const ShardEntry& s : shards) {
    Json& c = m["splits"][s.split]["shards"];
    c = c.get<uint64_t>() + 1;
    m["shards"].push_back({{"name", s.name},
                           {"split", s.split},
                           {"sha256", s.sha256},
                           {"bytes", s.bytes},
                           {"samples", s.samples}});
  }
  m["files"][kIndex] = {{"sha256", index_d.sha256}, {"bytes", index_d.bytes}};
  m["files"][kQuarantine] = {{"sha256", quarantine_d.sha256}, {"bytes", quarantine_d.bytes}};
  m["files"][kLineage] = {{"sha256", lineage_d.sha256}, {"bytes", lineage_d.bytes}};
  m["lineage"] = Json::object();
  for (const auto& [kind, text] : lineage_by_kind) {
    m["lineage"][kind] = {{"files", lineage_counts[kind].first},
                          {"bytes", lineage_counts[kind].second},
                          {"sha256", Sha256Hex(text)}};
  }
  if (!drift.empty()) m["drift_profile"] = Json::parse(monitor::ToJson(drift.Build()));
  m["quarantine"]["total"] = quarantine.size();
  m["quarantine"]["by_reason"] = Json::object();
  for (const QuarantineRecord& q : quarantine) {
    Json& c = m["quarantine"]["by_reason"][q.reason];
    c = (c.is_null() ? 0 : c.get<uint64_t>()) + 1;
  }
  const std::string manifest = m.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  RETURN_IF_ERROR(WriteFile(dir / kManifest, manifest));
  fs::remove_all(parts_dir, ec);
  if (ec) return IoError("cannot remove '" + parts_dir.string() + "': " + ec.message());
  return Sha256Hex(manifest);
}

namespace {

StatusOr<Part> ReadParsedPart(const fs::path& dir, const Json& m) {
  if (!m.is_object() || m.value("format", "") != "medscribe-dataset")
    return DataLossError("manifest.json of '" + dir.string() + "' is not a MedScribe manifest");
  Part p;
  p.settings_json = Dump(m.value("settings", Json::object()));
  p.fhir_other_types = m.at("counts").value("fhir_other_types", uint64_t{0});
  // The lines of a listed file, checked against the manifest's digest.
  const auto lines = [&](const char* name) -> StatusOr<std::vector<Json>> {
    const Json& d = m.at("files").at(name);
    ASSIGN_OR_RETURN(std::string data, ReadFile(dir / name));
    if (data.size() != d.at("bytes").get<uint64_t>() ||
        Sha256Hex(data) != d.at("sha256").get<std::string>())
      return DataLossError(dir.string() + "/" + name +
                           " does not match its digest in the manifest (run `medscribe "
                           "dataset verify`)");
    std::vector<Json> out;
    size_t pos = 0;
    while (pos < data.size()) {
      const size_t end = std::min(data.find('\n', pos), data.size());
      if (end > pos) {
        out.push_back(Json::parse(data.substr(pos, end - pos), nullptr, false));
        if (out.back().is_discarded())
          return DataLossError(dir.string() + "/" + name + " holds a line that is not JSON");
      }
      pos = end + 1;
    }
    return out;
  };
  ASSIGN_OR_RETURN(const std::vector<Json> index, lines(kIndex));
  for (const Json& j : index) {
    auto e = IndexFromJson(j);
    if (!e.ok()) return DataLossError(dir.string() + "/index.jsonl: " + e.status().message());
    p.index.push_back(std::move(e).value());
  }
  ASSIGN_OR_RETURN(const std::vector<Json> quarantine, lines(kQuarantine));
  for (const Json& j : quarantine) {
    auto q = QuarantineFromJsonLine(Dump(j));
    if (!q.ok()) return DataLossError(dir.string() + "/quarantine.jsonl: " + q.status().message());
    p.quarantine.push_back(std::move(q).value());
  }
  ASSIGN_OR_RETURN(const std::vector<Json> lineage, lines(kLineage));
  for (const Json& l : lineage) {
    LineageEntry e;
    Status st = Get(l, "kind", e.kind);
    if (st.ok()) st = Get(l, "path", e.path);
    if (st.ok()) st = Get(l, "sha256", e.sha256);
    if (st.ok()) st = Get(l, "bytes", e.bytes);
    if (!st.ok()) return DataLossError(dir.string() + "/lineage.jsonl: " + st.message());
    p.lineage.push_back(std::move(e));
  }
  const Json shards = m.value("shards", Json::array());
  for (const Json& s : shards) {
    p.shards.push_back({s.at("name").get<std::string>(), s.at("split").get<std::string>(),
                        s.at("sha256").get<std::string>(), s.at("bytes").get<uint64_t>(),
                        s.at("samples").get<uint64_t>()});
  }
  const Json inputs = m.at("counts").value("inputs", Json::object());
  for (const auto& [kind, t] : inputs.items()) {
    p.tallies[kind] = {t.at("inputs").get<uint64_t>(), t.at("ingested").get<uint64_t>(),
                       t.at("quarantined").get<uint64_t>()};
  }
  return p;
}

}  // namespace

StatusOr<Part> ReadDatasetPart(const fs::path& dir) {
  RETURN_IF_ERROR(DatasetId(dir).status());  // NotFound saying what a dataset directory holds
  ASSIGN_OR_RETURN(const std::string text, ReadFile(dir / kManifest));
  const Json m = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  // Read as untrusted: a member of the wrong type or a missing one makes nlohmann::json throw.
  try {
    return ReadParsedPart(dir, m);
  } catch (const Json::exception& e) {
    return DataLossError("manifest.json of '" + dir.string() + "' is malformed: " + e.what());
  }
}

StatusOr<std::string> DatasetId(const fs::path& dir) {
  auto text = ReadFile(dir / kManifest);
  if (!text.ok()) {
    return NotFoundError(fmt::format(
        "'{}' is not a dataset (no manifest.json; is the ingest still running, or did it stop "
        "before `medscribe dataset merge`?)",
        dir.string()));
  }
  return Sha256Hex(*text);
}

namespace {

StatusOr<VerifyReport> VerifyParsed(const fs::path& dir, Json& m);

}  // namespace

StatusOr<VerifyReport> VerifyDataset(const fs::path& dir) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(dir / kManifest));
  Json m = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  // The manifest is read as untrusted: a member of the wrong type makes nlohmann::json throw,
  // which is reported as a damaged manifest.
  try {
    return VerifyParsed(dir, m);
  } catch (const Json::exception& e) {
    return DataLossError("manifest.json of '" + dir.string() + "' is malformed: " + e.what());
  }
}

namespace {

StatusOr<VerifyReport> VerifyParsed(const fs::path& dir, Json& m) {
  if (!m.is_object() || m.value("format", "") != "medscribe-dataset") {
    return DataLossError("manifest.json of '" + dir.string() + "' is not a MedScribe manifest");
  }
  VerifyReport report;
  auto check_file = [&](const std::string& name, const std::string& sha256,
                        uint64_t bytes) -> std::optional<std::string> {
    ++report.files_checked;
    auto data = ReadFile(dir / name);
    if (!data.ok()) {
      report.problems.push_back(name + ": cannot be read (" + data.status().message() + ")");
      return std::nullopt;
    }
    if (data->size() != bytes) {
      report.problems.push_back(
          fmt::format("{}: {} bytes, manifest says {}", name, data->size(), bytes));
    } else if (Sha256Hex(*data) != sha256) {
      report.problems.push_back(name + ": content does not match its SHA-256 in the manifest");
    }
    return std::move(data).value();
  };
  std::map<std::string, IndexEntry> index;
  if (auto files = m.find("files"); files != m.end() && files->is_object()) {
    for (const auto& [name, d] : files->items()) {
      auto data = check_file(name, d.value("sha256", ""), d.value("bytes", uint64_t{0}));
      if (name != kIndex || !data) continue;
      size_t line_no = 0, pos = 0;
      while (pos < data->size()) {
        const size_t end = std::min(data->find('\n', pos), data->size());
        ++line_no;
        const Json j = Json::parse(data->substr(pos, end - pos), nullptr, false);
        pos = end + 1;
        auto e = IndexFromJson(j);
        if (!e.ok()) {
          report.problems.push_back(
              fmt::format("index.jsonl:{}: {}", line_no, e.status().message()));
          continue;
        }
        index[e->key] = *e;
      }
    }
  } else {
    report.problems.push_back("manifest.json lists no files");
  }
  std::set<std::string> seen;
  uint64_t samples_in_shards = 0;
  Json shards = m.value("shards", Json::array());
  if (!shards.is_array()) shards = Json::array();
  for (const Json& s : shards) {
    const std::string name = s.value("name", "");
    auto data = check_file(name, s.value("sha256", ""), s.value("bytes", uint64_t{0}));
    if (!data) continue;
    auto members = dataset::ReadShard(*data);
    if (!members.ok()) {
      report.problems.push_back(name + ": " + members.status().message());
      continue;
    }
    uint64_t samples = 0;
    for (const dataset::ShardMember& mem : *members) {
      if (mem.field() != "json") continue;
      ++samples;
      const std::string key = mem.key();
      seen.insert(key);
      auto it = index.find(key);
      if (it == index.end()) {
        report.problems.push_back(name + ": sample " + key + " is not in index.jsonl");
      } else if (it->second.shard != name) {
        report.problems.push_back(name + ": sample " + key + " is indexed under " +
                                  it->second.shard);
      }
    }
    if (samples != s.value("samples", uint64_t{0})) {
      report.problems.push_back(fmt::format("{}: {} samples, manifest says {}", name, samples,
                                            s.value("samples", uint64_t{0})));
    }
    samples_in_shards += samples;
  }
  for (const auto& [key, e] : index) {
    if (!seen.count(key))
      report.problems.push_back("sample " + key + " of index.jsonl is in no shard");
  }
  const uint64_t expected = m["counts"].value("samples", uint64_t{0});
  if (samples_in_shards != expected) {
    report.problems.push_back(
        fmt::format("{} samples in the shards, manifest says {}", samples_in_shards, expected));
  }
  report.samples = samples_in_shards;
  return report;
}

}  // namespace

}  // namespace medscribe::ingest
