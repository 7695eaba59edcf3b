// Prompt-lookup drafting for speculative decoding: reports repeat much of their prompt (the
// history, the dictation) and of themselves, so the tokens that followed the latest occurrence
// of the sequence's last n tokens are a good guess for what follows now. The engine verifies
// the guess in one forward pass and keeps only what greedy decoding would have produced.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace medscribe::engine {

// Up to `max` tokens that followed the most recent earlier occurrence of the last n tokens of
// `sequence`, trying n = max_ngram down to min_ngram; empty when nothing matches.
std::vector<int32_t> PromptLookup(std::span<const int32_t> sequence, int max, int max_ngram = 3,
                                  int min_ngram = 1);

}  // namespace medscribe::engine

namespace medscribe::engine {

// Earlier outputs as a drafting corpus: reports share much of their wording across studies
// ("No pleural effusion or pneumothorax."), so what followed an earlier occurrence of the last
// tokens is a good draft, the better the further back the occurrence matches. Holds the most
// recent `capacity` tokens (earlier ones are dropped all at once). Drafts never change outputs:
// the engine verifies them.
//
// Thread safety: not thread-safe (the engine thread).
class NgramCorpus {
 public:
  explicit NgramCorpus(size_t capacity = 1 << 20) : capacity_(capacity) {}
  // Appends a finished output (a separator keeps outputs apart).
  void Add(std::span<const int32_t> tokens);
  // Up to `max` tokens that followed the earlier occurrence of the last 3 tokens of `sequence`
  // whose preceding tokens match `sequence` furthest back (the latest among equals; the most
  // recent kCandidates occurrences are compared). `*matched`, when given: the tokens matched.
  std::vector<int32_t> Lookup(std::span<const int32_t> sequence, int max,
                              int* matched = nullptr) const;
  size_t size() const { return tokens_.size(); }

 private:
  static constexpr size_t kCandidates = 64;
  static constexpr int kLongestMatch = 32;
  static uint64_t Key(const int32_t* t);
  size_t capacity_;
  std::vector<int32_t> tokens_;
  std::unordered_map<uint64_t, std::vector<size_t>> after_;  // 3-gram -> positions after it
};

// The engine's drafter: the corpus where its match reaches 4 tokens, else prompt lookup with
// 3-grams, then the corpus, then prompt lookup with 2-grams.
std::vector<int32_t> DraftTokens(std::span<const int32_t> sequence, int max,
                                 const NgramCorpus* corpus);

}  // namespace medscribe::engine
