// Quarantine records: every input that did not become part of a sample, with a machine-readable
// reason.
//
// A record names the input (its kind and its path relative to the input root, with ":line" or
// "#entry" for FHIR) and its SHA-256, never its content: quarantined inputs are not copied into
// the dataset, because they may hold identifiers the de-identification did not process. Detail
// messages describe the defect (lengths, syntaxes, missing links), not values from the input.
//
// Reason codes (stable; documented in docs/formats/dataset.md):
//   dicom_unreadable, dicom_too_large, not_dicom, no_pixel_data, unsupported_transfer_syntax,
//   undecodable_pixels, burned_in_annotation, no_matching_encounter, ambiguous_encounter,
//   fhir_invalid, fhir_too_large, broken_reference, duplicate_id, audio_unreadable,
//   audio_unmatched, asr_failed, deid_failed, encounter_without_final_report,
//   encounter_without_image, encounter_quarantined
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::ingest {

struct QuarantineRecord {
  std::string kind;    // "dicom", "fhir", "audio" or "encounter"
  std::string source;  // relative path (+ ":line" / "#entry"), or the encounter pseudonym
  std::string sha256;  // of the input file; empty for FHIR entries and encounters
  std::string reason;  // one of the codes above
  std::string detail;  // human-readable, PHI-free

  auto operator<=>(const QuarantineRecord&) const = default;
};

// One JSON object per line, keys in a fixed order.
std::string ToJsonLine(const QuarantineRecord& r);
StatusOr<QuarantineRecord> QuarantineFromJsonLine(std::string_view line);

}  // namespace medscribe::ingest
