// Prompt-lookup drafting for speculative decoding: reports repeat much of their prompt (the
// history, the dictation) and of themselves, so the tokens that followed the latest occurrence
// of the sequence's last n tokens are a good guess for what follows now. The engine verifies
// the guess in one forward pass and keeps only what greedy decoding would have produced.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace medscribe::engine {

// Up to `max` tokens that followed the most recent earlier occurrence of the last n tokens of
// `sequence`, trying n = max_ngram down to min_ngram; empty when nothing matches.
std::vector<int32_t> PromptLookup(std::span<const int32_t> sequence, int max, int max_ngram = 3,
                                  int min_ngram = 1);

}  // namespace medscribe::engine
