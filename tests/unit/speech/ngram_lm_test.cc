#include "speech/ngram_lm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace medscribe::speech {
namespace {

// A minimal ARPA reader for checking the model: log10 probabilities and back-off weights.
struct Arpa {
  std::map<std::string, double> logp, logbow;
  std::set<std::string> vocab;
  int order = 0;
  explicit Arpa(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      if (line.size() > 3 && line[0] == '\\' && line.find("-grams:") != std::string::npos) {
        n = line[1] - '0';
        order = std::max(order, n);
        continue;
      }
      if (n == 0 || line.empty() || line[0] == '\\') continue;
      std::istringstream f(line);
      double lp;
      f >> lp;
      std::vector<std::string> words(static_cast<size_t>(n));
      for (auto& w : words) f >> w;
      std::string gram;
      for (const auto& w : words) gram += (gram.empty() ? "" : " ") + w;
      logp[gram] = lp;
      double lb;
      if (f >> lb) logbow[gram] = lb;
      if (n == 1 && gram != "<s>") vocab.insert(gram);
    }
  }
  // Back-off probability of w after the history words h.
  double P(std::vector<std::string> h, const std::string& w) const {
    std::string gram;
    for (const auto& x : h) gram += x + " ";
    gram += w;
    if (auto it = logp.find(gram); it != logp.end()) return std::pow(10.0, it->second);
    if (h.empty()) return 0;
    std::string hist;
    for (const auto& x : h) hist += (hist.empty() ? "" : " ") + x;
    const double bow = logbow.count(hist) ? std::pow(10.0, logbow.at(hist)) : 1.0;
    h.erase(h.begin());
    return bow * P(h, w);
  }
};

const char* kCorpus =
    "Moderate right pleural effusion. Small left pleural effusion, increased compared with the "
    "prior study.\n"
    "No pneumothorax. No pleural effusion or pneumothorax. 12 mm nodule in the right upper zone.\n"
    "Compared with the prior study, the effusion has decreased. Clinical question: evaluate for "
    "pneumonia.";

TEST(NgramLmTest, TokenizesAndSpellsNumbers) {
  EXPECT_EQ(
      TokenizeForLm("12 mm nodule, CTR 0.55."),
      (std::vector<std::string>{"twelve", "mm", "nodule", "ctr", "zero", "point", "five", "five"}));
  EXPECT_EQ(TokenizeForLm("2024"), (std::vector<std::string>{"two", "thousand", "twenty", "four"}));
  EXPECT_EQ(TokenizeForLm("patient's"), (std::vector<std::string>{"patient's"}));
  EXPECT_EQ(SplitSentences("A b. C 1.5 d: e\nf").size(), 4u);
}

TEST(NgramLmTest, EveryHistoryIsAProperDistribution) {
  NgramCounter counter(3);
  for (const std::string& s : SplitSentences(kCorpus)) counter.Add(TokenizeForLm(s));
  const Arpa lm(counter.ToArpa(0.7));
  ASSERT_EQ(lm.order, 3);
  EXPECT_TRUE(lm.vocab.count("<unk>"));
  EXPECT_TRUE(lm.vocab.count("</s>"));
  // Histories: the empty one, every seen word, every seen bigram, and some unseen ones.
  std::vector<std::vector<std::string>> histories = {{},
                                                     {"<s>"},
                                                     {"pleural"},
                                                     {"<s>", "no"},
                                                     {"right", "pleural"},
                                                     {"the", "prior"},
                                                     {"nodule", "effusion"},
                                                     {"zebra", "pleural"}};
  for (const auto& h : histories) {
    double sum = 0;
    for (const std::string& w : lm.vocab) sum += lm.P(h, w);
    std::string name;
    for (const auto& x : h) name += x + " ";
    EXPECT_NEAR(sum, 1.0, 1e-4) << "history '" << name << "'";
  }
  // Seen continuations are likelier than unseen ones.
  EXPECT_GT(lm.P({"right", "pleural"}, "effusion"), 10 * lm.P({"right", "pleural"}, "nodule"));
  EXPECT_NEAR(lm.P({"right", "pleural"}, "effusion"), 0.3, 1e-4);  // (1 - 0.7) / 1
}

}  // namespace
}  // namespace medscribe::speech
