// Internal to src/dicom: the parts of the DICOM Part 10 file layout that MedScribe reads itself
// before DCMTK sees the bytes.
//
// DCMTK guards declared element lengths only where it can seek; in a deflated dataset it cannot,
// and would allocate whatever length a hostile file declares. Deflated datasets are therefore
// inflated here, with a cap, and handed to DCMTK as plain explicit VR little endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe::dicom {

inline constexpr std::string_view kDeflatedUid = "1.2.840.10008.1.2.1.99";

struct Part10Meta {
  bool present = false;             // 128-byte preamble, "DICM" and a meta group
  size_t dataset_offset = 0;        // where the dataset starts
  std::string transfer_syntax_uid;  // (0002,0010), trailing NUL/space removed
};

// Scans the File Meta Information (always explicit VR little endian) with bounds checks.
// Returns present = false for bytes without a preamble (a bare dataset, or not DICOM).
// DataLoss when a meta group is there but malformed.
StatusOr<Part10Meta> ScanPart10Meta(std::string_view bytes);

// Inflates a raw deflate stream (RFC 1951, as the Deflated transfer syntax uses).
// ResourceExhausted when the output would exceed `max_output` bytes; DataLoss when the stream
// is corrupt or truncated.
StatusOr<std::string> InflateRaw(std::string_view deflated, uint64_t max_output);

// The bytes of a file whose encapsulated pixel data (little endian, the last element) ends in a
// fragment shorter than its declared length, or without the sequence delimiter, while the
// fragment's codestream is complete (ends with FF D9, JPEG's EOI and JPEG 2000's EOC): the
// fragment's length set to what is there (padded to even) and the delimiter appended. nullopt
// when the file is not such a case.
std::optional<std::string> CompleteShortLastFragment(std::string_view b);

}  // namespace medscribe::dicom
