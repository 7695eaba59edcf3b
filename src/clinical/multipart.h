// The multipart/related codec of DICOMweb (WADO-RS answers, STOW-RS requests). Bodies are
// untrusted: parsing is bounded by the input and the part count (fuzz/multipart.cc).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::clinical {

// One part of a multipart/related body.
struct MultipartPart {
  std::string content_type;
  std::string body;
};
// Parses a multipart body with `boundary` (from the Content-Type). InvalidArgument on a
// malformed body; ResourceExhausted past `max_parts`.
StatusOr<std::vector<MultipartPart>> ParseMultipart(std::string_view body,
                                                    std::string_view boundary,
                                                    size_t max_parts = 10000);
// The boundary parameter of a multipart Content-Type header value; empty when absent.
std::string BoundaryOf(std::string_view content_type);

}  // namespace medscribe::clinical
