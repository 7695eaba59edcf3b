// Small string helpers shared across components.
#pragma once

#include <string>
#include <string_view>

namespace medscribe {

// `s` with A-Z mapped to a-z; every other byte (UTF-8 included) unchanged.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace medscribe
