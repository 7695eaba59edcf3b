// The gateway's first look at a JSON request body, before any parser: nesting depth and the size
// of embedded images (strings starting with "data:"). The scan is iterative and skips strings
// correctly (escaped quotes included), so any bytes are safe, however deep or unterminated.
//
// Thread safety: reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace medscribe::gateway {

// "" when `body` is within the limits; else the reason, with *too_large set when it is a data
// URL longer than `max_data_url` bytes (413) rather than nesting deeper than `max_depth` (400).
std::string CheckJsonLimits(std::string_view body, size_t max_depth, size_t max_data_url,
                            bool* too_large);

}  // namespace medscribe::gateway
