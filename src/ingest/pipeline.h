// `medscribe ingest`: hospital sources in, one immutable de-identified dataset version out.
//
// Steps (docs/ARCHITECTURE.md, "Ingest"):
//   1. Read the FHIR record; reject malformed entries, resources with broken references and
//      duplicate ids.
//   2. Read every file under the DICOM root (in parallel): parse, check decodability and burned-in
//      annotations, match to an encounter (accession number, else patient + study time).
//   3. Match every audio file to an encounter by its file name (encounter id or accession number).
//   4. Per encounter with a final report and at least one image (in parallel): decode and resize
//      the images, de-identify the DICOM, transcribe the dictation, scrub the text, assemble the
//      sample (ingest/sample.h).
//   5. Write shards per split in sample-key order, then the manifest (ingest/manifest.h).
// Every input ends up in a sample or in quarantine.jsonl; the tallies are checked before the
// manifest is written. Input files are only read.
//
// Distributed: with world_size > 1 the worker of rank r takes the encounters whose patient
// pseudonym hashes to r (and the unmatched inputs whose index is r mod world_size), writes its
// part under out/parts/, and the last worker to finish merges the parts. The output is then
// built in place (a failed worker leaves its part unfinished and the merge waiting); a single
// worker builds the dataset in a staging directory and renames it into place when complete.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "dataset/split.h"
#include "ingest/manifest.h"
#include "speech/asr.h"

namespace medscribe::ingest {

using RecognizerFactory = std::function<StatusOr<std::unique_ptr<speech::Recognizer>>()>;

struct IngestOptions {
  std::string dicom_root;               // REQUIRES: a directory
  std::vector<std::string> fhir_paths;  // REQUIRES: at least one file or directory
  std::string audio_root;               // optional
  std::filesystem::path out;
  dataset::SplitFractions split;
  uint64_t seed = 0;
  std::string key;  // the de-identification key (secret, >= 16 bytes); never written
  int jobs = 0;     // 0: all cores
  uint64_t shard_bytes = uint64_t{256} << 20;
  bool allow_burned_in = false;
  int image_size = 256;
  double mm_per_pixel = 0;  // ImagePolicy::mm_per_pixel
  int labs_window_hours = 72;
  int match_window_minutes = 360;
  RecognizerFactory recognizer;  // required when audio_root is set; one per thread is created
  std::string asr_description;   // recorded in the manifest, e.g. backend and model digests
  int rank = 0, world_size = 1;
  bool force = false;  // replace an existing dataset at `out`
  bool progress = true;
};

struct IngestResult {
  std::filesystem::path dir;
  std::string dataset_id;                // empty when other workers have not finished yet
  std::map<std::string, Tally> tallies;  // of the whole dataset when merged, else of this worker
  uint64_t samples = 0, quarantined = 0;
};

// Runs the ingest (the share of options.rank when distributed). Bad inputs are quarantined, not
// returned as errors; errors mean the run itself failed (unwritable output, unreadable root,
// invalid options) and leave no dataset behind.
StatusOr<IngestResult> RunIngest(const IngestOptions& options);

// The summary of a finished dataset directory (for tools): tallies, samples, quarantined.
StatusOr<IngestResult> ReadResult(const std::filesystem::path& dir);

}  // namespace medscribe::ingest
