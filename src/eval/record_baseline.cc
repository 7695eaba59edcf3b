#include "eval/record_baseline.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "eval/text_metrics.h"

namespace medscribe::eval {
namespace {

using Json = nlohmann::json;

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const Json* At(const Json& j, std::initializer_list<const char*> path) {
  const Json* v = &j;
  for (const char* k : path) {
    if (!v->is_object()) return nullptr;
    auto it = v->find(k);
    if (it == v->end()) return nullptr;
    v = &*it;
  }
  return v;
}

// Words of 3+ characters, and each non-ASCII character (Chinese text has no spaces).
void AddText(const std::string& prefix, const std::string& text, std::vector<std::string>& out) {
  for (const std::string& w : Words(text))
    if (w.size() >= 3) out.push_back(prefix + w);
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t len = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 1;
    if (len > 1 && i + len <= text.size()) out.push_back(prefix + text.substr(i, len));
    i += len;
  }
}

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

std::vector<std::string> RecordFeatures(const Json& s, bool dictation) {
  std::vector<std::string> out;
  if (const Json* st = At(s, {"modalities", "structured"}); st && st->is_object()) {
    if (const Json* p = At(*st, {"patient"}); p && p->is_object()) {
      const std::string age = Str(*p, "age");
      if (!age.empty())
        out.push_back("age:" + (std::isdigit(static_cast<unsigned char>(age[0]))
                                    ? std::to_string(std::atoi(age.c_str()) / 10)
                                    : age));
      out.push_back("sex:" + Str(*p, "sex"));
    }
    if (const Json* e = At(*st, {"encounter"}); e && e->is_object()) {
      out.push_back("dept:" + Str(*e, "department"));
      out.push_back("class:" + Str(*e, "class"));
    }
    if (const Json* cs = At(*st, {"conditions"}); cs && cs->is_array()) {
      for (const Json& c : *cs) {
        // Only what was recorded before the study; a condition without that proof is left out.
        const Json* h = c.is_object() ? At(c, {"hours_before_study"}) : nullptr;
        if (!h || !h->is_number() || h->get<double>() <= 0) continue;
        out.push_back("problem:" + Str(c, "code"));
      }
    }
    if (const Json* ps = At(*st, {"procedures"}); ps && ps->is_array()) {
      for (const Json& p : *ps)
        if (p.is_object()) out.push_back("proc:" + Str(p, "code"));
    }
    if (const Json* o = At(*st, {"order"}); o && o->is_object()) {
      AddText("order:", Str(*o, "reason"), out);
      if (const Json* codes = At(*o, {"codes"}); codes && codes->is_array())
        for (const Json& c : *codes)
          if (c.is_object()) out.push_back("ordercode:" + Str(c, "code"));
    }
    if (const Json* ls = At(*st, {"labs"}); ls && ls->is_array()) {
      for (const Json& l : *ls) {
        if (!l.is_object()) continue;
        const std::string code = Str(l, "code");
        out.push_back("lab:" + code + ":" + Str(l, "interpretation"));
        if (const Json* v = At(l, {"value"}); v && v->is_number() && v->get<double>() > 0)
          out.push_back("lab:" + code + ":b" +
                        std::to_string(std::lround(2 * std::log2(v->get<double>()))));
      }
    }
  }
  if (const Json* t = At(s, {"modalities", "text_context"}); t && t->is_string())
    AddText("note:", t->get<std::string>(), out);
  if (const Json* t = At(s, {"modalities", "speech_transcript"}); dictation && t && t->is_string())
    AddText("dict:", t->get<std::string>(), out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double RecordBaseline::Score(int c, const std::vector<std::string>& f) const {
  double z = bias_[c];
  for (const std::string& x : f) {
    auto it = std::lower_bound(vocab_.begin(), vocab_.end(), x);
    if (it != vocab_.end() && *it == x) z += weights_[c][static_cast<size_t>(it - vocab_.begin())];
  }
  return Sigmoid(z);
}

RecordBaseline RecordBaseline::Train(const std::vector<std::vector<std::string>>& features,
                                     const std::vector<Labels>& labels,
                                     const std::vector<std::vector<std::string>>& tune_features,
                                     const std::vector<Labels>& tune_labels, int epochs) {
  RecordBaseline b;
  for (const auto& f : features) b.vocab_.insert(b.vocab_.end(), f.begin(), f.end());
  std::sort(b.vocab_.begin(), b.vocab_.end());
  b.vocab_.erase(std::unique(b.vocab_.begin(), b.vocab_.end()), b.vocab_.end());
  std::vector<std::vector<size_t>> index(features.size());
  for (size_t i = 0; i < features.size(); ++i)
    for (const std::string& x : features[i])
      index[i].push_back(static_cast<size_t>(std::lower_bound(b.vocab_.begin(), b.vocab_.end(), x) -
                                             b.vocab_.begin()));
  // AdaGrad on the logistic loss with L2, classes independently; a fixed visiting order.
  const double lr = 0.2, l2 = 1e-4;
  for (int c = 1; c < kNumClasses; ++c) {
    std::vector<float>& w = b.weights_[c];
    w.assign(b.vocab_.size(), 0.f);
    std::vector<float> g2(b.vocab_.size(), 1e-6f);
    float bias = 0, bias_g2 = 1e-6f;
    for (int e = 0; e < epochs; ++e) {
      for (size_t k = 0; k < index.size(); ++k) {
        const size_t i = (k * 7919 + static_cast<size_t>(e) * 104729) % index.size();
        double z = bias;
        for (size_t j : index[i]) z += w[j];
        const double grad = Sigmoid(z) - (labels[i].positive(c) ? 1.0 : 0.0);
        for (size_t j : index[i]) {
          const double gj = grad + l2 * w[j];
          g2[j] += static_cast<float>(gj * gj);
          w[j] -= static_cast<float>(lr * gj / std::sqrt(g2[j]));
        }
        bias_g2 += static_cast<float>(grad * grad);
        bias -= static_cast<float>(lr * grad / std::sqrt(bias_g2));
      }
    }
    b.bias_[c] = bias;
  }
  // Thresholds that maximize each class's F1 on the tuning pairs.
  const auto& tf = tune_features.empty() ? features : tune_features;
  const auto& tl = tune_features.empty() ? labels : tune_labels;
  for (int c = 1; c < kNumClasses; ++c) {
    std::vector<std::pair<double, bool>> scored;
    for (size_t i = 0; i < tf.size(); ++i)
      scored.emplace_back(b.Score(c, tf[i]), tl[i].positive(c));
    double best = -1, best_t = 0.5;
    for (double t = 0.05; t < 0.96; t += 0.05) {
      double tp = 0, fp = 0, fn = 0;
      for (const auto& [p, y] : scored) {
        tp += p >= t && y, fp += p >= t && !y, fn += p < t && y;
      }
      const double f1 = tp ? 2 * tp / (2 * tp + fp + fn) : 0;
      if (f1 > best) best = f1, best_t = t;
    }
    b.threshold_[c] = best_t;
  }
  return b;
}

Labels RecordBaseline::Predict(const std::vector<std::string>& features) const {
  Labels l;
  bool any = false;
  for (int c = 1; c < kNumClasses; ++c) {
    if (Score(c, features) < threshold_[c]) continue;
    l.mention[c] = Mention::kPositive;
    any |= c != kSupportDevices;
  }
  l.mention[kNoFinding] = any ? Mention::kAbsent : Mention::kPositive;
  return l;
}

}  // namespace medscribe::eval
