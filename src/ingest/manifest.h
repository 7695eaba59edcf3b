// Dataset versions on disk: the manifest, the part files of distributed workers, and verification.
//
// A dataset directory holds (docs/formats/dataset.md):
//   manifest.json          what the version is; its SHA-256 is the dataset id
//   index.jsonl            one line per sample: key, split, shard, pseudonymous patient, strata
//   quarantine.jsonl       one line per quarantined input (ingest/quarantine.h)
//   lineage.jsonl          one line per input file: kind, relative path, SHA-256, bytes
//   <split>-NNNNNN.tar     WebDataset shards (dataset/shard.h)
// Everything is written deterministically (sorted lines, sorted JSON keys), so the same inputs,
// options and key give a byte-identical directory and the same id.
//
// A worker of a distributed ingest writes a part (its shards and a part.json with its index,
// quarantine, lineage and counts) under parts/; MergeParts turns the complete set of parts into
// the dataset directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "ingest/quarantine.h"

namespace medscribe::ingest {

inline constexpr int kManifestSchemaVersion = 1;

struct ShardEntry {
  std::string name, split, sha256;
  uint64_t bytes = 0, samples = 0;
};

struct IndexEntry {
  std::string key, split, shard, patient_id, department, device_model, primary_finding;
};

struct LineageEntry {
  std::string kind, path, sha256;
  uint64_t bytes = 0;
  auto operator<=>(const LineageEntry&) const = default;
};

// Inputs of one kind: every input is either ingested or quarantined.
struct Tally {
  uint64_t inputs = 0, ingested = 0, quarantined = 0;
};

// What one worker (or the whole run, when it is alone) produced.
struct Part {
  int rank = 0, world_size = 1;
  std::string settings_json;  // options, de-id profile, tool version: equal across the workers
  std::vector<ShardEntry> shards;
  std::vector<IndexEntry> index;
  std::vector<QuarantineRecord> quarantine;
  std::vector<LineageEntry> lineage;
  std::map<std::string, Tally> tallies;  // "dicom", "fhir", "audio", "encounters"
  uint64_t fhir_other_types = 0;         // valid resources of types ingest does not use
  // The drift features of this worker's train samples (monitor::ProfileBuilder::StateJson);
  // empty when it has none. Merged into the manifest's `drift_profile`.
  std::string drift_state;
};

std::string PartToJson(const Part& p);
StatusOr<Part> PartFromJson(std::string_view text);

// The directory a worker writes its part to: `dir`/parts/rank-RRRRR-of-WWWWW.
std::filesystem::path PartDir(const std::filesystem::path& dir, int rank, int world_size);

// Turns the parts under `dir`/parts/ into the dataset: moves every shard to its final name
// (<split>-NNNNNN.tar, numbered in rank order), writes manifest.json (with the reference drift
// profile of the train split, monitor/features.h, when it has samples), index.jsonl,
// quarantine.jsonl and lineage.jsonl, and removes parts/. Returns the dataset id.
// NotFound naming the missing ranks when the set is incomplete; FailedPrecondition when the
// parts disagree (settings, world size) or an input tally does not add up
// (inputs != ingested + quarantined).
StatusOr<std::string> MergeParts(const std::filesystem::path& dir);

// A finished dataset read back as the one part that would make it (rank 0 of 1): its settings,
// shards (names relative to `dir`), index, quarantine, lineage, input tallies and FHIR count;
// no drift state (the manifest holds the built profile). Each of index.jsonl, quarantine.jsonl
// and lineage.jsonl is checked against its SHA-256 in the manifest; the shards are not read.
// NotFound when `dir` holds no manifest.json; DataLoss naming what is damaged.
StatusOr<Part> ReadDatasetPart(const std::filesystem::path& dir);

// The id of the dataset in `dir`: SHA-256 (hex) of its manifest.json bytes.
StatusOr<std::string> DatasetId(const std::filesystem::path& dir);

struct VerifyReport {
  uint64_t files_checked = 0, samples = 0;
  std::vector<std::string> problems;  // one line each; empty when the dataset is intact
};
// Re-hashes every file the manifest lists, reads every shard and checks it against the manifest
// and the index. Errors only when the manifest itself cannot be read.
StatusOr<VerifyReport> VerifyDataset(const std::filesystem::path& dir);

}  // namespace medscribe::ingest
