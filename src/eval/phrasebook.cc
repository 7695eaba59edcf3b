#include "eval/phrasebook.h"

#include <algorithm>
#include <cctype>

namespace medscribe::eval {

Phrasebook::Phrasebook(const std::vector<std::string>& reports) {
  std::map<std::set<int>, std::map<std::string, int>> counts;
  for (const std::string& r : reports) {
    for (std::string s : ObservationSentences(r)) {
      while (!s.empty() && s.front() == ' ') s.erase(s.begin());
      if (s.size() < 4 || std::isdigit(static_cast<unsigned char>(s.front()))) continue;
      const Labels l = LabelReport(s);
      std::set<int> classes;
      for (int c = 1; c < kNumClasses; ++c)
        if (l.positive(c)) classes.insert(c);
      ++counts[classes][s];
    }
  }
  for (const auto& [classes, texts] : counts) {
    auto top = std::max_element(texts.begin(), texts.end(), [](const auto& a, const auto& b) {
      return a.second < b.second || (a.second == b.second && a.first > b.first);
    });
    best_[classes] = top->first;
  }
  // Plain sentences for label sets the training reports never phrase on their own (a small or
  // unlucky split), so that every class can be written; each is kept under the classes the
  // labeler reads from it, and only where the training reports gave no sentence for that set.
  static constexpr const char* kFallback[] = {"No acute cardiopulmonary abnormality",
                                              "Widened mediastinum",
                                              "Cardiomegaly",
                                              "Lung opacity",
                                              "Pulmonary nodule",
                                              "Pulmonary edema",
                                              "Consolidation",
                                              "Pneumonia",
                                              "Atelectasis",
                                              "Pneumothorax",
                                              "Pleural effusion",
                                              "Pleural thickening",
                                              "Rib fracture",
                                              "Endotracheal tube in place"};
  for (const char* text : kFallback) {
    const Labels l = LabelReport(std::string("FINDINGS: ") + text + ".");
    std::set<int> classes;
    for (int c = 1; c < kNumClasses; ++c)
      if (l.positive(c)) classes.insert(c);
    best_.emplace(classes, text);
  }
}

std::string Phrasebook::Write(const Labels& labels) const {
  std::set<int> want;
  for (int c = 1; c < kNumClasses; ++c)
    if (labels.positive(c)) want.insert(c);
  std::vector<std::string> sentences;
  if (want.empty()) {
    if (auto it = best_.find({}); it != best_.end()) sentences.push_back(it->second);
  }
  std::set<int> covered;
  while (covered.size() < want.size()) {
    // The largest phrased label set inside `want` that covers something new.
    const std::pair<const std::set<int>, std::string>* pick = nullptr;
    size_t gain = 0;
    for (const auto& entry : best_) {
      if (entry.first.empty() ||
          !std::includes(want.begin(), want.end(), entry.first.begin(), entry.first.end()))
        continue;
      size_t g = 0;
      for (int c : entry.first) g += !covered.count(c);
      if (g > gain) gain = g, pick = &entry;
    }
    if (!pick) break;  // a class the training reports never phrase without others
    covered.insert(pick->first.begin(), pick->first.end());
    sentences.push_back(pick->second);
  }
  std::string out = "FINDINGS:";
  for (const std::string& s : sentences) out += " " + s + ".";
  return out;
}

}  // namespace medscribe::eval
