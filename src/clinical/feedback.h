// Feedback for the next training round: signed reports, with their drafts and the
// draft-to-final diff, written as a dataset version in the ingest format (docs/formats/
// dataset.md) with lineage back to the drafts that produced them.
//
// Each signed draft becomes one sample: the de-identified sample the model saw (kept sealed in
// the store), its target report replaced by the signed text, scrubbed with the same identifiers
// and date shift as ingest, and a "feedback" member with the scrubbed draft, the diff and the
// model version. The image is the 8-bit review thumbnail (no DICOM members). When an encounter
// was signed more than once, its latest signature wins.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "clinical/store.h"
#include "common/status.h"
#include "monitor/canary.h"

namespace medscribe::clinical {

struct FeedbackOptions {
  std::string since;  // ISO date or time; reports signed at or after it
  std::filesystem::path out;
  uint64_t seed = 0;  // split assignment, as ingest's --seed
  bool force = false;
};

struct FeedbackResult {
  std::string dataset_id;
  size_t samples = 0, skipped = 0;
};

// AlreadyExists when `out` exists and !force; NotFound when nothing was signed since `since`.
StatusOr<FeedbackResult> ExportFeedback(DraftStore& store, const FeedbackOptions& o);

// The clinicians' edits of the reports signed at or after `since` (ISO 8601 UTC, as the store
// writes signed_at), by the model version that drafted them: words changed per word drafted,
// as the live monitor counts them (monitor/live.h). A canary is judged on it. Rows whose
// document is not JSON are skipped; the store's own errors (DataLoss for a row that does not
// open) pass through.
StatusOr<std::map<std::string, monitor::DraftEdits>> SignedEditsByModel(DraftStore& store,
                                                                        const std::string& since);

}  // namespace medscribe::clinical
