// Report-generation metrics as the field computes them (the COCO caption evaluation code used by
// radiology report generation papers):
//   BLEU-1..4: corpus-level modified n-gram precision with the brevity penalty (Papineni 2002).
//   ROUGE-L: per report, the LCS-based F-measure with beta = 1.2; averaged over reports.
//   CIDEr-D: TF-IDF weighted n-gram (1..4) cosine, document frequencies from the references of
//            the evaluated set, clipped candidate counts, Gaussian length penalty (sigma 6), x10.
// Text is tokenized as lower-case words; punctuation separates words and is dropped.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace medscribe::eval {

std::vector<std::string> Words(const std::string& text);

struct TextScores {
  std::array<double, 4> bleu{};  // BLEU-1 .. BLEU-4
  double rouge_l = 0, cider_d = 0;
};

// REQUIRES: hypotheses.size() == references.size() (one reference per report).
TextScores ScoreTexts(const std::vector<std::string>& hypotheses,
                      const std::vector<std::string>& references);

}  // namespace medscribe::eval
