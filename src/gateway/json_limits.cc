#include "gateway/json_limits.h"

#include <algorithm>

namespace medscribe::gateway {

std::string CheckJsonLimits(std::string_view b, size_t max_depth, size_t max_data_url,
                            bool* too_large) {
  *too_large = false;
  size_t depth = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    const char c = b[i];
    if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return "JSON nested deeper than " + std::to_string(max_depth) + " levels";
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
    } else if (c == '"') {
      const size_t start = i + 1;
      ++i;
      while (i < b.size() && b[i] != '"') i += b[i] == '\\' ? 2 : 1;
      const size_t len = std::min(i, b.size()) - start;
      if (len > max_data_url && b.substr(start, 5) == "data:") {
        *too_large = true;
        return "an image of " + std::to_string(len) + " bytes exceeds the limit of " +
               std::to_string(max_data_url) + " bytes";
      }
    }
  }
  return "";
}

}  // namespace medscribe::gateway
