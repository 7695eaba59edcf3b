// Back-off n-gram language models in the ARPA format that PocketSphinx (and every other decoder)
// reads, built from text with absolute discounting.
//
// For an n-gram h w seen c(h w) times after history h (seen c(h) times, followed by N(h) distinct
// words): p(w | h) = (c(h w) - D) / c(h); the mass D N(h) / c(h) left over goes to words not seen
// after h through the back-off weight bow(h), chosen so that p(. | h) sums to one. Unigrams are
// discounted the same way towards <unk>. The result is a proper distribution at every order.
//
// Example:
//   NgramCounter counter(3);
//   for (const std::string& s : sentences) counter.Add(TokenizeForLm(s));
//   std::string arpa = counter.ToArpa(0.7);
//
// Thread safety: not thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace medscribe::speech {

// Lower-case words of a sentence for language modelling: letters, digits and apostrophes;
// numbers up to 9999 spelled out ("12" -> "twelve"), decimals read digit by digit.
std::vector<std::string> TokenizeForLm(std::string_view sentence);
// Splits text into sentences at '.', '!', '?', ':', ';' and line breaks.
std::vector<std::string> SplitSentences(std::string_view text);

class NgramCounter {
 public:
  // REQUIRES: 1 <= order <= 5.
  explicit NgramCounter(int order) : order_(order) {}
  // Counts one sentence; <s> and </s> are added around it. Empty sentences are ignored.
  void Add(const std::vector<std::string>& words);
  // REQUIRES: 0 < discount < 1, and at least one sentence added.
  std::string ToArpa(double discount) const;
  size_t vocabulary_size() const;

 private:
  int order_;
  // counts_[k] maps (k+1)-grams, words joined by ' ', to counts.
  std::map<std::string, double> counts_[5];
};

}  // namespace medscribe::speech
