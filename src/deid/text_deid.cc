#include "deid/text_deid.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <regex>

#include <fmt/format.h>

#include "common/civil_time.h"

namespace medscribe::deid {
namespace {

constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};

// Escapes regex metacharacters in a literal.
std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::strchr("\\^$.|?*+()[]{}/-", c) && c != '\0') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

bool ValidDate(int y, int m, int d) {
  return y >= 1800 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

using Rewrite = std::function<std::string(const std::smatch&)>;

struct Rule {
  std::regex re;
  Rewrite rewrite;
};

std::string ApplyRule(const std::string& text, const Rule& rule) {
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), rule.re);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out.append(text, last, static_cast<size_t>(m.position(0)) - last);
    out += rule.rewrite(m);
    last = static_cast<size_t>(m.position(0) + m.length(0));
  }
  out.append(text, last, std::string::npos);
  return out;
}

Rewrite Tag(const char* tag) {
  return [tag](const std::smatch&) { return std::string(tag); };
}

}  // namespace

struct TextScrubber::Impl {
  std::vector<Rule> rules;
};

TextScrubber::TextScrubber(std::vector<std::string> known, int shift)
    : impl_(std::make_unique<Impl>()) {
  auto& rules = impl_->rules;
  const auto icase = std::regex::ECMAScript | std::regex::icase;

  // 1. Known identifiers, longest first so that "Mary Smith" goes before "Mary".
  known.erase(
      std::remove_if(known.begin(), known.end(), [](const std::string& s) { return s.size() < 3; }),
      known.end());
  std::sort(known.begin(), known.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  known.erase(std::unique(known.begin(), known.end()), known.end());
  if (!known.empty()) {
    std::string alternation;
    for (const std::string& k : known) alternation += (alternation.empty() ? "" : "|") + Escape(k);
    rules.push_back({std::regex(alternation, icase), Tag("[REDACTED]")});
  }

  // 2. Dates, shifted and kept in their format.
  auto shifted = [shift](int y, int m, int d) { return AddDays(Date{y, m, d}, shift); };
  rules.push_back({std::regex(R"(\b(\d{4})-(\d{2})-(\d{2})\b)"), [shifted](const std::smatch& m) {
                     const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
                     return ValidDate(y, mo, d) ? shifted(y, mo, d).Iso() : std::string("[DATE]");
                   }});
  rules.push_back(
      {std::regex(R"(\b(\d{1,2})/(\d{1,2})/(\d{4})\b)"), [shifted](const std::smatch& m) {
         const int mo = std::stoi(m[1]), d = std::stoi(m[2]), y = std::stoi(m[3]);
         if (!ValidDate(y, mo, d)) return std::string("[DATE]");
         const Date s = shifted(y, mo, d);
         return fmt::format("{:02d}/{:02d}/{:04d}", s.month, s.day, s.year);
       }});
  std::string months;
  for (const char* m : kMonths) months += (months.empty() ? "" : "|") + std::string(m);
  rules.push_back(
      {std::regex("\\b(" + months + ") (\\d{1,2}), (\\d{4})\\b"), [shifted](const std::smatch& m) {
         int mo = 1;
         for (int i = 0; i < 12; ++i)
           if (m[1] == kMonths[i]) mo = i + 1;
         const int d = std::stoi(m[2]), y = std::stoi(m[3]);
         if (!ValidDate(y, mo, d)) return std::string("[DATE]");
         const Date s = shifted(y, mo, d);
         return fmt::format("{} {}, {}", kMonths[s.month - 1], s.day, s.year);
       }});
  rules.push_back(
      {std::regex("(\\d{4})年(\\d{1,2})月(\\d{1,2})日"), [shifted](const std::smatch& m) {
         const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
         if (!ValidDate(y, mo, d)) return std::string("[DATE]");
         const Date s = shifted(y, mo, d);
         return fmt::format("{}年{}月{}日", s.year, s.month, s.day);
       }});

  // 3. Contact details and numbers.
  rules.push_back(
      {std::regex(R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})"), Tag("[EMAIL]")});
  rules.push_back(
      {std::regex(
           R"(\(\d{3}\) ?\d{3}-\d{4}|\b\d{3}[-.]\d{3}[-.]\d{4}\b|\b09\d{2}-?\d{3}-?\d{3}\b)"),
       Tag("[PHONE]")});
  rules.push_back({std::regex(R"(\b\d{3}-\d{2}-\d{4}\b)"), Tag("[ID]")});
  rules.push_back({std::regex(R"(\b[A-Z][12]\d{8}\b)"), Tag("[ID]")});
  rules.push_back({std::regex(R"(\bMRN[:#]? ?\d{4,}\b)", icase), Tag("[MRN]")});
  rules.push_back({std::regex(R"(\bACC\d{4,}\b)"), Tag("[ACCESSION]")});
  rules.push_back(
      {std::regex(
           R"(\b\d{1,5} (?:[A-Z][a-z]+ ){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Court|Ct|Boulevard|Blvd|Way|Place|Pl)\b\.?)"),
       Tag("[ADDRESS]")});
  // std::regex works on bytes, so multi-byte delimiters are matched as sequences (lookahead),
  // never in bracket expressions.
  rules.push_back({std::regex("(住址|地址)[：:]?.+?(?=，|。|；|\\n|$)"),
                   [](const std::smatch& m) { return m[1].str() + "[ADDRESS]"; }});

  // 4. Names in context and old ages.
  rules.push_back({std::regex(R"(\b(Dr\.?|Doctor) [A-Z][a-z]+(?: [A-Z]\.)?(?: [A-Z][a-z'-]+)?)"),
                   [](const std::smatch& m) { return m[1].str() + " [NAME]"; }});
  rules.push_back({std::regex("[A-Za-z'-]+ [A-Za-z'-]+醫師"), Tag("[NAME]醫師")});
  rules.push_back({std::regex("轉診醫師：.{1,48}?醫師"), Tag("轉診醫師：[NAME]醫師")});
  rules.push_back({std::regex(R"(\b(9\d|1[0-4]\d)[- ]year[- ]old\b)", icase), Tag("90+-year-old")});
  rules.push_back({std::regex("(9\\d|1[0-4]\\d)歲"), Tag("90+歲")});
}

TextScrubber::~TextScrubber() = default;
TextScrubber::TextScrubber(TextScrubber&&) noexcept = default;

namespace {

// libstdc++'s std::regex recurses once per character matched, so the text is scrubbed in pieces
// of at most kMaxPiece bytes, cut after a line or sentence end where there is one (identifiers do
// not span sentences), else after a space, else at a UTF-8 character boundary.
constexpr size_t kMaxPiece = 2048;

size_t PieceEnd(std::string_view text, size_t start) {
  if (text.size() - start <= kMaxPiece) return text.size();
  const std::string_view window = text.substr(start, kMaxPiece);
  for (std::string_view end : {"\n", ". ", "\xE3\x80\x82" /* 。 */, " "}) {
    const size_t at = window.rfind(end);
    if (at != std::string_view::npos && at > kMaxPiece / 2) return start + at + end.size();
  }
  size_t cut = start + kMaxPiece;
  while (cut > start && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut > start ? cut : start + kMaxPiece;
}

}  // namespace

std::string TextScrubber::Scrub(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  for (size_t start = 0; start < text.size();) {
    const size_t end = PieceEnd(text, start);
    std::string piece(text.substr(start, end - start));
    for (const Rule& rule : impl_->rules) piece = ApplyRule(piece, rule);
    out += piece;
    start = end;
  }
  return out;
}

}  // namespace medscribe::deid
