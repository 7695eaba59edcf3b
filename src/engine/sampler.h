// Token sampling for one sequence: greedy, or temperature with top-k and top-p (nucleus)
// filtering, a repetition penalty over the tokens seen so far, banned tokens, and a random stream
// per request (its seed), so the same request with the same seed gives the same text whatever else
// is in the batch. Stop sequences and the token limit end a sequence (StopChecker).
//
// Logits stay inside the engine: callers get token ids and text, never scores.
//
// Thread safety: a Sampler is one request's; distinct samplers are independent.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::engine {

struct SamplingParams {
  double temperature = 0;           // 0: greedy (argmax)
  int top_k = 0;                    // 0: all tokens
  double top_p = 1.0;               // (0, 1]
  double repetition_penalty = 1.0;  // >= 1; 1: none (CTRL-style: positive logits divided)
  uint64_t seed = 0;
  int max_tokens = 256;
  std::vector<std::string> stop;  // stop sequences, matched on the decoded text
  // Tokens never chosen (constrained decoding), greedy or sampled; ids outside the vocabulary
  // are refused by the engine.
  std::vector<int32_t> banned;
  // Where the most likely token is banned, the choice is made among these tokens only (the
  // words allowed in place of the banned ones) when one of them is not banned itself; empty:
  // among all tokens not banned.
  std::vector<int32_t> redirect;
};

// InvalidArgument naming the parameter for impossible values (negative temperature, top_p
// outside (0, 1], top_k < 0, penalty < 1, max_tokens < 1, more than 16 or empty stop strings,
// more than 4096 banned or redirect tokens).
Status Validate(const SamplingParams& p);

// Constrains `logits` (vocabulary-sized) by p.banned and p.redirect: banned tokens get -inf;
// where the highest logit was a banned token's and a token of p.redirect is not banned, every
// token outside p.redirect gets -inf as well. Ids outside the vocabulary are ignored. The
// sampler and the engine's reference path both constrain through this one function.
void ApplyBans(const SamplingParams& p, std::span<float> logits);

class Sampler {
 public:
  // REQUIRES: Validate(p).ok().
  explicit Sampler(SamplingParams p);
  // The next token from `logits` (vocabulary-sized); `history` is the sequence so far (prompt
  // and generated) for the repetition penalty. `logits` is scratch space: it may be modified.
  int32_t Next(std::span<float> logits, std::span<const int32_t> history);
  const SamplingParams& params() const { return p_; }

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<int32_t> order_;  // scratch
};

// Decides when generation ends: the end token, max_tokens, or a stop sequence in the text.
class StopChecker {
 public:
  StopChecker(SamplingParams p, int32_t eos) : p_(std::move(p)), eos_(eos) {}
  // After a token is generated (`text` is all generated text so far): true when the sequence
  // is finished; `*cut` is then the length of `text` to return (a stop sequence is not part of
  // the answer).
  bool Done(int32_t token, int generated, const std::string& text, size_t* cut) const;

 private:
  SamplingParams p_;
  int32_t eos_;
};

}  // namespace medscribe::engine
