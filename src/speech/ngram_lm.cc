#include "speech/ngram_lm.h"

#include <cctype>
#include <cmath>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

namespace medscribe::speech {
namespace {

const char* kOnes[] = {"zero",    "one",     "two",       "three",    "four",
                       "five",    "six",     "seven",     "eight",    "nine",
                       "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                       "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
const char* kTens[] = {"",      "",      "twenty",  "thirty", "forty",
                       "fifty", "sixty", "seventy", "eighty", "ninety"};

void SpellNumber(int n, std::vector<std::string>& out) {
  if (n >= 1000) {
    SpellNumber(n / 1000, out);
    out.push_back("thousand");
    if (n % 1000) SpellNumber(n % 1000, out);
    return;
  }
  if (n >= 100) {
    out.push_back(kOnes[n / 100]);
    out.push_back("hundred");
    if (n % 100) SpellNumber(n % 100, out);
    return;
  }
  if (n >= 20) {
    out.push_back(kTens[n / 10]);
    if (n % 10) out.push_back(kOnes[n % 10]);
    return;
  }
  out.push_back(kOnes[n]);
}

std::string HistoryOf(const std::string& ngram) {
  const size_t sp = ngram.rfind(' ');
  return sp == std::string::npos ? std::string() : ngram.substr(0, sp);
}
std::string DropFirst(const std::string& ngram) {
  const size_t sp = ngram.find(' ');
  return sp == std::string::npos ? std::string() : ngram.substr(sp + 1);
}

}  // namespace

std::vector<std::string> TokenizeForLm(std::string_view s) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isdigit(c)) {
      size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      const std::string digits(s.substr(i, j - i));
      if (digits.size() <= 4) {
        SpellNumber(std::stoi(digits), words);
      } else {
        for (char d : digits) words.push_back(kOnes[d - '0']);
      }
      if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
        words.push_back("point");
        for (j = j + 1; j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])); ++j) {
          words.push_back(kOnes[s[j] - '0']);
        }
      }
      i = j;
    } else if (std::isalpha(c)) {
      std::string w;
      while (i < s.size() && (std::isalpha(static_cast<unsigned char>(s[i])) || s[i] == '\'')) {
        w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[i]))));
        ++i;
      }
      words.push_back(w);
    } else {
      ++i;
    }
  }
  return words;
}

std::vector<std::string> SplitSentences(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool decimal_point = c == '.' && i > 0 && i + 1 < text.size() &&
                               std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
                               std::isdigit(static_cast<unsigned char>(text[i + 1]));
    if (!decimal_point && (c == '.' || c == '!' || c == '?' || c == ':' || c == ';' || c == '\n')) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

void NgramCounter::Add(const std::vector<std::string>& words) {
  if (words.empty()) return;
  std::vector<std::string> w = {"<s>"};
  w.insert(w.end(), words.begin(), words.end());
  w.push_back("</s>");
  for (size_t end = 1; end <= w.size(); ++end) {
    std::string gram;
    for (int n = 1; n <= order_ && n <= static_cast<int>(end); ++n) {
      gram = n == 1 ? w[end - 1] : w[end - n] + " " + gram;
      if (n == 1 && gram == "<s>") continue;  // <s> is only ever a history
      counts_[n - 1][gram] += 1;
    }
  }
}

size_t NgramCounter::vocabulary_size() const { return counts_[0].size(); }

std::string NgramCounter::ToArpa(double d) const {
  // Probabilities (not logs) per order, and back-off weights per history.
  std::vector<std::map<std::string, double>> prob(static_cast<size_t>(order_));
  std::vector<std::unordered_map<std::string, double>> bow(static_cast<size_t>(order_));

  // Unigrams: absolute discounting towards <unk>.
  double total = 0;
  for (const auto& [w, c] : counts_[0]) total += c;
  const double unk_mass = d * static_cast<double>(counts_[0].size()) / total;
  for (const auto& [w, c] : counts_[0]) prob[0][w] = (c - d) / total;
  prob[0]["<unk>"] = unk_mass;
  prob[0]["<s>"] = 0;  // never predicted

  // Higher orders.
  for (int n = 2; n <= order_; ++n) {
    std::unordered_map<std::string, double> hist_total, hist_types;
    for (const auto& [g, c] : counts_[n - 1]) {
      hist_total[HistoryOf(g)] += c;
      hist_types[HistoryOf(g)] += 1;
    }
    for (const auto& [g, c] : counts_[n - 1]) prob[n - 1][g] = (c - d) / hist_total[HistoryOf(g)];
    // bow(h) = leftover / (1 - sum over seen w of p_lower(w | h without its first word)).
    std::unordered_map<std::string, double> lower_seen;
    for (const auto& [g, c] : counts_[n - 1]) {
      const std::string lower = DropFirst(g);
      double p = 0;
      // p_lower is itself a back-off probability; it is explicit because every suffix of a seen
      // n-gram was seen at the lower order.
      auto it = prob[n - 2].find(lower);
      if (it != prob[n - 2].end()) p = it->second;
      lower_seen[HistoryOf(g)] += p;
    }
    for (const auto& [h, t] : hist_total) {
      const double leftover = d * hist_types[h] / t;
      const double denom = 1.0 - lower_seen[h];
      bow[n - 2][h] = denom > 1e-12 ? leftover / denom : 1.0;
    }
  }

  std::string out = "\\data\\\n";
  for (int n = 1; n <= order_; ++n) out += fmt::format("ngram {}={}\n", n, prob[n - 1].size());
  for (int n = 1; n <= order_; ++n) {
    out += fmt::format("\n\\{}-grams:\n", n);
    for (const auto& [g, p] : prob[n - 1]) {
      const double logp = p > 0 ? std::log10(p) : -99.0;
      out += fmt::format("{:.6f} {}", logp, g);
      if (n < order_) {
        auto b = bow[n - 1].find(g);
        if (b != bow[n - 1].end()) out += fmt::format(" {:.6f}", std::log10(b->second));
      }
      out += "\n";
    }
  }
  out += "\n\\end\\\n";
  return out;
}

}  // namespace medscribe::speech
