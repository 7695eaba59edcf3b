#include "eval/text_metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

namespace medscribe::eval {
namespace {

using Ngrams = std::map<std::vector<std::string>, double>;

Ngrams Count(const std::vector<std::string>& w, size_t n) {
  Ngrams out;
  for (size_t i = 0; i + n <= w.size(); ++i)
    out[std::vector<std::string>(w.begin() + i, w.begin() + i + n)] += 1;
  return out;
}

size_t Lcs(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

TextScores ScoreTexts(const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
  TextScores s;
  const size_t n_docs = std::min(hyps.size(), refs.size());
  if (n_docs == 0) return s;
  std::vector<std::vector<std::string>> H, R;
  for (size_t i = 0; i < n_docs; ++i) {
    H.push_back(Words(hyps[i]));
    R.push_back(Words(refs[i]));
  }
  // BLEU (corpus level).
  std::array<double, 4> match{}, total{};
  double hyp_len = 0, ref_len = 0;
  for (size_t d = 0; d < n_docs; ++d) {
    hyp_len += H[d].size();
    ref_len += R[d].size();
    for (size_t n = 1; n <= 4; ++n) {
      const Ngrams h = Count(H[d], n), r = Count(R[d], n);
      for (const auto& [g, c] : h) {
        auto it = r.find(g);
        match[n - 1] += std::min(c, it == r.end() ? 0.0 : it->second);
        total[n - 1] += c;
      }
    }
  }
  const double bp = hyp_len >= ref_len || hyp_len == 0 ? 1.0 : std::exp(1.0 - ref_len / hyp_len);
  double log_sum = 0;
  for (size_t n = 0; n < 4; ++n) {
    const double p = total[n] > 0 ? match[n] / total[n] : 0.0;
    log_sum += p > 0 ? std::log(p) : -1e9;
    s.bleu[n] = hyp_len == 0 ? 0.0 : bp * std::exp(log_sum / static_cast<double>(n + 1));
  }
  // ROUGE-L.
  const double beta = 1.2;
  double rouge = 0;
  for (size_t d = 0; d < n_docs; ++d) {
    const double l = static_cast<double>(Lcs(H[d], R[d]));
    if (l == 0 || H[d].empty() || R[d].empty()) continue;
    const double prec = l / H[d].size(), rec = l / R[d].size();
    rouge += (1 + beta * beta) * prec * rec / (rec + beta * beta * prec);
  }
  s.rouge_l = rouge / n_docs;
  // CIDEr-D.
  double cider = 0;
  for (size_t n = 1; n <= 4; ++n) {
    std::map<std::vector<std::string>, double> df;
    std::vector<Ngrams> rc(n_docs), hc(n_docs);
    for (size_t d = 0; d < n_docs; ++d) {
      rc[d] = Count(R[d], n);
      hc[d] = Count(H[d], n);
      for (const auto& [g, c] : rc[d]) df[g] += 1;
    }
    const double log_n = std::log(static_cast<double>(n_docs));
    for (size_t d = 0; d < n_docs; ++d) {
      auto vec = [&](const Ngrams& counts, double len) {
        std::map<std::vector<std::string>, double> v;
        double norm = 0;
        for (const auto& [g, c] : counts) {
          auto it = df.find(g);
          const double idf = log_n - std::log(std::max(1.0, it == df.end() ? 0.0 : it->second));
          v[g] = c / std::max(1.0, len) * idf;  // term frequency normalized by length, as in CIDEr
          norm += v[g] * v[g];
        }
        return std::pair(v, std::sqrt(norm));
      };
      const auto [hv, hn] = vec(hc[d], 1.0);
      const auto [rv, rn] = vec(rc[d], 1.0);
      double dot = 0;
      for (const auto& [g, x] : hv) {
        auto it = rv.find(g);
        if (it != rv.end()) dot += std::min(x, it->second) * it->second;  // clipped (CIDEr-D)
      }
      const double delta = static_cast<double>(H[d].size()) - static_cast<double>(R[d].size());
      const double penalty = std::exp(-(delta * delta) / (2 * 6.0 * 6.0));
      if (hn > 0 && rn > 0) cider += penalty * dot / (hn * rn) / 4.0;
    }
  }
  s.cider_d = 10.0 * cider / n_docs;
  return s;
}

}  // namespace medscribe::eval
