// A new dataset version from two: a base version and an addition (typically the signed reports
// of `medscribe feedback export`), for the next training round (docs/formats/dataset.md,
// "Combined versions").
//
//   - A sample of the addition whose key the base also has replaces it: the signed report is the
//     newer word on that encounter.
//   - No patient spans two splits: every sample of a patient the base holds takes the base's
//     split for that patient; a new patient keeps the addition's.
//   - Lineage: both versions' lineage, plus one "dataset" entry per version (its id), so the new
//     version names what it was made from; quarantine records and input tallies are carried over.
//   - Both versions must prepare images alike: a model reads images one way. Where both
//     manifests state it (settings.options mm_per_pixel and image_size) it must agree; a
//     version that does not (a feedback export holds the images the workflow prepared for the
//     model) is taken at its images: those at a whole multiple of the base's size (the
//     workflow's 256 px for a model of 64 px) are averaged down to it; any other size refuses.
// Every shard read is checked against its SHA-256 in its manifest and read with limits; the
// train split's drift profile is rebuilt from the combined samples. The result is written as a
// part and merged (ingest/manifest.h), so it is deterministic like any ingest.
//
// Thread safety: a plain function of its inputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/status.h"

namespace medscribe::ingest {

struct CombineOptions {
  std::filesystem::path base, added, out;
  bool force = false;  // replace `out` when it holds a dataset
  uint64_t shard_bytes = uint64_t{256} << 20;
};

struct CombineResult {
  std::string dataset_id;
  uint64_t samples = 0;    // in the new version
  uint64_t replaced = 0;   // base samples the addition replaced
  uint64_t moved = 0;      // addition samples moved to their patient's split in the base
  uint64_t resampled = 0;  // addition images averaged down to the base's size
};

// NotFound when an input is not a dataset; FailedPrecondition when they prepare images
// differently (stated preparation, or an image's size); AlreadyExists when `out` exists (and, with
// force, when it is not a dataset); InvalidArgument when `out` is one of the inputs; DataLoss
// naming a damaged file.
StatusOr<CombineResult> CombineDatasets(const CombineOptions& o);

}  // namespace medscribe::ingest
