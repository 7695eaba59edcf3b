#include "model/dictated_change.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace medscribe::model {
namespace {

std::vector<std::string> LowerWords(std::string_view text) {
  std::vector<std::string> words;
  std::string w;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0) {
      w += static_cast<char>(std::tolower(c));
    } else if (!w.empty()) {
      words.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) words.push_back(std::move(w));
  return words;
}

bool In(const std::string& w, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), w) != set.end();
}

bool IsAnchor(const std::string& w) {
  return In(w, {"prior", "previous", "compared", "comparison", "interval", "since"});
}

// The change word at words[i] (with what follows it), or kNotStated.
DictatedChange ChangeWordAt(const std::vector<std::string>& w, size_t i) {
  const std::string& x = w[i];
  const auto next = [&](size_t k) -> std::string_view {
    return i + k < w.size() ? std::string_view(w[i + k]) : std::string_view();
  };
  if (x == "no") {
    if (next(1) == "new" || next(1) == "change" ||
        ((next(1) == "interval" || next(1) == "significant") && next(2) == "change"))
      return DictatedChange::kUnchanged;
    return DictatedChange::kNotStated;
  }
  for (const DictatedChange c : {DictatedChange::kNew, DictatedChange::kIncreased,
                                 DictatedChange::kDecreased, DictatedChange::kUnchanged}) {
    const std::span<const std::string_view> words = ChangeWords(c);
    if (std::find(words.begin(), words.end(), x) != words.end()) return c;
  }
  return DictatedChange::kNotStated;
}

}  // namespace

DictatedChange ChangeOfDictation(std::string_view transcript) {
  const std::vector<std::string> w = LowerWords(transcript);
  std::vector<size_t> anchors;
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] == "no" && i + 1 < w.size() && In(w[i + 1], {"prior", "previous", "comparison"}))
      return DictatedChange::kNoPrior;
    if (IsAnchor(w[i])) anchors.push_back(i);
  }
  const auto near_anchor = [&](size_t i) {
    return std::any_of(anchors.begin(), anchors.end(), [&](size_t a) {
      return std::abs(static_cast<long>(a) - static_cast<long>(i)) <= kAnchorWindow;
    });
  };
  for (size_t i = 0; i < w.size(); ++i) {
    const DictatedChange c = ChangeWordAt(w, i);
    if (c != DictatedChange::kNotStated && near_anchor(i)) return c;
  }
  return DictatedChange::kNotStated;
}

std::span<const std::string_view> ChangeWords(DictatedChange c) {
  static constexpr std::string_view kNew[] = {"new"};
  static constexpr std::string_view kIncreased[] = {"increased",  "increasing",  "larger",
                                                    "worse",      "worsened",    "worsening",
                                                    "progressed", "progression", "enlarging"};
  static constexpr std::string_view kDecreased[] = {"decreased", "decreasing", "smaller",
                                                    "improved",  "improving",  "improvement",
                                                    "resolving", "resolved"};
  static constexpr std::string_view kUnchanged[] = {"unchanged", "stable"};
  switch (c) {
    case DictatedChange::kNew:
      return kNew;
    case DictatedChange::kIncreased:
      return kIncreased;
    case DictatedChange::kDecreased:
      return kDecreased;
    case DictatedChange::kUnchanged:
      return kUnchanged;
    case DictatedChange::kNotStated:
    case DictatedChange::kNoPrior:
      break;
  }
  return {};
}

std::vector<std::string_view> ContradictingWords(DictatedChange c) {
  std::vector<std::string_view> out;
  if (c == DictatedChange::kNotStated) return out;
  for (const DictatedChange d : {DictatedChange::kNew, DictatedChange::kIncreased,
                                 DictatedChange::kDecreased, DictatedChange::kUnchanged}) {
    if (d == c) continue;
    const std::span<const std::string_view> words = ChangeWords(d);
    out.insert(out.end(), words.begin(), words.end());
  }
  return out;
}

namespace {

// `w` (non-empty) with its first letter in upper case.
std::string Capitalized(std::string_view w) {
  std::string out(w);
  out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// The words of `words`, lower case and capitalized, that `encode` makes one token each; the
// lower-case words it splits are appended to `split` (optional). Sorted, without repeats.
template <typename Words>
std::vector<int> SingleTokens(const Words& words,
                              const std::function<std::vector<int>(std::string_view)>& encode,
                              std::vector<std::string>* split) {
  std::vector<int> out;
  for (const std::string_view w : words) {
    const std::string capitalized = Capitalized(w);
    for (const std::string_view form : {w, std::string_view(capitalized)}) {
      if (const std::vector<int> ids = encode(form); ids.size() == 1) {
        out.push_back(ids[0]);
      } else if (split != nullptr && form == w) {
        split->emplace_back(w);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::vector<int> ContradictingTokens(
    DictatedChange c, const std::function<std::vector<int>(std::string_view)>& encode,
    std::vector<std::string>* split) {
  return SingleTokens(ContradictingWords(c), encode, split);
}

std::vector<int> StatingTokens(DictatedChange c,
                               const std::function<std::vector<int>(std::string_view)>& encode) {
  return SingleTokens(ChangeWords(c), encode, nullptr);
}

std::vector<std::string> ChangeWordPieces() {
  static constexpr std::string_view kWordStart = "\u2581";  // SentencePiece's "▁"
  std::vector<std::string> out;
  for (const DictatedChange c : {DictatedChange::kNew, DictatedChange::kIncreased,
                                 DictatedChange::kDecreased, DictatedChange::kUnchanged}) {
    for (const std::string_view w : ChangeWords(c)) {
      out.push_back(std::string(kWordStart) + std::string(w));
      out.push_back(std::string(kWordStart) + Capitalized(w));
    }
  }
  return out;
}

std::string_view ChangeToken(DictatedChange c) {
  if (c == DictatedChange::kNotStated) return "";
  return kChangeTokens[static_cast<int>(c) - 1];
}

}  // namespace medscribe::model
