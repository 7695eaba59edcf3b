#include "engine/speculative.h"

#include <algorithm>

namespace medscribe::engine {

std::vector<int32_t> PromptLookup(std::span<const int32_t> sequence, int max, int max_ngram,
                                  int min_ngram) {
  const int64_t len = static_cast<int64_t>(sequence.size());
  if (max <= 0) return {};
  for (int64_t n = std::min<int64_t>(max_ngram, len - 1); n >= std::max(1, min_ngram); --n) {
    const auto tail = sequence.subspan(static_cast<size_t>(len - n));
    // Latest earlier occurrence: start positions from len - n - 1 down to 0.
    for (int64_t at = len - n - 1; at >= 0; --at) {
      if (!std::equal(tail.begin(), tail.end(), sequence.begin() + at)) continue;
      const int64_t from = at + n, to = std::min(len, from + max);
      if (from >= to) continue;
      return {sequence.begin() + from, sequence.begin() + to};
    }
  }
  return {};
}

}  // namespace medscribe::engine
