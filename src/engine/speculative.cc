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
    after_.clear();
  }
  if (tokens.size() + 1 > capacity_) return;
  tokens_.push_back(-1);  // separator: no n-gram spans two outputs
  const size_t base = tokens_.size();
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  for (size_t i = base; i + 3 < tokens_.size(); ++i) after_[Key(&tokens_[i])].push_back(i + 3);
}

std::vector<int32_t> NgramCorpus::Lookup(std::span<const int32_t> sequence, int max,
                                         int* matched) const {
  if (matched) *matched = 0;
  if (sequence.size() < 3 || max <= 0) return {};
  const int32_t* tail = sequence.data() + sequence.size() - 3;
  auto it = after_.find(Key(tail));
  if (it == after_.end()) return {};
  const std::vector<size_t>& at = it->second;
  size_t best = 0;
  int best_len = 0;
  for (size_t c = 0; c < std::min(at.size(), kCandidates); ++c) {
    const size_t p = at[at.size() - 1 - c];
    int len = 0;
    while (len < kLongestMatch && static_cast<size_t>(len) < sequence.size() &&
           static_cast<size_t>(len) < p &&
           tokens_[p - 1 - static_cast<size_t>(len)] ==
               sequence[sequence.size() - 1 - static_cast<size_t>(len)])
      ++len;
    if (len > best_len) best = p, best_len = len;
  }
  if (best_len < 3) return {};  // a hash collision
  if (matched) *matched = best_len;
  std::vector<int32_t> out;
  for (size_t i = best; i < tokens_.size() && out.size() < static_cast<size_t>(max); ++i) {
    if (tokens_[i] < 0) break;
    out.push_back(tokens_[i]);
  }
  return out;
}

std::vector<int32_t> DraftTokens(std::span<const int32_t> sequence, int max,
                                 const NgramCorpus* corpus) {
  // A corpus match of 4+ tokens predicts a report's next words better than the prompt.
  constexpr int kCorpusFirst = 4;
  int matched = 0;
  std::vector<int32_t> c =
      corpus ? corpus->Lookup(sequence, max, &matched) : std::vector<int32_t>{};
  if (matched >= kCorpusFirst) return c;
  std::vector<int32_t> d = PromptLookup(sequence, max, 3, 3);
  if (d.empty()) d = std::move(c);
  if (d.empty()) d = PromptLookup(sequence, max, 2, 2);
  return d;
}

}  // namespace medscribe::engine
