#include "model/stated_size.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace medscribe::model {
namespace {

bool Digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool Alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool Alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One past the end of the first sentence of `t`: after a line end, or after a '.' that is not a
// decimal point (followed by something other than a digit; at the end of the text only when
// `final`). npos while the stream has not yet shown where it ends.
size_t SentenceEnd(std::string_view t, bool final) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\n') return i + 1;
    if (t[i] != '.') continue;
    if (i + 1 < t.size()) {
      if (!Digit(t[i + 1])) return i + 1;
    } else {
      return final ? i + 1 : std::string_view::npos;
    }
  }
  return final ? t.size() : std::string_view::npos;
}

// Whether the words before a number make it a threshold rather than a measurement.
bool Threshold(std::string_view lower_before) {
  while (!lower_before.empty() && lower_before.back() == ' ') lower_before.remove_suffix(1);
  for (std::string_view w : {"under", "below", "than", "over", "above", "<", ">", "up to",
                             "at least", "at most", "exceeding"}) {
    if (lower_before.ends_with(w)) return true;
  }
  return false;
}

std::string EditSentence(std::string_view s, double mm) {
  const std::string low = Lower(s);
  const auto has = [&](std::string_view w) { return low.find(w) != std::string::npos; };
  if (!has("nodul") && !has("mass")) return std::string(s);
  if (has("recommend") || has("follow-up") || has("follow up")) return std::string(s);
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (!Digit(s[i]) || (i > 0 && (Alnum(s[i - 1]) || s[i - 1] == '.'))) {
      out += s[i++];
      continue;
    }
    size_t k = i;
    while (k < s.size() && Digit(s[k])) ++k;
    if (k + 1 < s.size() && s[k] == '.' && Digit(s[k + 1])) {
      for (++k; k < s.size() && Digit(s[k]);) ++k;
    }
    size_t u = k;
    while (u < s.size() && (s[u] == ' ' || s[u] == '-')) ++u;
    const std::string_view unit = std::string_view(low).substr(u, 2);
    const bool unit_ends = u + 2 >= s.size() || !Alpha(s[u + 2]);
    if (unit_ends && (unit == "mm" || unit == "cm") &&
        !Threshold(std::string_view(low).substr(0, i))) {
      char number[32];
      if (unit == "mm") {
        std::snprintf(number, sizeof number, "%ld", std::lround(mm));
      } else {
        std::snprintf(number, sizeof number, "%.1f", mm / 10);
      }
      out.append(number).append(s.substr(k, u + 2 - k));  // the separator and the unit as written
      i = u + 2;
      continue;
    }
    out.append(s.substr(i, k - i));
    i = k;
  }
  return out;
}

}  // namespace

std::string LesionSizeStatement::Feed(std::string_view piece) {
  pending_.append(piece);
  std::string out;
  if (!(size_mm_ > 0)) {
    out.swap(pending_);
    return out;
  }
  for (size_t end; (end = SentenceEnd(pending_, false)) != std::string::npos;) {
    out += EditSentence(std::string_view(pending_).substr(0, end), size_mm_);
    pending_.erase(0, end);
  }
  return out;
}

std::string LesionSizeStatement::Finish() {
  std::string out;
  if (!(size_mm_ > 0)) {
    out.swap(pending_);
    return out;
  }
  while (!pending_.empty()) {
    const size_t end = SentenceEnd(pending_, true);
    out += EditSentence(std::string_view(pending_).substr(0, end), size_mm_);
    pending_.erase(0, end);
  }
  return out;
}

std::string StateLesionSize(std::string_view draft, double size_mm) {
  LesionSizeStatement s(size_mm);
  std::string out = s.Feed(draft);
  return out + s.Finish();
}

}  // namespace medscribe::model
