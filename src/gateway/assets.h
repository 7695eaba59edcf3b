// Files built into the binary so that the system runs with nothing else installed: the review
// page (web/) and the shipped rule sets (rules/), as they were in the source tree at build time.
#pragma once

#include <string_view>
#include <vector>

namespace medscribe::gateway {

struct Asset {
  std::string_view path;  // relative to the source tree, e.g. "web/index.html"
  std::string_view content;
};

const std::vector<Asset>& Assets();

// The asset at `path`, or nullptr.
inline const Asset* FindAsset(std::string_view path) {
  for (const Asset& a : Assets())
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace medscribe::gateway
