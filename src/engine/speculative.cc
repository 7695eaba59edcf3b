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

namespace medscribe::engine {

uint64_t NgramCorpus::Key(const int32_t* t) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(t[0])) * 0x9E3779B97F4A7C15ull) ^
         (static_cast<uint64_t>(static_cast<uint32_t>(t[1])) << 21) ^
         (static_cast<uint64_t>(static_cast<uint32_t>(t[2])) << 42) ^
         static_cast<uint64_t>(static_cast<uint32_t>(t[2]));
}

void NgramCorpus::Add(std::span<const int32_t> tokens) {
  if (tokens.size() < 4) return;
  if (tokens_.size() + tokens.size() + 1 > capacity_) {  // start over rather than reindex
    tokens_.clear();
    latest_.clear();
  }
  if (tokens.size() + 1 > capacity_) return;
  tokens_.push_back(-1);  // separator: no n-gram spans two outputs
  const size_t base = tokens_.size();
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  for (size_t i = base; i + 3 < tokens_.size(); ++i) latest_[Key(&tokens_[i])] = i + 3;
}

std::vector<int32_t> NgramCorpus::Lookup(std::span<const int32_t> sequence, int max) const {
  if (sequence.size() < 3 || max <= 0) return {};
  const int32_t* tail = sequence.data() + sequence.size() - 3;
  auto it = latest_.find(Key(tail));
  if (it == latest_.end()) return {};
  const size_t at = it->second;
  if (!std::equal(tail, tail + 3, tokens_.begin() + static_cast<int64_t>(at) - 3)) return {};
  std::vector<int32_t> out;
  for (size_t i = at; i < tokens_.size() && out.size() < static_cast<size_t>(max); ++i) {
    if (tokens_[i] < 0) break;
    out.push_back(tokens_[i]);
  }
  return out;
}

std::vector<int32_t> DraftTokens(std::span<const int32_t> sequence, int max,
                                 const NgramCorpus* corpus) {
  std::vector<int32_t> d = PromptLookup(sequence, max, 3, 3);
  if (d.empty() && corpus) d = corpus->Lookup(sequence, max);
  if (d.empty()) d = PromptLookup(sequence, max, 2, 2);
  return d;
}

}  // namespace medscribe::engine
