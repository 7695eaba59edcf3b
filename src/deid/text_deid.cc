#include "deid/text_deid.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "common/civil_time.h"
#include "common/strings.h"
#include "deid/chinese_names.h"
#include "deid/name_lists.h"
#include "deid/names.h"

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

// A rule's replacement for a match, given the patient's date shift in days.
using Rewrite = std::function<std::string(const std::smatch&, int shift)>;

struct Rule {
  std::regex re;
  Rewrite rewrite;
  const char* category;  // Safe Harbor category counted in ScrubStats
};

// A replacement is parked in `held` and stands in the text as a placeholder (\x01, its index in
// control characters \x0E..\x1D, \x02: neither word, digit, space nor line end to any rule) until
// the last rule has run, so no later rule matches inside what an earlier one wrote (a shifted date
// read again as a date, a tag as an address).
std::string Placeholder(size_t index) {
  std::string p = "\x01";
  do {
    p.push_back(static_cast<char>(0x0E + index % 16));
    index /= 16;
  } while (index > 0);
  return p + "\x02";
}

std::string Restore(const std::string& text, const std::vector<std::string>& held, int depth = 0) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\x01') {
      out.push_back(text[i]);
      continue;
    }
    size_t index = 0, scale = 1, j = i + 1;
    for (; j < text.size() && text[j] >= 0x0E && text[j] <= 0x1D; ++j, scale *= 16)
      index += static_cast<size_t>(text[j] - 0x0E) * scale;
    if (j < text.size() && text[j] == '\x02' && index < held.size()) {
      out += depth < 8 ? Restore(held[index], held, depth + 1) : held[index];
      i = j;
    }
  }
  return out;
}

std::string ApplyRule(const std::string& text, const Rule& rule, int shift, ScrubStats* stats,
                      std::vector<std::string>& held) {
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), rule.re);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out.append(text, last, static_cast<size_t>(m.position(0)) - last);
    std::string replacement = rule.rewrite(m, shift);
    // What a rule matched is parked even when it stays as it was (a date shifted by zero days,
    // a code the rule let through), so no later rule takes part of it.
    if (stats != nullptr && replacement != m.str(0)) ++stats->by_category[rule.category];
    held.push_back(std::move(replacement));
    out += Placeholder(held.size() - 1);
    last = static_cast<size_t>(m.position(0) + m.length(0));
  }
  out.append(text, last, std::string::npos);
  return out;
}

Rewrite Tag(const char* tag) {
  return [tag](const std::smatch&, int) { return std::string(tag); };
}

// Group 1 (the words before the identifier, spacing included) stays; the match's rest is `tag`.
Rewrite KeepFirst(const char* tag) {
  return [tag](const std::smatch& m, int) { return m[1].str() + tag; };
}

// The label words (groups 1 and 2, when matched) stay and what they name becomes `tag`, after
// `separator` (" " in English, "" in Chinese).
Rewrite Labelled(const char* tag, const char* separator = " ") {
  return [tag, separator](const std::smatch& m, int) {
    return m[1].str() + m[2].str() + separator + tag;
  };
}

// Group 1 stays and the match's rest becomes `tag` where group 2 may be a given name: one the
// dictionaries know, or no English word ("Pt: ALERT, Oriented x3" stays whole).
Rewrite KeepFirstIfGivenName(const char* tag) {
  return [tag](const std::smatch& m, int) {
    const std::string word = m[2].str();
    return IsGivenName(word) || !IsEnglishWord(word) ? m[1].str() + tag : m.str(0);
  };
}

// Group 1 stays and the match's rest becomes `tag` where group 2 is no English word (a place's
// or a person's name: "in Montpelier"; "in Radiology" stays whole).
Rewrite KeepFirstIfNoEnglishWord(const char* tag) {
  return [tag](const std::smatch& m, int) {
    return IsEnglishWord(m[2].str()) ? m.str(0) : m[1].str() + tag;
  };
}

// Group 1 stays and group 2 becomes `tag`, unless group 2 holds a match of `unless` (a service,
// a unit, a care team: words that name no one), when the match stays whole.
Rewrite KeepFirstUnless(const char* tag, const char* unless) {
  auto care = std::make_shared<const std::regex>(unless);
  return [tag, care](const std::smatch& m, int) {
    return std::regex_search(m[2].str(), *care) ? m.str(0) : m[1].str() + tag;
  };
}

// Romanized Chinese surnames (Wade-Giles as Taiwan writes them, and pinyin), for names such as
// "Mei-Ling Chen" or "Chen Mei-Ling".
constexpr const char* kRomanizedSurnames =
    "Chen|Lin|Huang|Hwang|Chang|Zhang|Li|Lee|Wang|Wu|Liu|Tsai|Cai|Yang|Hsu|Xu|Cheng|Zheng|Hsieh|"
    "Xie|Kuo|Guo|Hung|Hong|Tseng|Zeng|Chiu|Qiu|Liao|Lai|Chou|Zhou|Yeh|Ye|Su|Chuang|Zhuang|Lu|Lyu|"
    "Chiang|Jiang|Ho|He|Lo|Luo|Kao|Gao|Chien|Jian|Pan|Chu|Zhu|Chung|Zhong|Yu|Peng|Chan|Tan|Hu|"
    "Shih|Shi|Shen|Sun|Tai|Dai|Fan|Fang|Sung|Song|Teng|Deng|Tu|Du|Fu|Hou|Tsao|Cao|Hsueh|Xue|Ting|"
    "Ding|Cho|Zhuo|Juan|Ruan|Ma|Tung|Dong|Wen|Tang|Lan|Chiao|Jiao|Yao|Feng|Ou|Ouyang|Tien|Tian|"
    "Kang|Pai|Bai|Wong|Ng|Leung|Liang|Chao|Zhao|Yen|Yan|Ko|Ke|Wei|Han|Yuan|Chin|Jin|Tung|Hsia|Xia";

// The rules for identifiers the record does not list, compiled once for every scrubber (in
// order; the patient's own identifiers run before them).
std::vector<Rule> BuildPatternRules() {
  std::vector<Rule> rules;
  // The words that may open a place's name ("St. Paul", "Fort McMurray", "Los Alamos").
  const std::string place_opening =
      R"((?:St\.? |Saint |Mount |Mt\.? |Fort |Ft\.? |Port |New |San |Santa |Los |Las |El |La |Le )?)";
  const auto icase = std::regex::ECMAScript | std::regex::icase;
  auto add = [&rules](const char* category, const std::string& re, Rewrite rewrite,
                      std::regex::flag_type flags = std::regex::ECMAScript) {
    rules.push_back({std::regex(re, flags), std::move(rewrite), category});
  };

  // A number spelled out digit by digit, seven digits and more ("four two five, five five five,
  // zero one eight eight"): a telephone number read aloud and written down.
  add("phone",
      R"(\b(?:(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)(?:,? |-)){6,}(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b)",
      Tag("[PHONE]"), icase);

  // 2. Web and network identifiers before the numbers inside them are seen as dates or phones.
  add("url",
      R"(\b(?:https?|ftp)://[A-Za-z0-9._~:/?#@!$&'()*+,;=%\[\]-]*[A-Za-z0-9/#=&_~+%-]|\bwww\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*[A-Za-z0-9/#=&_~+%-])?)",
      Tag("[URL]"), icase);
  // A name before its address in angle brackets, as a mail header writes it ("From: Harriet Ng
  // <hng1957@example.net>").
  add("name",
      R"(\b[A-Z][A-Za-z'.-]*(?: [A-Z][A-Za-z'.-]*){0,3} <[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}>)",
      Tag("[NAME] <[EMAIL]>"));
  add("email", R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})", Tag("[EMAIL]"));
  // Written out to escape harvesters: "jw.huang at gmail dot com", "x [at] y [dot] org".
  add("email",
      R"(\b[A-Za-z0-9._%+-]+ ?(?:\(at\)|\[at\]| at ) ?[A-Za-z0-9-]+(?: ?(?:\(dot\)|\[dot\]| dot ) ?[A-Za-z0-9-]+)+\b)",
      Tag("[EMAIL]"), icase);
  // Host names without a scheme, by their top-level domain ("portal.example.org/u/7731").
  add("url",
      R"(\b(?:[A-Za-z0-9-]+\.)+(?:com|org|net|edu|gov|mil|int|info|biz|io|app|dev|health|care|tw|us|uk|de|fr|jp|cn|hk|sg|au|ca|nz|eu|me|co)(?:\.[a-z]{2})?\b(?:/[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*[A-Za-z0-9/#=&_~+%-])?)",
      Tag("[URL]"), icase);
  // Any host of three or more lower-case labels followed by a path ("files.share.example/s/9"),
  // whatever its top-level domain.
  add("url",
      R"(\b(?:[a-z0-9][a-z0-9-]*\.){2,}[a-z]{2,}/[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*[A-Za-z0-9/#=&_~+%-])",
      Tag("[URL]"));
  add("ip",
      R"(\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b)",
      Tag("[IP]"));
  add("ip",
      R"(\b(?:[0-9A-Fa-f]{1,4}:){4,7}[0-9A-Fa-f]{1,4}\b|\b(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?\b|::(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4}\b)",
      Tag("[IP]"));

  // 3. Dates, shifted and kept in their format (every element but the year is an identifier).
  auto shifted = [](int y, int m, int d, int shift) { return AddDays(Date{y, m, d}, shift); };
  add("date", R"(\b(\d{4})-(\d{1,2})-(\d{1,2})\b)", [shifted](const std::smatch& m, int shift) {
    const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
    return ValidDate(y, mo, d) ? shifted(y, mo, d, shift).Iso() : std::string("[DATE]");
  });
  add("date", R"(\b(\d{4})([/.])(\d{1,2})[/.](\d{1,2})\b)",
      [shifted](const std::smatch& m, int shift) {
        const int y = std::stoi(m[1]), mo = std::stoi(m[3]), d = std::stoi(m[4]);
        if (!ValidDate(y, mo, d)) return std::string("[DATE]");
        const Date s = shifted(y, mo, d, shift);
        return fmt::format("{:04d}{}{:02d}{}{:02d}", s.year, m[2].str(), s.month, m[2].str(),
                           s.day);
      });
  // NN/NN/YYYY: month first unless the first number cannot be a month (then day first).
  add("date", R"(\b(\d{1,2})([/.-])(\d{1,2})[/.-](\d{4})\b)",
      [shifted](const std::smatch& m, int shift) {
        int a = std::stoi(m[1]), b = std::stoi(m[3]);
        const int y = std::stoi(m[4]);
        const bool day_first = a > 12;
        const int mo = day_first ? b : a, d = day_first ? a : b;
        if (!ValidDate(y, mo, d)) return std::string("[DATE]");
        const Date s = shifted(y, mo, d, shift);
        a = day_first ? s.day : s.month;
        b = day_first ? s.month : s.day;
        return fmt::format("{:02d}{}{:02d}{}{:04d}", a, m[2].str(), b, m[2].str(), s.year);
      });
  // M/D/YY: years 00-39 read as 20YY, the rest as 19YY; shifted in the same format.
  add("date", R"(\b(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])/(\d{2})\b(?![/.]\d))",
      [shifted](const std::smatch& m, int shift) {
        const int mo = std::stoi(m[1]), d = std::stoi(m[2]), yy = std::stoi(m[3]);
        const int y = yy < 40 ? 2000 + yy : 1900 + yy;
        if (!ValidDate(y, mo, d)) return std::string("[DATE]");
        const Date s = shifted(y, mo, d, shift);
        return fmt::format("{}/{}/{:02d}", s.month, s.day, s.year % 100);
      });
  std::string months;
  for (const char* m : kMonths) {
    const std::string full(m);
    months += (months.empty() ? "" : "|") + full + "|" + full.substr(0, 3) + "\\.?";
    if (full == "September") months += "|Sept\\.?";
  }
  auto month_of = [](const std::string& name) {
    for (int i = 0; i < 12; ++i)
      if (name.compare(0, 3, kMonths[i], 3) == 0) return i + 1;
    return 1;
  };
  // "March 15, 2024", "Mar. 15 2024", "March 15th, 2024".
  add("date", "\\b(" + months + ") (\\d{1,2})(?:st|nd|rd|th)?,? (\\d{4})\\b",
      [shifted, month_of](const std::smatch& m, int shift) {
        const int mo = month_of(m[1]), d = std::stoi(m[2]), y = std::stoi(m[3]);
        if (!ValidDate(y, mo, d)) return std::string("[DATE]");
        const Date s = shifted(y, mo, d, shift);
        return fmt::format("{} {}, {}", kMonths[s.month - 1], s.day, s.year);
      });
  // "15 March 2024", "15th of March, 2024", "15-Mar-2024".
  add("date", "\\b(\\d{1,2})(?:st|nd|rd|th)?(?:(?: of)? |-)(" + months + ")(?:,? |-)(\\d{4})\\b",
      [shifted, month_of](const std::smatch& m, int shift) {
        const int d = std::stoi(m[1]), mo = month_of(m[2]), y = std::stoi(m[3]);
        if (!ValidDate(y, mo, d)) return std::string("[DATE]");
        const Date s = shifted(y, mo, d, shift);
        return fmt::format("{} {} {}", s.day, kMonths[s.month - 1], s.year);
      });
  // A day and month without the year, or a month and year: the month is still an identifier.
  add("date",
      "\\b(?:(?:" + months +
          ")[ -]\\d{1,2}(?:st|nd|rd|th)?|\\d{1,2}(?:st|nd|rd|th)?(?: (?:of )?|-)(?:" + months +
          "))\\b",
      Tag("[DATE]"));
  // A month and year, the year in full or as two digits after an apostrophe ("March '22").
  add("date", "\\b(?:" + months + "),? (?:\\d{4}\\b|(?:'|\u2019)\\d{2}\\b)", Tag("[DATE]"));
  // Day, month abbreviation and year run together, as laboratory and pharmacy systems print
  // them ("03MAR2024", "3-MAR-24" is taken above).
  add("date",
      R"(\b(?:0?[1-9]|[12]\d|3[01])(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(?:19|20)?\d{2}\b)",
      Tag("[DATE]"), icase);
  // Dates in Spanish ("lunes 3 de marzo", "3 de marzo de 2024").
  add("date",
      R"(\b(?:(?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo),? )?(?:0?[1-9]|[12]\d|3[01]) de (?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)(?:,? (?:de |del )?\d{4})?\b)",
      Tag("[DATE]"), icase);
  // A season with its year ("Spring 2022", "winter of 2019").
  add("date", R"(\b(?:[Ss]pring|[Ss]ummer|[Ff]all|[Aa]utumn|[Ww]inter) (?:of )?(?:19|20)\d{2}\b)",
      Tag("[DATE]"));
  // A month alone where it dates something ("mid-April", "since March", "the first week of
  // May"): an
  // element of a date. Full month names only, after a word that places a time ("in May", but
  // not "may", "March" the verb or "April" the name).
  add("date",
      R"(\b((?:[Ee]arly|[Mm]id|[Ll]ate)[ -]|(?:[Ee]nd|[Bb]eginning|[Mm]iddle|[Ss]tart|[Ww]eek|[Ww]eekend) of |(?:[Ss]ince|[Ii]n|[Bb]y|[Uu]ntil|[Tt]hrough|[Dd]uring|[Ll]ast|[Nn]ext|[Tt]his) )(?:January|February|March|April|May|June|July|August|September|October|November|December)\b(?! \d))",
      KeepFirst("[DATE]"));
  // A quarter or an ISO week with its year ("Q3 2025", "2024-W32").
  add("date",
      R"(\bQ[1-4] (?:19|20)\d{2}\b|\b(?:19|20)\d{2}-?W(?:0[1-9]|[1-4]\d|5[0-3])(?:-?[1-7])?\b)",
      Tag("[DATE]"));
  // A month and year in digits ("booster 10/2021", "colonoscopy 03-2021", "2024年5月"); with a
  // hyphen only a two-digit month, so that a range ("1-2000") is not taken.
  add("date", R"(\b(?:(?:0?[1-9]|1[0-2])/|(?:0[1-9]|1[0-2])-)(?:19|20)\d{2}\b(?![/.-]\d))",
      Tag("[DATE]"));
  add("date", "(?:民國 ?\\d{2,3}|\\d{4}) ?年 ?\\d{1,2} ?月(?! ?\\d)", Tag("[DATE]"));
  add("date", "(\\d{4})年(\\d{1,2})月(\\d{1,2})日", [shifted](const std::smatch& m, int shift) {
    const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
    if (!ValidDate(y, mo, d)) return std::string("[DATE]");
    const Date s = shifted(y, mo, d, shift);
    return fmt::format("{}年{}月{}日", s.year, s.month, s.day);
  });
  // Republic of China era: 民國113年3月5日 (year + 1911), and the numeric 113/03/05.
  add("date", "民國 ?(\\d{2,3}) ?年 ?(\\d{1,2}) ?月 ?(\\d{1,2}) ?日",
      [shifted](const std::smatch& m, int shift) {
        const int y = std::stoi(m[1]) + 1911, mo = std::stoi(m[2]), d = std::stoi(m[3]);
        if (!ValidDate(y, mo, d)) return std::string("[DATE]");
        const Date s = shifted(y, mo, d, shift);
        return fmt::format("民國{}年{}月{}日", s.year - 1911, s.month, s.day);
      });
  add("date", R"(\b(1[0-4]\d)([/.])(\d{1,2})[/.](\d{1,2})\b)",
      [shifted](const std::smatch& m, int shift) {
        const int y = std::stoi(m[1]) + 1911, mo = std::stoi(m[3]), d = std::stoi(m[4]);
        if (!ValidDate(y, mo, d)) return m.str(0);
        const Date s = shifted(y, mo, d, shift);
        return fmt::format("{:03d}{}{:02d}{}{:02d}", s.year - 1911, m[2].str(), s.month, m[2].str(),
                           s.day);
      });
  add("date", "(\\d{1,2})月(\\d{1,2})日", Tag("[DATE]"));
  // A month and day written M/D after a Chinese word of time (於7/15來電, 自3/2起): 於, 在, 自,
  // 從 or 截至 before (not 至 or 到, which join dose ranges: 1/2至3/4錠), and not a ratio (a digit,
  // '/' or '.' after it).
  add("date",
      "(於|在|自|從|截至|昨天|今天|前天|明天|後天) "
      "?(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\\d|0?[1-9])(?![\\d/.])",
      KeepFirst("[DATE]"));
  // A month and day after an English word of time ("modified duty from 12/08", "effective
  // 3/15"), not a fraction of halves, thirds, quarters or eighths ("from 1/2 to 1 tablet").
  add("date",
      R"(\b((?:from|since|until|till|through|thru|effective|starting|beginning|as of|on|by|after|before|given|administered|drawn|collected|done|performed|placed|due|next) )(?!(?:1|2|3)/[2348]\b)(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9])\b(?![/\d]|\.\d)(?! ?(?:mg|mcg|g|mL|ml|tab|tabs|tablets?|doses?|of|strength)\b))",
      KeepFirst("[DATE]"));
  // A month and day before a clock time, as logs write them ("12/01 03:12").
  add("date",
      R"((^|[^\d/.])(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9])(?= +(?:[01]\d|2[0-3]):[0-5]\d\b))",
      KeepFirst("[DATE]"));
  // The same after a date's label (諮詢日期：11/3), or before its weekday (11/3（週一）).
  add("date", "((?:日期|時間|日)(?:：|:) ?)(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\\d|0?[1-9])(?![\\d/.])",
      KeepFirst("[DATE]"));
  add("date",
      "(^|[^\\d/.])(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\\d|0?[1-9])(?= "
      "?(?:（|\\()(?:週|星期|禮拜)(?:一|二|三|四|五|六|日|天))",
      KeepFirst("[DATE]"));
  // A month and day written M/D right before the event it dates (12/31出院, 3/5手術), not a
  // ratio or a dose (no digit, '/' or '.' before it).
  add("date",
      "(^|[^\\d/.])(?:1[0-2]|0?[1-9])/"
      "(?:3[01]|[12]\\d|0?[1-9])(?=(?:出院|入院|住院|手術|開刀|回診|返診|門診|就診|來院|到院|轉院|"
      "轉入|轉出|檢查|追蹤|生產|分娩|過世|死亡|拔管|插管))",
      KeepFirst("[DATE]"));
  // A Republic of China year with its month, without 民國 (112年2月 is February 2023).
  add("date", R"(\b(?:1[0-4]\d|[4-9]\d)年\d{1,2}月)", Tag("[DATE]"));
  // A weekday named relative to this week (上週三, 下星期一, 這禮拜五).
  add("date", "(?:上上|上|下|本|這)(?:週|周|星期|禮拜)(?:一|二|三|四|五|六|日|天)", Tag("[DATE]"));
  // A day of a month named relative to this one (上個月十五號, 本月3號, 下個月20日).
  add("date",
      R"((?:上上個月|上個月|上个月|上月|這個月|这个月|本月|當月|下個月|下个月|下月)(?:\d{1,2}|(?:一|二|三|四|五|六|七|八|九|十){1,3})(?:號|号|日))",
      Tag("[DATE]"));
  // A month named relative to this year, or a part of a month: 去年12月, 今年3月初, 5月底.
  add("date",
      "(?:去年|今年|前年|明年|上年)\\d{1,2}月(?:初|中旬|中|底|份)?|\\d{1,2}月(?:初|中旬|底|份)",
      Tag("[DATE]"));
  // Dates in Chinese numerals: 民國一一二年十月二日, 十月二日.
  add("date",
      "(?:民國)?(?:(?:〇|零|一|二|三|四|五|六|七|八|九|十|百)+年)?(?:一|二|三|四|五|六|七|八|九|十)"
      "{1,2}月(?:一|二|三|四|五|六|七|八|九|十){1,3}(?:日|號)",
      Tag("[DATE]"));
  // Day, month and two-digit year after a date label ("Date of injury: 10.05.23").
  add("date",
      R"(\b((?:date(?: of [a-z]+)?|DOB|DOI|D\.O\.B\.|onset|injury|surgery|admission|discharge)[:]? ?)(?:0?[1-9]|[12]\d|3[01])([./-])(?:0?[1-9]|[12]\d|3[01])\2\d{2}\b(?![./-]\d))",
      KeepFirst("[DATE]"), icase);
  // Month/day without the year after the words that introduce a date ("next appt 2/14").
  add("date",
      R"(\b((?:on|(?:morning|afternoon|evening|night) of|appt\.?|appointment|meeting|conference|huddle|visit(?:ed)?|seen|follow[- ]up|f/u|due|dated?|since|until|next|admitted|discharged|adm\.?|admit|disch\.?|d/c|DOS|returns?|returned|scheduled(?: for)?|(?:shot|vaccine|vaccination|booster|injection|immunization|Tdap|PPD) (?:given|received|administered|done|placed)|done|performed|obtained|completed|collected|drawn|taken|sent|resulted|LMP|LNMP|EDD|EDC)(?: on)?:? {1,2}(?:(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.?,? )?)(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])\b(?!/)(?! (?:tabs?|tablets?|pills?|caps?|capsules?|doses?|of|strength|NS)\b))",
      KeepFirst("[DATE]"), icase);
  // Month/day after a meeting with the patient and where it took place ("saw her at home 12/1",
  // "spoke with him by phone on 3/7").
  add("date",
      R"(\b((?:saw|seen|visited|met|called|phoned|examined|evaluated|spoke (?:to|with)|talked (?:to|with))(?: (?:her|him|them|the patient|the pt|pt|patient|family))?(?: (?:at home|in clinic|in (?:the )?office|at (?:the )?bedside|by phone|by video|via telehealth))? (?:on )?)(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])\b(?!/)(?! (?:tabs?|tablets?|pills?|caps?|capsules?|doses?|of|strength)\b))",
      KeepFirst("[DATE]"), icase);
  // Month/day after "last" or "next" and what it dates ("Last BM 11/29", "next dose 3/2").
  add("date",
      R"(\b((?:[Ll]ast|[Nn]ext) [A-Za-z]{2,12}:? )(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])\b(?!/)(?! (?:tabs?|tablets?|pills?|caps?|doses?|of)\b))",
      KeepFirst("[DATE]"));
  // Month/day after a weekday, whatever comes before it ("booked for Tues 5/14").
  add("date",
      R"(\b((?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|mon|tue|tues|wed|thu|thur|thurs|fri|sun)\.?,? )(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])\b(?!/))",
      KeepFirst("[DATE]"), icase);
  // "Sat 9/14", capitalized: in lower case "sat 9/10" is an oxygen saturation.
  add("date", R"(\b(Sat\.?,? )(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])\b(?!/))",
      [](const std::smatch& m, int) {
        std::string before = AsciiLower(m.prefix().str());
        before = before.substr(before.size() > 8 ? before.size() - 8 : 0);
        const bool oxygen = before.find("o2") != std::string::npos;
        return oxygen ? m.str(0) : m[1].str() + "[DATE]";
      });
  // Two days of the month as a range ("from the 20th to the 27th"), unless a count follows.
  add(
      "date",
      R"(\b(from |between )?the (?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)( (?:to|through|thru|until|till|-|and) )the (?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)\b(?! (?:day|days|week|weeks|month|months|year|years|cycle|cycles|ribs?|intercostal|floors?|percentile|toes?|fingers?|digits?|vertebrae?|cranial|lumbar|cervical|thoracic|sacral|metacarpals?|metatarsals?|grade|stage)\b))",
      [](const std::smatch& m, int) {
        return m[1].str() + "the [DATE]" + m[2].str() + "the [DATE]";
      },
      icase);
  // A day of the month alone ("readmitted on the 9th"), unless a count follows ("on the 3rd
  // day", "the 5th rib").
  add("date",
      R"(\b((?:on|since|until|till|through|thru|(?:rescheduled|moved|postponed|pushed(?: back)?|changed|bumped|delayed|deferred|booked|set) to|by|before|after|from|for|seen|admitted|readmitted|discharged|called|visited|started|stopped|returned|arrived|operated|vaccinated|(?:night|morning|afternoon|evening|day|weekend|week) of|(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.?(?: (?:morning|afternoon|evening|night))?,?) the )(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)\b(?! (?:day|days|week|weeks|month|months|year|years|attempt|try|time|times|dose|doses|cycle|cycles|rib|ribs|intercostal|floor|percentile|degree|trimester|generation|line|toe|finger|digit|vertebra|vertebral|postoperative|post-op|postop|hospital|decade|grade|order|stage|cranial|lumbar|cervical|thoracic|sacral|metacarpal|metatarsal|of (?:the )?(?:day|week|month|list|series))\b))",
      KeepFirst("[DATE]"), icase);
  // ROC-era numeric dates with a two-digit year (1912-2010) after a date label: 出生日期 72/05/03.
  add("date",
      "((?:出生日期|生日|日期|入院|出院|就診|檢查|手術)(?:日期|日)?(?:：|:)? "
      "?)(\\d{2,3})([/.])(\\d{1,2})[/.](\\d{1,2})",
      [shifted](const std::smatch& m, int shift) {
        const int y = std::stoi(m[2]) + 1911, mo = std::stoi(m[4]), d = std::stoi(m[5]);
        if (!ValidDate(y, mo, d)) return m[1].str() + "[DATE]";
        const Date s = shifted(y, mo, d, shift);
        return fmt::format("{}{:02d}{}{:02d}{}{:02d}", m[1].str(), s.year - 1911, m[3].str(),
                           s.month, m[3].str(), s.day);
      });

  // 4. Phone and fax numbers: international, US, Taiwanese landline and mobile.
  add("phone",
      R"(\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,3}\b|\(\d{3}\) ?\d{3}[- ]\d{4}(?: ?(?:x|ext\.?) ?\d{2,5}\b)?|\b\d{3}([-. ])\d{3}\1\d{4}\b(?: ?(?:x|ext\.?) ?\d{2,5}\b)?|\(0\d{1,2}\) ?\d{3,4}[- ]?\d{4}\b|\b0\d{1,2}-\d{3,4}-\d{3,4}\b|\b0\d-\d{7,8}\b|\b0800-?\d{3}-?\d{3}\b|\b09\d{2}[- ]?\d{3}[- ]?\d{3}\b)",
      Tag("[PHONE]"));
  add("phone",
      "((?:電話|手機|聯絡電話|市話|傳真|行動電話)(?:號碼)?(?:：|:)? ?)\\+?[0-9][0-9()\\- "
      "]{6,}[0-9]",
      KeepFirst("[PHONE]"));
  // An extension: "ext. 305", "分機305", and "轉2245" after a Taiwanese number ("轉" + digits
  // is how an extension is dialled there; "轉院" and "轉診" carry no digits).
  // A local number of seven digits with its hyphen ("Her number is 555-0100"), wherever it
  // stands: an exchange begins with 2 to 9, and a range of doses or counts is followed by its
  // unit ("200-1000 mg", "150-4500 cells") or follows a word of ranges ("range 250-1000").
  add("phone",
      R"(((?:[Rr]ange|[Rr]ef(?:erence)?|[Nn]ormal|[Nn]l|[Bb]etween|[Ff]rom|[Tt]arget|[Gg]oal)[:\s(]{1,3})?\b[2-9]\d{2}-\d{4}\b(?![-./]\d)(?! ?(?:mg|mcg|g|kg|mL|ml|L|units?|IU|mmol|mEq|cells|mm|cm|mcL|uL|/|%|times)(?![A-Za-z])))",
      [](const std::smatch& m, int) {
        return m[1].matched ? m.str(0) : std::string("[PHONE]");  // a range stays
      });
  // United Kingdom numbers: "07700 900461", "020 7946 0958", "0161 496 0723"; Australian mobiles
  // "0412 345 678" and landlines without the area code's brackets "03 9419 7710".
  add("phone",
      R"(\b0\d{4} ?\d{6}\b|\b0\d{2} \d{4} \d{4}\b|\b0\d{3} \d{3} \d{3,4}\b|\b0[2378] \d{4} \d{4}\b)",
      Tag("[PHONE]"));
  add("phone", R"((?:\b(?:ext\.?|extension)|分機|轉)\s?#?\d{2,6}\b)", Tag("[PHONE]"), icase);
  // The last digits of a telephone number ("her cell ends in 0188", "number ending with 4471").
  add("phone",
      R"(\b((?:cell|cellphone|cell phone|mobile|phone|number|line|landline)(?: number)? (?:ends|ending) (?:in|with) )\d{4}\b)",
      KeepFirst("[PHONE]"), icase);
  // An extension written "x4417" after a word of a phone within the clause ("his work line,
  // x4417"); "x3 days" and "vomiting x2" have no phone word and fewer digits.
  add("phone",
      R"(\b((?:line|phone|number|extension|office|desk|cell|mobile|pager|beeper|call|reach|reached|dial)\b[^.;\n]{0,24}?\b)x ?\d{3,6}\b)",
      KeepFirst("[PHONE]"), icase);
  add(
      "phone",
      R"(\b((?:pager|beeper|pgr|bleep|page|call|called|calling|dial|dialed|dialled|text|texted|phoned|rang|reached|phone|tel|telephone|cell|mobile|fax|callback|call-back|call back|contact|line|hotline|helpline|office|desk|direct|work|home)\.?(?: (?:at|on|number|no\.?|#))?(?: is)?[:#]? ?)(\d{3}[- .]\d{4}\b|\d{1,2}-\d{4}\b(?![./:-]\d)|\d{3,6}\b(?![./:-]\d)(?! (?:[NSEW]\.? |North |South |East |West )?[A-Z][a-z]+ (?:St|Ave|Rd|Street|Avenue|Road|Blvd|Dr|Drive|Ln|Lane|Way|Ct|Pl)\b)))",
      [](const std::smatch& m, int) {
        // A bare short number, or a hospital's short form with an exchange digit ("pager
        // 3-4417"), is a phone only after pager-like words ("pager 4471"), not after "call"
        // ("call 911" stays, "call 555-0143" goes).
        const std::string label = m[1].str();
        const bool separated = m[2].str().find_first_of("-. ") != std::string::npos &&
                               m[2].str().find_first_of("-. ") >= 3;
        std::string lower = label;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const bool pager = lower.starts_with("pager") || lower.starts_with("beeper") ||
                           lower.starts_with("pgr") || lower.starts_with("bleep") ||
                           lower.starts_with("page");
        return separated || pager ? label + "[PHONE]" : m.str(0);
      },
      icase);

  // 5. Numbers that identify a person, an account, a licence, a vehicle or a device, by their
  // shape or by the words before them.
  add("id", R"(\b\d{3}-\d{2}-\d{4}\b)", Tag("[ID]"));
  add("id", R"(\b[A-Z][12ABCD89]\d{8}\b)", Tag("[ID]"));  // Taiwan ID, resident certificates
  add("id",
      R"(\b((?:(?:SSN|SS#|social security(?: number| no\.?)?)[:#]?|social[:#]) ?)\d{3}[- ]?\d{2}[- ]?\d{4}\b)",
      KeepFirst("[ID]"), icase);
  add("id",
      R"(\b((?:SSN|SS#|social security(?: number| no\.?)?) (?:last (?:four|4)(?: digits)?|ending(?: in)?|(?:that )?ends (?:in|with))(?: (?:is|are))?[:#]? ?)\d{4}\b)",
      KeepFirst("[ID]"), icase);
  add("id", "((?:護照|居留證|身分證|身份證)(?:號碼|號|字號)?(?:：|:| )?)[A-Za-z0-9]{6,12}",
      KeepFirst("[ID]"));
  add("mrn",
      R"(\b(?:MRN|URN|medical record (?:number|no\.?)|(?:chart|hospital|patient|unit|case|UR|HN) (?:number|no\.?|#))[:#]? ?(?:\d{2,4}(?:-\d{2,4}){2,4}|[A-Z]{0,4}-?(?:\d{2,4}-)?\d{4,})\b)",
      Tag("[MRN]"), icase);
  // A chart number after the service's letters ("IHS chart IHS 44-1187", "VA chart VA 22-0071").
  add("mrn",
      R"(\b((?:[Cc]hart|[Rr]ecord|MRN)(?: (?:number|no\.?|#))?[:#]? ?[A-Z]{2,5} )\d{2,4}-\d{3,}\b)",
      KeepFirst("[MRN]"));
  // A record number written in groups after its label ("MRN KH 0081 4471").
  add("mrn",
      R"(\b((?:MRN|medical record (?:number|no\.?)|(?:chart|hospital|patient|unit|case|UR|HN) (?:number|no\.?|#))[:#]? ?)[A-Z]{0,4} ?\d{2,}(?: \d{2,}){1,3}\b)",
      KeepFirst("[MRN]"), icase);
  // Laboratory and imaging accessions, specimens and orders ("Lab accession LA-2024-449102").
  add("mrn",
      R"(\b((?:accession|specimen|requisition|order)(?: (?:number|no\.?|#|id))?[:#]? ?)(?=[A-Za-z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}\b)",
      KeepFirst("[MRN]"), icase);
  // A chart, record or file named by a code of hyphenated digit groups ("Chart C-0091-2277").
  add("mrn", R"(\b((?:[Cc]hart|[Rr]ecord|[Ff]ile|[Cc]ase)[:#]? )[A-Z]{0,3}-?\d{2,}(?:-\d{2,})+\b)",
      KeepFirst("[MRN]"));
  add("mrn", "(?:病歷號碼|病歷號|病歷)(?:：|:| )?[A-Za-z]{0,4}-?\\d{4,}", Tag("[MRN]"));
  // A case or file number after its label (長照個案管理編號LC1130077842, 案號：A-1120334,
  // 案號LTC-112-008813).
  add("mrn",
      "((?:編號|案號|個案號|管理號碼|登記號碼)(?:：|:| )?)[A-Za-z]{0,4}-?(?:\\d{2,4}-)?\\d{6,}",
      KeepFirst("[MRN]"));
  // A number after "ID is" or "ID:" with an insurer's or a program's name before it ("Her
  // Humana ID is H4471-0092-31"): letters and digits with at least one digit.
  add("account",
      R"(\b((?:[A-Z][A-Za-z]+ )?ID(?: number| #| no\.?)?(?: is|:|#) ?)(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}\b)",
      KeepFirst("[ID]"));
  // An Australian Medicare number: ten digits in groups of 4, 5 and 1, perhaps with the
  // person's reference number ("Medicare no. 2953 71846 2", "... 2/1").
  add("account",
      R"(\b((?:medicare)(?: card)?(?: (?:no\.?|number|#))?[:#]? ?)\d{4} ?\d{5} ?\d(?:[ /-]\d)?\b)",
      KeepFirst("[ID]"), icase);
  add("account",
      R"(\b(health plan|plan|insurance|policy|member|subscriber|beneficiary|group|account|acct\.?|claim|medicare|medicaid|MBI|HICN|NHI|referral|authori[sz]ation|prior auth|auth|confirmation)(?![a-z])((?: holder| ending(?: in)?)?(?: (?:id|number|no\.?|#))?)[:#]? ?(?:[A-Z]{2,4} (?=\d))?(?=[A-Za-z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}\b)",
      Labelled("[ID]"), icase);
  // A plan, policy, claim or account number written in groups ("claim number C-44 718 302"):
  // a first group with a capital letter and a digit, or groups of three digits and more, so
  // that "Plan: 2 10 mg tablets" stays.
  add("account",
      R"(\b((?:[Hh]ealth plan|[Pp]lan|[Ii]nsurance|[Pp]olicy|[Mm]ember|[Ss]ubscriber|[Bb]eneficiary|[Gg]roup|[Aa]ccount|[Aa]cct\.?|[Cc]laim|[Mm]edicare|[Mm]edicaid)(?: (?:ID|id|[Nn]umber|[Nn]o\.?|#|[Ff]ile))?[:#]? ?)(?:(?=[A-Z0-9-]*[A-Z])(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]*(?: \d{2,}){1,4}|\d{3,}(?: \d{3,}){1,4}|\d{2}(?: \d{3,}){2,4}|[A-Z]{2,4}(?: \d{2,}){2,4})\b)",
      KeepFirst("[ID]"));
  // A policy, member or account number of letters then digits in groups ("Life insurance policy
  // NYL 7739 2201 45").
  add("account",
      R"(\b((?:policy|account|acct\.?|member|subscriber|group|claim|contract)(?: (?:number|no\.?|#|id))?[:#]? ?)[A-Z]{2,4} \d{3,5}(?: \d{2,5}){1,3}\b)",
      KeepFirst("[ID]"), icase);
  // Payment cards by their last digits ("Credit card ending 4417").
  add("account",
      R"(\b((?:credit card|debit card|card|visa|mastercard|amex)(?: number)? (?:ending(?: in)?|last (?:four|4)(?: digits)?|x+|\*+)[:#]? ?)\d{4}\b)",
      KeepFirst("[ID]"), icase);
  // Portal, app and social media user names after their label ("MyChart username ggarcia31",
  // "Social media: lil_tre_608"): a token with a
  // digit, or a dot, underscore or @ inside it, so that "username reset." stays.
  add("account",
      R"(\b((?:user ?name|user id|login|log-in|screen name|handle|social media|instagram|snapchat|tiktok|twitter|facebook|apple id|icloud(?: id)?|google account|line id|line(?=：)|wechat(?: id)?|whatsapp|telegram)(?:[:#]? |：|是|為)(?:is |was )?)(?=[A-Za-z0-9]*(?:[0-9]|[._@-][A-Za-z0-9]))[A-Za-z0-9][A-Za-z0-9._@-]{1,40}[A-Za-z0-9]\b)",
      KeepFirst("[ID]"), icase);
  // A user name of letters alone, where what follows says it is one ("Login rkburns reset by
  // IT"): a login was reset, locked, created.
  add("account",
      R"(\b((?:[Uu]ser ?name|[Uu]ser ID|[Ll]ogin|[Ll]og-in|[Hh]andle)[:#]? )[a-z][a-z0-9._-]{3,30}(?= (?:was |is |has been )?(?:reset|locked|unlocked|created|disabled|deactivated|reactivated|expired|suspended|changed|removed)\b))",
      KeepFirst("[ID]"));
  // A card's number written after "is", in groups ("union card number is UA-Local 12-00871").
  add("account",
      R"(\b((?:[Cc]ard|[Mm]embership|[Mm]ember ID|[Uu]nion|[Ll]ibrary card|[Bb]adge)(?: (?:number|no\.?|#|ID))?(?: is|:|#) ?)(?=[A-Za-z -]*\d)[A-Z0-9][A-Za-z0-9-]*(?: (?=[A-Za-z-]*\d)[A-Z0-9][A-Za-z0-9-]*){0,3}(?=$|[\s.,;)]))",
      KeepFirst("[ID]"));
  // A transit or parking pass by its number in groups ("Bus pass MMT 4410 2281").
  add("account",
      R"(\b((?:[Bb]us|[Tt]ransit|[Mm]etro|[Ss]ubway|[Tt]rain|[Pp]arking) pass(?: (?:number|no\.?|#|ID))?[:#]? ?)(?=[A-Z0-9 ]*\d)[A-Z0-9]{2,8}(?: [A-Z0-9]{2,8}){0,3}\b)",
      KeepFirst("[ID]"));
  // Social media handles ("@grandpa_vince42"); an e-mail address was taken before.
  add("account", R"((^|[\s(\[,;:])@[A-Za-z_][A-Za-z0-9_.]{1,30}[A-Za-z0-9_])", KeepFirst("[ID]"));
  add("account", "(健保卡號|保險卡號|帳號|保單號碼)(?:：|:| )?[A-Za-z0-9-]{5,}",
      Labelled("[ID]", ""));
  add("license",
      R"(\b(licen[cs]e|certificate|certification|cert\.?|credential|accreditation|permit|registration|DEA|NPI|CDL|badge|medical card|(?:ID|identification|member(?:ship)?) card)\b( (?:id|number|no\.?|#))?[:#]? ?(?:[A-Z]{2,4}(?:-[A-Z]{1,2})? \d{3,}|[A-Z] \d{5,}|(?=[A-Za-z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,})\b)",
      Labelled("[ID]"), icase);
  // A blood unit's donation identification number (ISBT 128: a facility's letter and four digits,
  // the year's two digits, a six-digit serial, and its check character): "W0364 25 014992 Z".
  add("device", R"(\b[A-Z]\d{4} ?\d{2} ?\d{6}(?: ?[A-Z0-9](?![A-Za-z0-9]))?)", Tag("[DEVICE_ID]"));
  // A kit's or a specimen's barcode ("DNA kit barcode 23ME-8812-44X").
  add("device",
      R"(\b((?:bar ?code|kit(?: id| number| no\.?)?|specimen(?: id| number| no\.?)|tube id|swab id)[:#]? ?)(?=[A-Za-z0-9-]*\d)[A-Z0-9][A-Za-z0-9-]{5,}\b)",
      KeepFirst("[ID]"), icase);
  // A credential's registry number after its letters and '#' ("RDMS #RD-448812", "RN #44718").
  add("license",
      R"(\b((?:RDMS|RDCS|RVT|RRT|ARRT|CNA|LPN|LVN|RN|APRN|NP|PA|PA-C|EMT|CRNA|CNM|CPhT|RPh|PharmD|MD|DO|DDS|DPM|LCSW|LMFT|LPC)(?: (?:license|lic\.?|number|no\.?))? ?# ?)(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,}\b)",
      KeepFirst("[ID]"));
  add("license", "(證號|證書字號|執照號碼|證書號碼)(?:：|:| )?[A-Za-z0-9-]{4,}",
      Labelled("[ID]", ""));
  add("vehicle",
      R"(\b(plate|license plate|registration plate|VIN|car|truck|van|minivan|jeep|bus|taxi|motorhome|RV|camper|trailer|boat|tractor|forklift|ATV|snowmobile|golf cart|moped|e-bike|motorcycle|motorbike|scooter|vehicle)( (?:number|no\.?|#|plate))?[:#]? ?(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{3,16}\b)",
      Labelled("[VEHICLE]"), icase);
  add("vehicle",
      R"(\b((?:[Pp]late|[Ll]icense plate|[Tt]ag|[Cc]ar|[Tt]ruck|[Pp]ickup|[Vv]an|SUV|[Ss]edan|[Mm]otorcycle|[Mm]otorbike|[Ss]cooter|[Vv]ehicle|PLATE|TAG)(?: (?:[Nn]umber|[Nn]o\.?|#|[Pp]late))?[:#]? ?)[A-Z]{2,3} \d{3,4}\b)",
      KeepFirst("[VEHICLE]"));
  // A plate after the make of a car, a few words on ("gray Subaru, 8KT-221").
  add("vehicle",
      R"(\b((?:Toyota|Honda|Ford|Subaru|Chevy|Chevrolet|Nissan|Hyundai|Kia|Tesla|BMW|Mercedes|Jeep|Dodge|Ram|GMC|Mazda|Volkswagen|VW|Audi|Lexus|Volvo|Buick|Cadillac|Chrysler|Mitsubishi|Acura|Infiniti|Lincoln|Porsche|Mini)(?: [A-Z][A-Za-z0-9-]+)?,? (?:(?:with |bearing )?(?:plate|tag|plates)[:#]? )?)(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{4,8}\b)",
      KeepFirst("[VEHICLE]"));
  // Registrations written in groups ("Boat registration FL 4471 KX").
  add("vehicle",
      R"(\b((?:registration|plate|hull(?: number| id)?|boat|vessel|trailer)(?: (?:number|no\.?|#))?[:#]? ?)[A-Z]{1,3} \d{3,5} [A-Z]{1,3}\b)",
      KeepFirst("[VEHICLE]"), icase);
  // A plate after its state's code ("Plate CA 8ABC234").
  add("vehicle",
      R"(\b((?:[Pp]late|[Ll]icense plate|[Tt]ag|[Rr]egistration|(?:[Cc]ar|[Tt]ruck|[Vv]an|SUV|[Vv]ehicle|[Mm]otorcycle)(?: is| was)?(?: an?)?)(?: (?:number|no\.?|#))?[:#]? ?)[A-Z]{2} (?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{3,8}\b)",
      KeepFirst("[VEHICLE]"));
  // A plate in two groups, the first starting with a digit ("MA plate 7TK 392").
  add("vehicle",
      R"(\b((?:[A-Z]{2} )?(?:[Pp]late|[Ll]icense plate|[Tt]ag)(?: (?:number|no\.?|#))?[:#]? ?)(?=[0-9A-Z]{0,3}[A-Z]|[0-9]{1,4} [0-9]*[A-Z])[0-9][A-Z0-9]{0,3} [A-Z0-9]{2,4}\b)",
      KeepFirst("[VEHICLE]"));
  // Court and police file numbers ("restraining order (docket 2281CR004417)", "case no.
  // 24-CV-1183"): six characters and more with a digit, after their label.
  add("id",
      R"(\b((?:[Dd]ocket|[Cc]ourt case|[Cc]ase|[Cc]itation|[Ww]arrant|[Pp]olice report|[Ii]ncident report|[Ii]ndictment|[Aa]rrest)(?: (?:number|no\.?|#))?[:#]? ?(?:[A-Z]{2,6} )?)(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{5,}\b)",
      KeepFirst("[ID]"));
  add("vehicle", "(車牌號碼|車牌|車號|機車|汽車)(?:：|:| )?[A-Za-z0-9-]{4,10}",
      Labelled("[VEHICLE]", ""));
  add("vehicle", R"(\b[A-Z]{3}-\d{4}\b|\b\d{4}-[A-Z]{2}\b|\b[A-HJ-NPR-Z0-9]{17}\b)",
      [](const std::smatch& m, int) {
        const std::string v = m.str(0);
        const bool digit = std::any_of(v.begin(), v.end(), ::isdigit);
        const bool letter = std::any_of(v.begin(), v.end(), ::isalpha);
        return digit && letter ? std::string("[VEHICLE]") : v;
      });
  add("device",
      R"(\b(serials?(?: numbers?| no\.?| #)?|S/Ns?|SN|UDI|IMEI|MEID|ESN|device (?:id|identifier)|asset(?: tag| id| number| no\.?)|inventory(?: tag| number)|equipment(?: id| tag)|lot(?: number| no\.?)?)[:#]? ?(?=[A-Za-z0-9()./-]*\d)[A-Z0-9][A-Z0-9()./-]{3,}\b)",
      Labelled("[DEVICE_ID]"), icase);
  // A phone's IMEI (15 or 16 digits, grouped 2-6-6-1 or 2) or MEID after its label
  // ("IMEI 35 391610 412877 3").
  add("device", R"(\b((?:IMEI|MEID|ESN)[:#]? ?)\d{2}[ -]?\d{6}[ -]?\d{6}[ -]?\d{1,2}\b)",
      KeepFirst("[DEVICE_ID]"));
  // The ID of a thing worn or carried, in groups ("Bracelet ID MED-ALERT 55129").
  add("device",
      R"(\b((?:[Bb]racelet|[Ww]ristband|[Bb]and|[Tt]ag|[Pp]endant|[Kk]ey ?fob|[Cc]ard) (?:ID|id|number|no\.?|#)[:#]? )(?=[A-Z0-9 -]*\d)[A-Z0-9][A-Z0-9-]*(?: [A-Z0-9][A-Z0-9-]*){0,2}\b)",
      KeepFirst("[DEVICE_ID]"));
  // A serial after the device's brand and model ("serial CoaguChek XS #UR1290447"): up to three
  // capitalized words, then a code after '#'.
  add("device",
      R"(\b((?:[Ss]erial|S/N|SN)(?: (?:number|no\.?))?:? (?:[A-Z][A-Za-z0-9-]* ){1,3}# ?)(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}\b)",
      KeepFirst("[DEVICE_ID]"));
  // A serial number written in groups ("S/N: FP 2209 7761").
  add("device",
      R"(\b((?:[Ss]erial(?: number| no\.?| #)?|S/N|SN)[:#]? ?)(?=[A-Z0-9 ]*\d)[A-Z0-9]{1,6}(?: [A-Z0-9]{2,6}){1,3}\b)",
      KeepFirst("[DEVICE_ID]"));
  // A device named by its kind, then a code of letters and digits ("CGM transmitter 8G4TQ2").
  add("device",
      R"(\b((?:[Tt]ransmitter|[Ss]ensor|[Rr]eceiver|[Pp]ump|[Pp]acemaker|[Dd]efibrillator|[Gg]enerator|[Ss]timulator|[Ii]mplant|[Hh]earing aid|[Mm]onitor|[Mm]eter|[Pp]rocessor|[Cc]ontroller|[Cc]oncentrator|[Vv]entilator|[Ww]heelchair|BiPAP|CPAP|ICD)(?: (?:id|code|number|no\.?|#))?[:#]? )(?:[A-Z]{2,4} \d[\d-]{3,}|(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{4,})\b)",
      Labelled("[DEVICE_ID]", ""));
  add("device", "(序號|序列號|產品序號|批號)(?:：|:| )?[A-Za-z0-9-]{4,}",
      Labelled("[DEVICE_ID]", ""));
  // An asset number after a machine and its model ("Portable unit AMX-4 #1182").
  add("device",
      R"(\b((?:[Pp]ortable |[Mm]obile )?(?:unit|scanner|machine|console|probe|transducer|monitor|pump|ventilator|x-ray)(?: [A-Z][A-Za-z0-9-]*)? ?)#\d{3,}\b)",
      KeepFirst("[DEVICE_ID]"));
  add("id", R"(\bACC\d{4,}\b)", Tag("[ACCESSION]"));
  // Photograph and video files ("IMG_20240301_1122.jpg", "face_2024-03-01.png").
  add("biometric",
      R"(\b[A-Za-z0-9_.-]*[A-Za-z0-9]\.(?:jpe?g|png|heic|heif|tiff?|bmp|gif|mov|mp4)\b)",
      Tag("[PHOTO]"), icase);
  add("biometric",
      R"(\b((?:fingerprint|finger[ -]print|voiceprint|voice[ -]print|voice sample|signature(?: specimen| sample| image)?|handwriting sample|hand[ -]geometry|face[ -]scan|facial[ -]scan|face id|facial recognition(?: template)?|palm[ -]vein(?: scan)?|face template|keystroke (?:profile|pattern)|gait (?:sample|signature|recording|video)|(?:voice|video|audio) recording|palm[ -]?print|DNA sample|retina(?:l)? scan|iris[ -]scan|iris|retinal|retina|face photo(?:graph)?|full[- ]face photo(?:graph)?|photo(?:graph)?)(?: (?:scan|template|sample|image|record|enrollment|enrolment|profile))?(?: (?:id|file|ref(?:erence)?|no\.?|#|template))?(?: on file)?)[:#]? ?(?=[A-Za-z0-9_.-]*\d)[A-Z0-9][A-Za-z0-9_.-]{3,}\b)",
      Labelled("[ID]"), icase);
  // A biometric's reference a few words after its name, within the clause ("Voiceprint enrolled
  // for phone refills (VP-2231)"): a code of letters and digits, or of five digits or more. Only
  // names that are a biometric alone ("iris" and "retina" also name the eye's parts).
  add("biometric",
      R"(\b((?:fingerprints?|voiceprints?|voice[ -]prints?|retina(?:l)?[ -]scans?|iris[ -]scans?|face[ -](?:scan|template|id)|facial[ -](?:scan|template|recognition)|palm[ -]?(?:prints?|veins?))\b[^.;\n()]{0,40}?[(:#]? ?)(?:(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Z0-9][A-Za-z0-9_-]{3,}|\d{5,})\b)",
      KeepFirst("[ID]"), icase);
  // Identity documents by their label (after the accounts, licences and devices, whose labels
  // may end in "ID").
  add("id",
      R"(\b((?:passport|national id|id card|identity card|identification|resident permit|resident card|residence card|green card|travel document|visa|alien (?:registration )?number|A-number|birth certificate|military id|service number|voter id|voter card|electoral card|CURP|RFC|AHV|AVS|tax id|TIN|ITIN|health card|health insurance card|OHIP|ARC|ID)(?: (?:no\.?|number|#))?[:#]? ?)(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}\b)",
      KeepFirst("[ID]"), icase);
  // National health and personal numbers written in groups of digits ("NHS number 943 476 5919",
  // "SIN 046 454 286").
  add("id",
      R"(\b((?:(?:NHS|CHI|SIN|BSN|PPSN?|IHI)(?: (?:no\.?|number|#))?|(?:NI|national insurance|personal|citizen|health) (?:no\.?|number|#))[:#]? ?)\d{2,4}(?:[ -]\d{2,4}){2,3}\b)",
      KeepFirst("[ID]"));
  // A long code of capitals and digits with at least three of each, whatever its label
  // ("GOMR850101HDFRRN09"): clinical text has no such words.
  add("id", R"(\b(?=(?:[A-Z0-9]*[A-Z]){3})(?=(?:[A-Z0-9]*\d){3})[A-Z0-9]{10,}\b)", Tag("[ID]"));
  // A code in groups after "ID", "number", "no." or "#" ("Permanent resident ID PR 4412 9987").
  add("id",
      R"(\b((?:ID|[Nn]umber|[Nn]o\.|#)[:#]? ?)(?=[A-Z0-9]{0,6} \d)[A-Z0-9]{1,6}(?: \d{2,6}){1,3}\b)",
      KeepFirst("[ID]"));
  // Numbers in groups of four digits (Aadhaar "2345 6789 0123", card numbers).
  add("id", R"(\b\d{4}(?: \d{4}){2,3}\b)", Tag("[ID]"));
  // A reference with letters and digits ("Billing ref BR-2024-118273"); a reference range of
  // numbers alone ("reference 135-145") is a laboratory's and stays.
  add("id",
      R"(\b((?:[Bb]illing |[Cc]ase |[Cc]laim |[Oo]rder |[Bb]ooking |[Cc]onfirmation )?(?:[Rr]ef\.?|[Rr]eference)(?: (?:no\.?|number|#))?[:#]? ?)(?=[A-Z0-9/-]*\d)(?=[A-Z0-9/-]*[A-Z])[A-Z0-9][A-Z0-9/-]{4,}\b)",
      KeepFirst("[ID]"));
  // Swiss social insurance numbers (756.1234.5678.97).
  add("id", R"(\b756\.\d{4}\.\d{4}\.\d{2}\b)", Tag("[ID]"));
  // Any other code of five or more letters and digits after "number", "no.", "#" or "ID",
  // whatever names it ("Hospital number H0723345", "Case number 2024-CR-00871"): a label the
  // rules above do not know still says an identifier follows.
  add("id",
      R"(\b((?:[A-Za-z][a-z]+\.? ){0,2}(?:[Nn]umber|[Nn]o\.|#|ID|[Ii]dentifier)[:#]? ?)(?=[A-Z0-9/-]*\d)[A-Z0-9][A-Z0-9/-]{4,}\b)",
      KeepFirst("[ID]"));
  // Any other long number that is not a measurement: seven digits or more.
  add("id", R"(\b\d{7,}\b)", Tag("[ID]"));

  // 6. Geographic subdivisions: street addresses, Taiwanese addresses, labelled addresses.
  add("address",
      R"(\b(?:[NSEW]\d{2,4} [NSEW]\d{3,5}|\d{1,5}[A-Z]?) (?:(?:[NSEW]\.?|North|South|East|West) )?(?:[A-Z][a-z]+ ){1,3}(?:(?:Road|Rd|Highway|Hwy)\b(?: \d{1,3}[A-Z]?\b)?|(?:Street|St|Avenue|Ave|Lane|Ln|Drive|Dr|Court|Ct|Boulevard|Blvd|Way|Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir|Trail|Trl|Pike|Turnpike|Tpke|Expressway|Expy|Freeway|Fwy|Square|Sq|Crescent|Alley|Loop|Run|Trace|Cove|Bend|Ridge|Path|Point|Crossing)\b)(?:,? (?:Lot|Space|Trlr|Trailer) ?#? ?\w+)?(?:,? (?:Apt\.?|Suite|Unit|#) ?\w+)?(?:, [A-Z][a-z]{2,}(?: [A-Z][a-z]+)?(?=[.;]|$| [A-Z]{2}\b| (?:for|to|with|at|on|in|and|after|via|from)\b))?)",
      Tag("[ADDRESS]"));
  // std::regex works on bytes, so multi-byte delimiters are matched as sequences (lookahead),
  // never in bracket expressions.
  add("address", "(住址|地址|戶籍地|居住地)(?:：|:)?.+?(?=，|。|；|\\n|$)",
      Labelled("[ADDRESS]", ""));
  // Post office boxes before the words that introduce an address, whose clause would otherwise
  // end at the "P." of "P.O." and leave the box number.
  add("address", R"(\b(?:P\.? ?O\.? (?:Box|Bx)|Post Office Box|PMB) \d{1,6}\b)", Tag("[ADDRESS]"),
      icase);
  add("address", R"(\b(address|lives at|residing at|resides at)[:]? [^.;\n]{4,80})",
      Labelled("[ADDRESS]"), icase);
  add("address", R"(\b\d{5}(?:-\d{4})?\b(?= ?(?:USA|US|$)))", Tag("[ADDRESS]"));
  add("address",
      R"(\b\d{1,5},? (?:Rue|Via|Calle|Avenida|Av\.|Rua|Chemin|Allée|Viale|Corso|Piazza|Plaza)(?: [A-Za-z'-]+){1,4}(?:, [A-Z][a-z]{2,}(?: [A-Z][a-z]+)?(?=[.;]|$))?)",
      Tag("[ADDRESS]"));
  add("address",
      R"(\b[A-Z][a-z]+(?:straße|strasse|weg|platz|gasse|allee|gade|vej|gatan|vägen) \d{1,4}[a-z]?\b)",
      Tag("[ADDRESS]"));
  // Rural routes and highway contract boxes ("RR 2 Box 41", "HC 64 Box 1120").
  add("address", R"(\b(?:RR|R\.R\.|Rural Route|HC|Star Route) ?#?\d{1,3},? Box \d{1,6}\b)",
      Tag("[ADDRESS]"));

  add("address", R"(\b((?:zip|zip code|postal code|postcode)[:#]? ?)\d{5}(?:-\d{4})?\b)",
      KeepFirst("[ADDRESS]"), icase);
  // Numbered roads ("Lives off Route 9", "Hwy 101", "Interstate 95").
  add("address",
      R"(\b(?:Route|Rte\.?|Rt\.|Highway|Hwy\.?|State Road|County Road|Farm Road|State Route|Interstate|Provincial Highway)\s?\d{1,4}[A-Z]?\b)",
      Tag("[ADDRESS]"));
  // A flat or suite number on its own ("Apt 4B, ..."): the word stays, the number goes.
  add("address", R"(\b((?:Apt\.?|Apartment|Suite|Ste\.|Flat) ?#? ?)(?:\d+[A-Za-z]?|[A-Za-z]\d+)\b)",
      KeepFirst("[ADDRESS]"));
  // A town and its ZIP code ending a line of an address without a state (", Marblehead 01945").
  add("address",
      R"((, )[A-Z][a-z]{2,}(?: [A-Z][a-z]+)? \d{5}(?:-\d{4})?\b(?=[.;]?(?:[ \t]*\n|\s*$)))",
      KeepFirst("[ADDRESS]"));
  // "Springfield, OR": a city with a state and no ZIP code (the state stays). Clinical words
  // before an abbreviation that is also a state code ("Chest, PA", "Head, CT") are not cities.
  add("address",
      R"(\b([A-Z][a-z]+(?: [A-Z][a-z]+)?), (AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR|GU|VI|AS|MP)\b(?= [a-z]|[.;),]|$))",
      [](const std::smatch& m, int) {
        static const std::set<std::string> kClinical = {
            "Chest",     "Abdomen",    "Head",       "Neck",       "Pelvis",   "Spine",
            "Left",      "Right",      "Findings",   "Impression", "History",  "Indication",
            "Technique", "Comparison", "Lateral",    "Frontal",    "Portable", "Upright",
            "Supine",    "Admitted",   "Discharged", "Negative",   "Positive", "Normal",
            "Stable",    "Unchanged",  "Views",      "View",       "Study",    "Exam",
            "Images",    "Radiograph", "Film"};
        const std::string city = m[1].str();
        if (kClinical.count(city.substr(0, city.find(' ')))) return m.str(0);
        return "[ADDRESS], " + m[2].str();
      });
  // Addresses as Puerto Rico writes them: an urbanización, barrio, sector, residencial or
  // condominio by its name, and a calle with its number ("Urb. Villa Carolina, Calle 12 #34",
  // "Bo. Quebrada Arenas").
  add("address",
      R"(\b(?:Urb\.|Urbanizaci[oó]n|Bo\.|Barrio|Sector|Res\.|Residencial|Cond\.|Condominio|Parcelas|Comunidad|Reparto|Jard[ií]nes de)(?: (?:de |del |la |las |los )?[A-ZÁÉÍÓÚÑ](?:[a-z]|[^ -~\s])+){1,3}\b)",
      Tag("[ADDRESS]"));
  add("address",
      R"(\b(?:Calle|Carr\.|Carretera|Avenida|Camino|Paseo)(?: (?:de |del |la |las |los )?(?:[A-ZÁÉÍÓÚÑ](?:[a-z]|[^ -~\s])+|\d{1,4}[A-Z]?)){1,3}(?:,? (?:#|n[uú]m\.|km\.?) ?\d{1,5}[A-Z]?(?:\.\d)?)?)",
      Tag("[ADDRESS]"));
  // A street named without its number ("lives on Maple Grove Rd").
  add("address",
      R"(\b(?:[A-Z][a-z]+ ){1,3}(?:Street|Avenue|Road|Lane|Drive|Boulevard|Court|Terrace|Highway|Parkway|Turnpike|Pike|Trail|St|Ave|Rd|Ln|Blvd|Hwy|Pkwy|Tpke)\b\.?)",
      Tag("[ADDRESS]"));
  // A square or plaza by its name, a neighbourhood's center ("at our Kenmore Square unit", "the
  // pharmacy in Copley Plaza"); not a statistic ("Chi Square") nor a sentence's first word.
  add("address",
      R"(\b(?:(?!(?:Chi|At|In|On|The|Near|From|To|By|Our|Of|Off)\b)[A-Z][a-z]+ ){1,2}(?:Square|Plaza)\b)",
      Tag("[ADDRESS]"));
  // Taiwanese addresses written in English: "12F, No. 88, Sec. 2, Zhongxiao E. Rd., Da'an Dist.".
  add("address",
      R"(\b(?:\d{1,2}F(?:-\d+)?,? )?No\. ?\d+(?:-\d+)?(?:,? (?:(?:Sec|Ln|Aly|Lane|Alley|Section)\.? ?\d+|(?:[A-Z][A-Za-z']*\.? ){1,3}(?:Rd|St|Ave|Road|Street|Blvd|Dist|District|Township|Vil|Village)\.?)){1,5})",
      Tag("[ADDRESS]"));
  // Taiwanese addresses without a label: a road or street and a number (號), city optional.
  add("address",
      "(?:(?:台北|臺北|新北|桃園|台中|臺中|台南|臺南|高雄|基隆|新竹|嘉義|苗栗|彰化|南投|雲林|屏東|"
      "宜蘭|"
      "花蓮|台東|臺東|澎湖|金門|連江)(?:市|縣))?"
      "(?:(?!，|。|；|、|：|\\s).){0,24}?(?:路|街|大道)(?:(?:一|二|三|四|五|六|七|八|九|十)段|"
      "\\d段)?(?:\\d+"
      "巷)?(?:\\d+弄)?"
      "\\d+號(?:\\d+樓)?(?:之\\d+)?",
      Tag("[ADDRESS]"));
  // A Taiwanese township or district named with its county or city (雲林縣斗六市), with the road
  // that follows it (彰化縣鹿港鎮中山路).
  add("address",
      "(?:台北|臺北|新北|桃園|台中|臺中|台南|臺南|高雄|基隆|新竹|嘉義|苗栗|彰化|南投|雲林|屏東|"
      "宜蘭|花蓮|台東|臺東|澎湖|金門|連江)(?:市|縣)(?:(?!，|。|；|、|：|\\s).){3,12}?(?:市|鄉|鎮|"
      "區)(?:(?:(?!，|。|；|、|：|\\s).){1,8}?(?:路|街|大道)(?:(?:一|二|三|四|五|六|七|八|九|十)段|"
      "\\d段)?)?",
      Tag("[ADDRESS]"));
  // A city or county someone comes from (自高雄趕來, 從花蓮上來): the place alone, before a word
  // of coming or the clause's end (從高雄榮總轉來 names a hospital and stays).
  add("address",
      "(來自|自|從|搬到|搬來|回到)"
      "(?:台北|臺北|新北|桃園|台中|臺中|台南|臺南|高雄|基隆|新竹|嘉義|苗栗|彰化|南投|雲林|屏東|"
      "宜蘭|花蓮|台東|臺東|澎湖|金門|連江|馬祖)(?:市|縣)?"
      "(?=趕來|趕回|來|回來|過來|搬來|北上|南下|上來|下來|，|。|、|）|\\)|$)",
      KeepFirst("[ADDRESS]"));
  // A township or district named alone after a word of place or in brackets (在中壢的女兒家,
  // 明天回龍潭, 護理之家（竹北市）): the
  // common ones of Taiwan's 368, without those that are also words (太平, 清水, 成功, 山上...).
  add("address",
      "(在|回|住在|住|到|去|從|自|搬到|搬去|來自|回到|（)(?:"
      "板橋|三重|中和|永和|新莊|新店|土城|蘆洲|汐止|樹林|鶯歌|三峽|"
      "淡水|瑞芳|五股|泰山|林口|深坑|石碇|坪林|三芝|石門|八里|平溪|"
      "雙溪|貢寮|金山|萬里|烏來|士林|北投|內湖|南港|文山|萬華|松山|"
      "中壢|平鎮|龍潭|楊梅|八德|大溪|蘆竹|龜山|大園|觀音|新屋|竹北|"
      "竹東|湖口|新豐|關西|芎林|寶山|北埔|峨眉|橫山|尖石|五峰|頭份|"
      "竹南|後龍|通霄|苑裡|卓蘭|三義|銅鑼|南庄|獅潭|大湖|造橋|頭屋|"
      "豐原|大里|沙鹿|大甲|梧棲|龍井|烏日|霧峰|潭子|大雅|神岡|后里|"
      "東勢|石岡|新社|外埔|大肚|員林|鹿港|和美|溪湖|北斗|二林|永靖|"
      "社頭|埔心|大村|秀水|花壇|芬園|伸港|線西|福興|埔鹽|溪州|竹塘|"
      "芳苑|大城|二水|埔里|草屯|竹山|集集|名間|鹿谷|水里|魚池|國姓|"
      "中寮|斗六|虎尾|斗南|西螺|土庫|北港|麥寮|崙背|二崙|莿桐|林內|"
      "古坑|大埤|元長|四湖|口湖|水林|褒忠|臺西|台西|朴子|太保|布袋|"
      "大林|民雄|新港|六腳|東石|義竹|鹿草|中埔|竹崎|梅山|番路|阿里山|"
      "新營|永康|麻豆|佳里|善化|新化|歸仁|仁德|關廟|學甲|鹽水|白河|"
      "柳營|後壁|下營|六甲|官田|西港|七股|北門|玉井|楠西|南化|左鎮|"
      "龍崎|安南|安平|鳳山|岡山|旗山|美濃|林園|大寮|大樹|仁武|大社|"
      "鳥松|橋頭|燕巢|田寮|阿蓮|路竹|湖內|茄萣|彌陀|梓官|六龜|甲仙|"
      "杉林|內門|茂林|那瑪夏|楠梓|左營|鼓山|苓雅|前鎮|旗津|小港|鹽埕|"
      "前金|潮州|東港|恆春|萬丹|長治|麟洛|九如|里港|鹽埔|高樹|萬巒|"
      "內埔|竹田|新埤|枋寮|新園|崁頂|林邊|南州|佳冬|車城|滿州|枋山|"
      "三地門|霧台|瑪家|泰武|來義|羅東|蘇澳|頭城|礁溪|壯圍|員山|冬山|"
      "五結|三星|南澳|鳳林|玉里|新城|吉安|壽豐|豐濱|瑞穗|富里|秀林|"
      "萬榮|卓溪|關山|卑南|鹿野|池上|長濱|太麻里|大武|綠島|蘭嶼|海端|"
      "達仁|金峰|七堵|暖暖"
      ")(?:區|鎮|鄉|市)?(?=的|家|工作|上班|過夜|附近|一帶|那邊|這邊|老家|住|讀書|念書|唸書|，|。|"
      "、|）|\\)|$)",
      KeepFirst("[ADDRESS]"));
  // The school someone attends (就讀台南女中二年級): after 就讀 or 就讀於, a name of one to ten
  // characters (the pattern counts UTF-8 bytes, three a character) that ends in a kind of school.
  add("address",
      "(就讀(?:於)?|念|唸)((?:(?!，|。|；|、|：|\\s).){3,30}?(?:國小|國中|高級中學|高中|女中|高職|"
      "中學|"
      "小學|大學|幼兒園))",
      KeepFirst("[ADDRESS]"));
  // The school of a student named in parentheses (（文藻外語大學學生）): a name of one to ten
  // characters that ends in a kind of school, before 學生, 生, 同學 or 畢業.
  add("address",
      "(（|\\()((?:(?!，|。|；|、|：|\\s|（|\\(|）|\\)).){3,30}?(?:大學|高中|國中|國小|女中|高職|"
      "中學))"
      "(?=學生|生|同學|畢業)",
      KeepFirst("[ADDRESS]"));
  // A nickname or user name after its Chinese label (暱稱yuyu_0830, 使用者名稱：mei.li88).
  add("username",
      "((?:暱稱|使用者名稱|用戶名|帳號名稱)(?:：|:|是|為)? ?)[A-Za-z0-9][A-Za-z0-9._-]{2,40}",
      KeepFirst("[ID]"));
  // A landmark that places someone (在天后宮旁賣香, 住在中正公園附近): a temple, a park, a market,
  // a station or a school by its name, before a word of place.
  add("address",
      "(?:^|(在|住|近|到|於))((?:(?!，|。|；|、|：|\\s|在|住|近|到|於).){3,18}?(?:宮|廟|寺|教會|"
      "公園|夜市|"
      "市場|車站|國小|國中|高中|大學))(?=旁|附近|前|後|對面|周邊|一帶|口)",
      [](const std::smatch& m, int) { return m[1].str() + "[ADDRESS]"; });
  // An employer in Chinese (在台積電上班): what someone works at, two to eight characters (the
  // pattern counts UTF-8 bytes, three a character), unless it is a kind of place (在家上班,
  // 在醫院工作).
  add("name", "(在)((?:(?!，|。|；|、|：|\\s|在).){6,24}?)(?=(?:上班|工作|任職|服務|擔任))",
      [](const std::smatch& m, int) {
        static const std::set<std::string> kPlaceKinds = {
            "家",   "家裡", "家中", "醫院", "診所", "學校",     "工廠",   "公司", "餐廳",  "市場",
            "附近", "外地", "國外", "台北", "臺北", "台中",     "臺中",   "台南", "臺南",  "高雄",
            "新竹", "桃園", "大陸", "美國", "日本", "本院",     "那裡",   "這裡", "夜市",  "工地",
            "農地", "田裡", "急診", "病房", "門診", "加護病房", "開刀房", "社區", "家附近"};
        return kPlaceKinds.count(m[2].str()) ? m.str(0) : m[1].str() + "[NAME]";
      });
  // A Taiwanese road named with its city or county, without a house number.
  add("address",
      "(?:台北|臺北|新北|桃園|台中|臺中|台南|臺南|高雄|基隆|新竹|嘉義|苗栗|彰化|南投|雲林|屏東|"
      "宜蘭|花蓮|台東|臺東|澎湖|金門|連江)(?:市|縣)"
      "(?:(?!，|。|；|、|：|\\s).){0,24}?(?:路|街|大道)(?:(?:一|二|三|四|五|六|七|八|九|十)段|"
      "\\d段)?",
      Tag("[ADDRESS]"));
  // A place on a highway by its exit or mile marker ("MVC on I-5 near exit 166").
  add("address",
      R"(\b(?:I-\d{1,3}|Interstate \d{1,3}|US[- ]\d{1,3}|(?:Hwy|Highway|Route|Rte\.?|SR)[- ]\d{1,4})(?: [NSEW]B| (?:north|south|east|west)bound)?,? (?:(?:near|at|by|past|before|after) )?(?:exit|mile(?: marker)?|MM|mm) \d{1,4}[A-Z]?\b)",
      Tag("[ADDRESS]"));
  // A town where someone was last known or seen ("biological mother's whereabouts unknown, last
  // known Decatur").
  add("address",
      R"(\b((?:[Ll]ast known(?: address| location| whereabouts| residence)?|[Ll]ast seen|[Ll]ast heard from)[:]? (?:in |at |near )?)(?!(?:January|February|March|April|May|June|July|August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b)[A-Z][a-z]+(?: [A-Z][a-z]+)?)",
      KeepFirst("[ADDRESS]"));
  // A town's community, senior or civic center ("from the Duckwater community center").
  add("address",
      R"(\b(?!(?:The|Our|Their|His|Her|A|An)\b)[A-Z][a-z]+(?: [A-Z][a-z]+)? (?=(?:community|senior|recreation|rec|civic|youth|cultural|tribal|chapter) (?:center|centre|house|hall)\b))",
      Tag("[ADDRESS] "));
  // A congregation by its name and denomination ("Attends Ebenezer AME Sundays").
  add("address",
      R"(\b(?:(?:St\.|Saint|Mt\.|Mount|New|Greater|First|Second|Holy) )?[A-Z][a-z]+(?: [A-Z][a-z]+){0,2} (?:AME(?: Zion)?|Baptist|Methodist|Lutheran|Presbyterian|Episcopal|Pentecostal|Adventist|Church of God(?: in Christ)?|Church of Christ|Tabernacle|Synagogue|Mosque|Masjid|Gurdwara|Kingdom Hall)(?: Church)?\b)",
      Tag("[ADDRESS]"));
  // A prison or a jail by its name ("incarcerated at FCI Cumberland", "Shelby County Jail").
  add("address",
      R"(\b(?:(?:FCI|USP|FCC|FMC|FPC|MDC|SCI|CCI) [A-Z][a-z]+(?: [A-Z][a-z]+)?|[A-Z][a-z]+(?: [A-Z][a-z]+)? (?:County )?(?:Jail|Correctional (?:Facility|Institution|Center)|Detention (?:Center|Facility)|State Prison|Penitentiary))\b)",
      Tag("[ADDRESS]"));
  // A town where a relative lives, named by the relative ("at our daughter's in Spokane").
  add("address",
      R"(\b((?:(?:grand|step-?)?(?:daughter|son|sister|brother|mother|father|parents|aunt|uncle|cousin|niece|nephew|friend|family|kids|children)(?:-in-law)?(?:'s|’s|s'|s’)(?: (?:house|home|place|apartment|farm|cabin))? (?:in|near|outside) ))(?!(?:January|February|March|April|May|June|July|August|September|October|November|December)\b)[A-Z][a-z]+(?: [A-Z][a-z]+)?)",
      KeepFirst("[ADDRESS]"));
  // A shop's branch by its street ("Pharmacy delivers from Medicap on Poplar").
  add("address",
      R"(\b((?:delivers|delivered|deliver|picks up|picked up|pick up|fills|filled|refills|gets|got|buys|bought) (?:from|at) (?:the )?[A-Z][A-Za-z'&-]+(?: [A-Z][A-Za-z'&-]+){0,2} on )[A-Z][a-z]+(?: (?:St|Street|Ave|Avenue|Rd|Road|Blvd|Pike|Hwy))?\b)",
      KeepFirst("[ADDRESS]"));
  // A supplier's or a pharmacy's branch by its town ("Our supplier Apria in Bellevue").
  add("address",
      R"(\b((?:supplier|vendor|DME(?: company)?|pharmacy|agency|dealer|company|provider|store|branch)(?: [A-Z][A-Za-z&'-]+){1,3} (?:in|of) )(?!(?:January|February|March|April|May|June|July|August|September|October|November|December)\b)[A-Z][a-z]+(?: [A-Z][a-z]+)?)",
      KeepFirst("[ADDRESS]"));
  // A street corner ("Walgreens at 5th and Pine", "Main & 3rd").
  add("address",
      R"(\b(?:\d{1,3}(?:st|nd|rd|th) (?:and|&) [A-Z][a-z]{2,}|[A-Z][a-z]{2,} (?:and|&) \d{1,3}(?:st|nd|rd|th))\b(?! (?:ribs?|cranial|intercostal|metacarpals?|metatarsals?|toes?|fingers?|digits?|vertebrae?)\b))",
      Tag("[ADDRESS]"));
  // Two named streets after what meets or stands at them ("the bus shelter at Grand and
  // Broadway", "the corner of Elm & Main").
  add("address",
      R"(\b((?:corner of|intersection of|(?:bus |subway |train )?(?:shelter|stop|station) at) )[A-Z][a-z]{2,} (?:and|&) [A-Z][a-z]{2,}\b)",
      KeepFirst("[ADDRESS]"));
  // "Madison, WI 53703": the city and ZIP code go, the state stays (Safe Harbor keeps states).
  add("address", R"(\b[A-Z][a-z]+(?: [A-Z][a-z]+)?, ([A-Z]{2}) \d{5}(?:-\d{4})?\b)",
      [](const std::smatch& m, int) { return "[ADDRESS], " + m[1].str(); });

  // Taiwan's cities, counties and larger districts in English, wherever they stand ("From
  // Kaohsiung, moved north"); a hospital named after its city keeps it ("Kaohsiung Veterans
  // General Hospital", as 高雄榮總 stays in Chinese).
  add("address",
      R"(\b(?:New Taipei|Taipei|Taoyuan|Taichung|Tainan|Kaohsiung|Keelung|Hsinchu|Miaoli|Changhua|Nantou|Yunlin|Chiayi|Pingtung|Yilan|Hualien|Taitung|Penghu|Kinmen|Matsu|Lienchiang|Banqiao|Zhongli|Xinzhuang|Sanchong|Tamsui|Danshui|Beitou|Shilin|Neihu|Zhonghe|Yonghe|Tucheng|Xizhi|Fengshan|Zuoying|Xitun|Zhubei|Douliu|Magong|Kenting|Hengchun|Jiufen|Alishan|Lukang|Puli|Yuli|Sanxia|Yingge|Pingxi|Wulai|Jinshan|Beipu|Luodong|Toucheng|Jiaoxi)(?: (?:City|County|District))?\b)",
      [](const std::smatch& m, int) {
        static const std::regex kHospital(
            R"(^(?:'s)? (?:Veterans|General|Municipal|Medical|University|Chang Gung|Tzu Chi|Christian|Hospital|Mackay|Cathay|Cheng Hsin|Show Chwan|Chi Mei|Far Eastern))");
        const std::string after = m.suffix().str().substr(0, 40);
        return std::regex_search(after, kHospital) ? m.str(0) : std::string("[ADDRESS]");
      });

  // A town a person is from, after the person's occupation or origin ("a retired teacher from
  // Bend", "a native of Yilan"): the words stay, the place goes.
  add("address",
      R"(\b((?:(?:teacher|farmer|rancher|fisherman|logger|miner|welder|mechanic|carpenter|electrician|plumber|engineer|accountant|lawyer|nurse|pilot|driver|trucker|veteran|retiree|student|worker|man|woman|gentleman|lady|native|resident|immigrant|refugee) from|(?:[Rr]etired|[Ff]ormer) [a-z]{3,} from|(?:native|resident) of) )((?:St\.? |Saint |Mount |Mt\.? |Fort |Port |New |San |Santa |Los |Las |El |La )?[A-Z][a-z]{2,}(?: [A-Z][a-z]+)?)\b(?! (?:descent|origin|heritage|ancestry|background|extraction)\b))",
      [](const std::smatch& m, int) {
        static const std::set<std::string> kNotPlaces = {
            "Cardiology", "Oncology", "Radiology", "Surgery",  "Medicine", "Hospice",
            "Nursing",    "Pharmacy", "Emergency", "Medicare", "Medicaid", "Home",
            "Health",     "Records",  "The",       "This",     "Our",      "Their"};
        const std::string place = m[2].str();
        return kNotPlaces.count(place.substr(0, place.find(' '))) ? m.str(0)
                                                                  : m[1].str() + "[ADDRESS]";
      });
  // Places named after a move, a transfer, a birth, a journey ("moved to Hillsboro", "transferred
  // from St. Brigid's Hospital in Kalispell", "a cruise to Cozumel", "visiting her sister in
  // Tucson"): the words of the move stay, the place goes.
  // Departments, units and days ("transferred to Cardiology", "moved to Step Down") are not
  // places; acronyms (ICU, ED) never match.
  add("address",
      R"(\b((?:[Mm]oved|[Mm]oving|[Rr]elocated|[Rr]elocating|[Ll]ives|[Ll]iving|[Ll]ived|[Rr]esides|[Rr]esiding|[Rr]esided|[Tt]ransferred|[Bb]orn|[Rr]aised|[Gg]rew up|[Vv]isiting|[Vv]isited|[Tt]ravell?ed|[Rr]eturned|[Rr]eturning|[Aa]rrived|[Cc]ame|[Cc]omes|[Ff]lew|[Ff]lying|[Ff]lies|[Dd]rove|[Ee]vacuated|[Ff]led|[Dd]isplaced|[Rr]escued|[Aa]irlifted|[Ee]migrated|[Ii]mmigrated|[Ss]tationed|[Dd]eployed|[Pp]osted|[Gg]arrisoned|[Ii]ncarcerated|[Ii]mprisoned|[Dd]etained|[Ss]pent (?:summers|winters|holidays|vacations|weekends|years|time|(?:his|her|their) childhood)|[Vv]acationed|[Vv]acationing|[Vv]acations|[Hh]olidays|[Ww]inters|[Ss]ummers|[Ss]tayed|[Ss]taying|[Cc]ruises?|(?:[Rr]oad )?[Tt]rips?|[Ff]lights?|[Jj]ourney|[Ff]ollowed(?: by [a-z]+(?: [a-z]+)?)?|[Ss]een|[Tt]reated|[Hh]ospitali[sz]ed|[Aa]dmitted|[Oo]perated on|[Dd]elivered)(?: her| him| them| me| us)?(?: (?:her|his|their|my|a|the) (?:(?:grand|step-?)?(?:son|daughter|sister|brother|mother|father|parents?|children|kids)(?:-in-law)?|aunt|uncle|cousins?|nieces?|nephews?|family|friends?|relatives?|partner|fiancée?|boyfriend|girlfriend))?(?: here| back| over| home| in| out| up| down)? (?:to|in|into|from|near|at|out of) )()" +
          place_opening +
          R"([A-Z][a-z]{2,}(?:'s)?(?:[ -][A-Z][a-z]+(?:'s)?){0,3})(?:,? (?:in|of|near) [A-Z][a-z]{2,}(?: [A-Z][a-z]+)?)?)",
      [](const std::smatch& m, int) {
        static const std::set<std::string> kNotPlaces = {"Emergency",
                                                         "Intensive",
                                                         "Cardiology",
                                                         "Oncology",
                                                         "Pulmonology",
                                                         "Radiology",
                                                         "Neurology",
                                                         "Surgery",
                                                         "Medicine",
                                                         "Internal",
                                                         "General",
                                                         "Outpatient",
                                                         "Inpatient",
                                                         "Rehabilitation",
                                                         "Rehab",
                                                         "Hospice",
                                                         "Home",
                                                         "Skilled",
                                                         "Nursing",
                                                         "Step",
                                                         "Stepdown",
                                                         "Telemetry",
                                                         "Labor",
                                                         "Recovery",
                                                         "Palliative",
                                                         "Pediatrics",
                                                         "Pediatric",
                                                         "Obstetrics",
                                                         "Orthopedics",
                                                         "Psychiatry",
                                                         "Dialysis",
                                                         "Hematology",
                                                         "Nephrology",
                                                         "Gastroenterology",
                                                         "Urology",
                                                         "Dermatology",
                                                         "Ophthalmology",
                                                         "Endocrinology",
                                                         "Infectious",
                                                         "Critical",
                                                         "Cardiac",
                                                         "Medical",
                                                         "Surgical",
                                                         "Neuro",
                                                         "Trauma",
                                                         "Burn",
                                                         "Operating",
                                                         "Cath",
                                                         "Catheterization",
                                                         "Interventional",
                                                         "Nuclear",
                                                         "Physical",
                                                         "Occupational",
                                                         "Speech",
                                                         "Respiratory",
                                                         "Acute",
                                                         "Long",
                                                         "Short",
                                                         "Triage",
                                                         "Observation",
                                                         "Holding",
                                                         "Floor",
                                                         "Ward",
                                                         "Unit",
                                                         "Room",
                                                         "Bed",
                                                         "This",
                                                         "That",
                                                         "The",
                                                         "Our",
                                                         "Their",
                                                         "His",
                                                         "Her",
                                                         "Monday",
                                                         "Tuesday",
                                                         "Wednesday",
                                                         "Thursday",
                                                         "Friday",
                                                         "Saturday",
                                                         "Sunday",
                                                         "January",
                                                         "February",
                                                         "March",
                                                         "April",
                                                         "June",
                                                         "July",
                                                         "August",
                                                         "September",
                                                         "October",
                                                         "November",
                                                         "December",
                                                         "Term"};
        const std::string place = m[2].str();
        if (kNotPlaces.count(place.substr(0, place.find_first_of(" -")))) return m.str(0);
        return m[1].str() + "[ADDRESS]";
      });

  // A store or stop named by the corner it stands on ("the Walgreens on Clark and Diversey",
  // "the pharmacy at Main St & 5th"): the store and both streets.
  add("address",
      R"(\b(?:Walgreens|CVS|Rite Aid|Walmart|Target|Costco|Safeway|Kroger|Publix|Duane Reade|pharmacy|store|grocery|supermarket|market|gas station|bus stop|laundromat|library) (?:on|at) (?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b)[A-Z][a-z]+(?: (?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Dr|Drive)\.?)? (?:and|&) [A-Z0-9][A-Za-z0-9]+(?: (?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Dr|Drive)\b\.?)?)",
      Tag("[ADDRESS]"));
  // A named place of care, school, church or sports ground: capitalized words before the kind of
  // institution ("Eastside Family Practice", "Lakeview Family Medicine", "Lincoln Middle School",
  // "Cedar Valley Heart Institute", "Aloha Stadium"; a high school only before its team: "Kapolei
  // High Hurricanes"), with the town after it ("St. Brigid's Infirmary in Galway"); a department or
  // a kind of clinic before it stays ("Cardiology Clinic", "Urgent Care Clinic").
  add("address",
      R"(\b(?:(?:St\.?|Saint) )?[A-Z][a-z]+(?:'s)?(?: [A-Z][a-z]+(?:'s)?){0,3} (?:Family Practice|Family Medicine|Internal Medicine|Primary Care|Practice|Clinic|Hospital|Medical Center|Health Center|Medical Group|Infirmary|Institute|Women's Health|Alternative High|Junior High|Senior High|Psychiatric Center|Psychiatric Hospital|Cancer Center|Surgery Center|Surgical Center|Treatment Center|Recovery Center|PD|Police Department|Sheriff's Office|Fire Department|Nursing Home|Rehabilitation Center|Rehab Center|Rehab|Care Center|Assisted Living|Senior Living|Manor|Elementary School|Middle School|High School|School|Academy|Church|Chapel|Mosque|Synagogue|Stadium|Arena|Ballpark|Speedway|Fairgrounds|High(?= [A-Z][a-z]+s\b))\b(?:,? (?:in|of|near) [A-Z][a-z]{2,}(?: [A-Z][a-z]+)?)?)",
      [](const std::smatch& m, int) {
        static const std::set<std::string> kKinds = {
            "Cardiology",     "Oncology",     "Radiology",
            "Surgery",        "Medicine",     "Pediatrics",
            "Pediatric",      "Family",       "Primary",
            "Urgent",         "Walk",         "Sleep",
            "Pain",           "Wound",        "Memory",
            "Dialysis",       "Diabetes",     "Heart",
            "Lung",           "Eye",          "Dental",
            "Medical",        "Community",    "General",
            "Teaching",       "University",   "Private",
            "Public",         "Group",        "Solo",
            "Outpatient",     "Inpatient",    "Anticoagulation",
            "Coumadin",       "Fertility",    "Travel",
            "Vaccine",        "Flu",          "Allergy",
            "Orthopedic",     "Orthopedics",  "Neurology",
            "Psychiatry",     "Psychiatric",  "Behavioral",
            "Mental",         "Women's",      "Children's",
            "Veterans",       "Rural",        "Free",
            "Mobile",         "Nurse",        "The",
            "This",           "That",         "Our",
            "Their",          "His",          "Her",
            "Sunday",         "Night",        "Day",
            "Summer",         "Nursing",      "Rehab",
            "Rehabilitation", "Hospice",      "Infusion",
            "Transplant",     "Hematology",   "Nephrology",
            "Pulmonary",      "Endocrine",    "Endocrinology",
            "Dermatology",    "Urology",      "Smoking",
            "Cardiac",        "Stroke",       "Acute",
            "Physical",       "Occupational", "Vestibular",
            "Drug",           "Alcohol",      "Addiction",
            "Residential"};
        // Words that open a sentence before the name ("Started Drug Rehab", "Attends Lincoln
        // Middle School") stay, and the name is judged by the word after them.
        static const std::set<std::string> kOpeners = {
            "Started",    "Starts",    "Attends",     "Attended",   "Goes",    "Went",
            "Seen",       "Saw",       "Visited",     "Visits",     "Uses",    "Used",
            "Prefers",    "Recently",  "Formerly",    "Previously", "Now",     "Continues",
            "Discharged", "Admitted",  "Transferred", "Referred",   "Sent",    "Follows",
            "Followed",   "Completed", "Left",        "Joined",     "Entered", "Finished",
            "Enrolled",   "Returned",  "Called",      "Contacted"};
        const std::string all = m.str(0);
        size_t at = 0;
        while (true) {
          const size_t space = all.find(' ', at);
          if (space == std::string::npos || !kOpeners.count(all.substr(at, space - at))) break;
          at = space + 1;
        }
        const std::string first = all.substr(at, all.find(' ', at) - at);
        return kKinds.count(first) || kOpeners.count(first) ? all : all.substr(0, at) + "[ADDRESS]";
      });
  // A saint's name in the possessive names a hospital or a parish ("imaging at St. Luke's");
  // St. John's wort is an herb.
  add("address",
      R"(\b(?:St\.?|Saint) [A-Z][a-z]+'s\b(?! [Ww]ort\b)(?:,? (?:in|of|near) [A-Z][a-z]{2,}(?: [A-Z][a-z]+)?)?)",
      Tag("[ADDRESS]"));

  // A weekday alone that dates an event, as 上週三 does in Chinese ("confused since Tuesday",
  // "fell last Friday", "started Monday"), after the rules that take a weekday with its date; a
  // weekly schedule ("on Mondays", "dialysis Monday, Wednesday and Friday") stays.
  add("date",
      R"(\b((?:since|on|until|till|by|before|after|from|last|this|next|past|coming|started|stopped|began|fell|seen|admitted|discharged|arrived|returned|called|happened|occurred|visit|visits|visiting|come|comes|coming|due|expected|planned|available|ready|open)(?: in)?(?: (?:last|this|next|past|on))? )(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b(?! (?:through|to|-) [A-Z]|,? (?:Wednesday|Thursday|Friday) and\b))",
      KeepFirst("[DATE]"), icase);
  // A weekday counted back ("two Fridays ago", "a couple of Sundays ago").
  add("date",
      R"(\b(?:(?:a|one|two|three|four|five|six|a few|a couple of|several|\d) )?(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)days? ago\b)",
      Tag("[DATE]"), icase);
  // Holidays name a day ("a fall on Christmas Eve"); "Christmas disease" is hemophilia B.
  add("date",
      R"(\b(?:Christmas(?: Eve| Day)?(?! disease| factor)|New Year's(?: Eve| Day)?|Thanksgiving(?: Day)?|Easter(?: Sunday| Monday)?|Independence Day|Halloween|Valentine's(?: Day)?|Mother's Day|Father's Day|Labor Day|Memorial Day|Veterans Day|(?:Lunar|Chinese) New Year)(?: (?:weekend|week|night|morning|evening|break))?\b)",
      Tag("[DATE]"));
  add("date", "(?:除夕|春節|中秋節|端午節|清明節|元宵節)", Tag("[DATE]"));

  // 7. Names in context and old ages.
  // A title before a surname with lower-case particles ("Dr. van der Berg", "Mr. di Stefano",
  // "Dr. Van der Berg").
  add("name",
      R"(\b((?:Dr\.?|Doctor|Mr\.?|Mrs\.?|Ms\.?|Miss|Mx\.?|Prof\.?|Professor|Nurse)) (?:(?:[Vv]an|[Vv]on|[Dd]e|[Dd]el|[Dd]ella|[Dd]i|[Dd]a|[Dd]u|[Ll]e|[Ll]a|der|den|ter|ten|bin|ibn|[Aa]l|[Ee]l|dos|das)[ -]){1,2}[A-Z](?:[a-z]|[^ -~\s])+)",
      Labelled("[NAME]"));
  // A name given as an alias ("visits under alias Dez Pike", "a.k.a. Junior").
  add("name",
      R"(\b((?:alias|aliases|a\.k\.a\.?|aka|AKA|[Gg]oes by|[Ss]treet name|[Nn]icknamed|(?:[Pp]refers|[Ll]ikes|[Ww]ants|[Aa]sks) to be called|[Kk]nown to (?:all|family|friends|staff) as)[:]? ["“']?)[A-Z][a-z]+(?:[ -][A-Z][a-z'-]+)?)",
      KeepFirst("[NAME]"));
  // A name set off before the kin or carer it is ("History from Lucía, the patient's
  // granddaughter"), after a word that leads to a person, so that no sentence's opening word
  // ("Yesterday, her daughter called") is taken for one.
  add("name",
      R"(\b((?:from|with|by|to|per|and|called|told|informed|contacted|notified|asked|phoned|via) )[A-Z](?:[a-z]|[^ -~\s])+(?: [A-Z](?:[a-z]|[^ -~\s])+)?(?=, (?:the patient's|the pt's|patient's|her|his|their) (?:(?:step|grand|great-|god)?(?:daughter|son|mother|father|child)|wife|husband|sister|brother|niece|nephew|aunt|uncle|cousin|friend|neighbou?r|caregiver|partner|spouse|guardian|roommate|landlady|landlord|fianc[^ -~\s]+e?)(?:-in-law)?\b))",
      Labelled("[NAME]", ""));
  // A name written "SURNAME, Given" after a record's label ("Pt: JOHANNSEN, Marit", "Resident:
  // O'NEILL-PARK, Sun Hee J"): a surname in capitals, a comma, given names and an initial; the
  // first given name a known one or no English word ("Pt: ALERT, Oriented x3" stays).
  add("name",
      R"(\b((?:Pt|Patient|Name|Resident|Client|Member|Employee|Decedent|Subject|Child|Infant|Mother|Father|Guardian|Insured):? +)[A-Z][A-Z'-]+(?:[ -][A-Z][A-Z'-]+)?, ([A-Z][a-z]+)(?: [A-Z][a-z]+)?(?: [A-Z]\.?)?\b)",
      KeepFirstIfGivenName("[NAME]"));
  // A session, call or ticket named by a code of letters and digits ("Session TH-7781-2025-1130",
  // "device token A91F-22C7-B30D"): six characters or more with a letter and a digit.
  add("mrn",
      R"(\b((?:[Ss]ession|[Mm]eeting|[Tt]icket|[Cc]onfirmation|[Tt]oken)(?: (?:ID|id|[Nn]o\.?|[Nn]umber|#|code))?[:#]? )(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{5,}\b)",
      KeepFirst("[ID]"));
  // A name that opens a note's line before the age ("Dakota Rain Fairweather, 17, plays..."):
  // two or three capitalized words, the first a known given name or no English word and no
  // record's label (a match that stays is parked, so "Pt Rhiannon Delacroix, 34F" is left to
  // the rules of labels).
  add("name",
      R"((^|\n)(?!(?:Pt|Patient|Name|Mr|Mrs|Ms|Dr|Client|Resident|Subject|Member|Child|Infant|Employee|Student|Decedent)\b)([A-Z][a-z]+)(?: [A-Z][a-z]+){1,2}(?=, \d{1,3}(?:,| ?(?:y/?o|yo|-year-old|year-old|[MF])\b)))",
      KeepFirstIfGivenName("[NAME]"));
  // A clinician's or technologist's credential before an initial and a surname ("Logged by MLS
  // T. Nakashima-Brandt", "RRT J. Osei").
  add("name",
      R"(\b((?:MLS|MLT|MT|CLS|RT|RRT|RN|LPN|LVN|CNA|CMA|NP|PA|PA-C|PT|OT|SLP|RD|CRNA|EMT|RPh|PharmD)(?:\(ASCP\))? )[A-Z]\. ?[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b)",
      KeepFirst("[NAME]"));
  // A name after the role a person has in a case or at work ("recipient Theodora
  // Vasquez-Ludlow", "donor: Ama Boateng", "Supervisor Tracy Lindahl"): given name, initial,
  // surname, the given name a known one or no English word.
  add("name",
      R"(\b((?:[Rr]ecipient|[Dd]onor|[Aa]pplicant|[Cc]laimant|[Vv]eteran|[Cc]lient|[Ss]upervisor|[Mm]anager|[Ff]oreman|[Cc]o-?worker|[Bb]oss)[:,]? )([A-Z][a-z]+)(?: [A-Z]\.)? [A-Z][a-z'-]+(?:-[A-Z][a-z]+)?\b)",
      KeepFirstIfGivenName("[NAME]"));
  // An employer named after the word ("Recipient's employer (Sunrise Dental Group)").
  add("name",
      R"(\b((?:[Ee]mployer|[Ww]orkplace)(?: is| name is)?[:]? \(?)[A-Z][A-Za-z'&-]+(?: (?:&|and|of|[A-Z][A-Za-z'&-]+)){0,4})",
      KeepFirst("[NAME]"));
  // A name after a record's label with a nickname in quotes ("Child: Aurelio "Lelo" Benavides"):
  // given name, nickname, initial, surname, the given name a known one or no English word.
  add("name",
      R"(\b((?:Child|Minor|Infant|Patient|Pt|Student|Client|Resident|Applicant|Employee|Member):? +)([A-Z][a-z]+) (?:"|\xE2\x80\x9C)[A-Z][a-z]+(?:"|\xE2\x80\x9D)(?: [A-Z]\.)? [A-Z][a-z'-]+(?:-[A-Z][a-z]+)?\b)",
      KeepFirstIfGivenName("[NAME]"));
  // A given name in the possessive before a death or a rite ("five weeks after Harlan's death").
  add("name",
      R"(()\b([A-Z][a-z]+)(?='s (?:death|passing|funeral|memorial|burial|wedding|birthday|graduation)\b))",
      KeepFirstIfGivenName("[NAME]"));
  // A name after the label of a record or a document that names a person ("Decedent: Orville T.
  // Makepeace", "Name on I-94: Hamidullah Sarwari"): given name, initial, one or two surnames,
  // the given name a known one or no English word.
  add("name",
      R"(\b((?:Decedent|Deceased|Legal name|Full name|Name on (?:the |his |her )?[A-Za-z0-9-]+(?: (?:card|form|passport|visa|record|document))?):? +)([A-Z][a-z]+)(?: [A-Z]\.)?(?: [A-Z][a-z'-]+(?:-[A-Z][a-z]+)?){1,2}\b)",
      KeepFirstIfGivenName("[NAME]"));
  // A message's signature after its closing ("Thanks, Mari", "Best regards, Tom Ng"): one or
  // two capitalized words that end the line, the quote or the sentence.
  add("name",
      R"(\b((?:Thanks|Thank you|Thx|Regards|Best regards|Kind regards|Warm regards|Sincerely|Cheers|Best|Love|Warmly|Respectfully|Gratefully),? )(?!(?:Doctor|Dr|Doc|Nurse|Team|All|Everyone|Again|So|Much|You|Staff)\b)[A-Z](?:[a-z]|[^ -~\s])+(?: [A-Z](?:[a-z]|[^ -~\s])+)?(?=\s*(?:["”']|$|\n|[.!])))",
      KeepFirst("[NAME]"));
  // A caller or writer naming themselves after a greeting ("Hey, this is Norbert Quisling",
  // "Hi, it's Dana from upstairs"): one or two capitalized words.
  add("name",
      R"(\b((?:Hi|Hey|Hello|Good (?:morning|afternoon|evening)|Morning|Evening),?(?: there,?)? (?:this is|it's|it is|my name is|this is (?:Mr\.?|Mrs\.?|Ms\.?|Miss)) )(?!(?:Dr|Doctor|Nurse|the|your|a|an)\b)[A-Z](?:[a-z]|[^ -~\s])+(?: [A-Z](?:[a-z'-]|[^ -~\s])+)?)",
      KeepFirst("[NAME]"));
  // A transcriptionist's or scribe's initials ("transcribed by mrb", "Typed by: JKL").
  add("name",
      R"(\b((?:[Tt]ranscribed|[Tt]ranscription|[Tt]yped|[Ss]cribed|[Tt]ranscriptionist)(?: by)?:? )(?:[a-z]{2,4}|[A-Z]{2,4})\b(?=[.;,)]|\s*$|\n| on | at ))",
      KeepFirst("[NAME]"));
  // Titles, possibly two ("Chaplain Rev. Oduya"), before a capitalized name, possibly after
  // initials ("RN K. Osei").
  add("name",
      R"(\b((?:(?:Chaplain|Pastor|Father|Sister|Brother|Rabbi|Imam|Rev\.?|Reverend|Fr\.) )?(?:Dr\.?|Doctor|Mr\.?|Mrs\.?|Ms\.?|Miss|Mx\.?|Prof\.?|Professor|Nurse|RN|NP|PA-C|Chaplain|Pastor|Rabbi|Imam|Rev\.?|Reverend|Fr\.|Don|Doña|Sr\.|Sra\.|Srta\.|Lcdo\.|Lcda\.|Dra\.)) (?:[A-Z]\.(?: ?[A-Z]\.)? (?=[A-Z][a-z]))?[A-Z](?:'[A-Z])?(?:[a-z]+|[a-z]*(?=[^ -~\s]))(?:[A-Z][a-z]+)?(?:-[A-Za-z][a-z]+)?(?: [A-Z]\.)?(?: [A-Z](?:'[A-Z])?[a-z'-]+)?)",
      Labelled("[NAME]"));
  // An assistant's or aide's credential before a name ("Spoke w/ MA Brittani", "CNA Dolores"):
  // "MA" is also a state's code, so the name must be a known given name or no English word.
  add("name",
      R"(\b((?:MA|CMA|RMA|CNA|LPN|LVN|PCT|PCA|CCMA|RT|RRT|MLS|MLT|EMT|CRNA|RD|SLP) )(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|August|September|October|November|December)\b)([A-Z][a-z]+)(?: [A-Z][a-z]+)?\b)",
      KeepFirstIfGivenName("[NAME]"));
  // A given name in the possessive before a relative ("Ardith's nephew"), by the dictionaries.
  add("name",
      R"(\b[A-Z][a-z]+(?='s (?:[a-z]+ )?(?:nephew|niece|son|daughter|husband|wife|mother|father|sister|brother|grandson|granddaughter|aunt|uncle|cousin|partner|caregiver|friend|neighbou?r|boyfriend|girlfriend)\b))",
      [](const std::smatch& m, int) {
        return IsGivenName(m.str(0)) ? std::string("[NAME]") : m.str(0);
      });
  // The person a document is for ("Discharge instructions for Jordan Akintola-Reyes"): two
  // capitalized words after it, the first a dictionary given name or the second a surname or a
  // double-barrelled name, so that "Instructions for Wound Care" stays.
  add("name",
      R"(\b((?:[Ii]nstructions|[Ss]ummary|[Nn]ote|[Ll]etter|[Rr]eport|[Rr]esults|[Pp]lan|[Pp]repared|[Ii]nvoice|[Ss]tatement|[Rr]ecords?|[Cc]onsent|[Rr]eferral|[Rr]equisition|[Oo]rders?) for )([A-Z][a-z]+) (?:[A-Z]\. )?([A-Z](?:'[A-Z])?[a-z]+(?:-[A-Z][a-z]+)?)\b)",
      [](const std::smatch& m, int) {
        const std::string last = m[3].str();
        const bool name =
            IsGivenName(m[2].str()) || IsSurname(last) || last.find('-') != std::string::npos;
        return name ? m[1].str() + "[NAME]" : m.str(0);
      });
  // A name given as such ("Baby's name will be Amara Joy", "Her legal name is Ann Lee").
  add("name",
      R"(\b((?:[Bb]aby's|[Hh]er|[Hh]is|[Tt]heir|[Mm]y|[Pp]atient's|[Pp]t's|[Pp]referred|[Ff]ull|[Ll]egal|[Mm]aiden|[Bb]irth|[Ff]irst|[Ll]ast|[Cc]hosen|[Nn]ick|[Gg]iven|[Ff]ormer|[Pp]revious|[Dd]ead|[Aa]lternate|[Uu]ses(?: the)?|[Aa]nswers to(?: the)?) ?name(?: on (?:insurance|file|the chart|(?:her|his|their) (?:ID|license|insurance)|records?))?(?: will be| is| was|:)? )[A-Z](?:[a-z'-]|[^ -~\s])+(?: [A-Z](?:[a-z'-]|[^ -~\s])+)?)",
      KeepFirst("[NAME]"));
  // The nurse a report was called or handed to ("Report called to Nkechi on 4 West").
  add("name",
      R"(\b((?:[Rr]eport (?:called|given|phoned) to|[Cc]alled report to|[Gg]ave report to|[Hh]anded (?:off|over) to|[Ss]ign(?:ed)?[- ]out to) )(?!(?:Radiology|Pharmacy|Nursing|the|The|ICU|ED|PACU|Floor|Unit)\b)[A-Z](?:[a-z]|[^ -~\s])+(?: [A-Z](?:[a-z'-]|[^ -~\s])+)?)",
      KeepFirst("[NAME]"));
  // A given name and an initial before a nursing credential ("Trisha K., LPN").
  add("name",
      R"(\b[A-Z][a-z]+ [A-Z]\.(?=,? (?:LPN|LVN|RN|CNA|BSN|MSN|APRN|NP|PA-C|RT|RRT|CMA|MA)\b))",
      Tag("[NAME]"));
  // A room number of three digits and more, where someone lives or stays ("Room 214-B").
  add("address", R"(\b((?:Room|Rm\.?) ?#? ?)\d{3,4}-?[A-Z]?\b)", KeepFirst("[ADDRESS]"));
  // Someone to call at a number ("Please call Maribel at ext. 2207"): a capitalized name between
  // "call" and a telephone number, unless it names a service.
  add("name",
      R"(\b((?:[Cc]all|[Pp]age|[Tt]ext|[Cc]ontact|[Aa]sk for|[Rr]each) )(?!(?:Radiology|Pharmacy|Security|Nursing|Transport|Dispatch|Registration|Scheduling|Billing|Admitting|Lab|Laboratory|Patient|Family|Poison|Control|Clinic|Hospice|Triage|Cardiology|Surgery|Oncology|Neurology|Pediatrics|Psychiatry|Urology|Orthopedics|Dermatology|Me|Us|Them|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Today|Tomorrow|Tonight|Back|Again|Anytime)\b)[A-Z](?:[a-z]|[^ -~\s])+(?: [A-Z](?:[a-z'-]|[^ -~\s])+)?(?= (?:at|on) (?:\x01|ext|x\d|\(?\d)))",
      KeepFirst("[NAME]"));
  // A colleague named by the service they speak for: "Fitzwilliam from PT recommends ...".
  add("name",
      R"(\b(?!(?:Consult|Consults|Recommendations?|Notes?|Input|Reports?|Referrals?|Transfer|Calls?|Messages?|Updates?|Orders?|Results?|Records?|Clearance|Eval|Evaluation|Feedback|Someone|Staff|Team|Nursing|Help|Approval|Word|Plan|Follow|Discharge|Pt|Patient)\b)[A-Z](?:'[A-Z])?[a-z]+(?: [A-Z](?:'[A-Z])?[a-z]+)?( from (?:the )?(?:PT|OT|SLP|ST|physical therapy|occupational therapy|speech(?: therapy)?|pharmacy|nutrition|dietary|social work|case management|palliative(?: care)?|hospice|respiratory(?: therapy)?|wound care|cardiology|neurology|nephrology|oncology|surgery|radiology|psychiatry|infectious disease|ID|GI|the lab|lab|admissions|billing|home health) (?:recommends|recommended|suggests|suggested|says|said|states|stated|reports|reported|notes|noted|called|asks|asked|agrees|agreed|will|came|saw|evaluated|advises|advised|confirmed|requests|requested)\b))",
      [](const std::smatch& m, int) { return "[NAME]" + m[1].str(); });
  // A name before a credential ("Beatrix Olufemi, CWON", "Ngozi Adeyemi-Clarke, NP"); only
  // credentials that are not also views or abbreviations of clinical words (PA, PT, OT, DO).
  add("name",
      R"(\b[A-Z](?:'[A-Z])?[a-z]+(?:-[A-Z][a-z]+)? (?:[A-Z]\. )?[A-Z](?:'[A-Z])?[a-z'-]+(?:-[A-Z][a-z]+)?(?=,? (?:RN|LPN|LVN|NP|APRN|FNP|CNS|CNM|CRNA|PA-C|MD|PhD|PharmD|RPh|RDN|DPT|OTR|CCC-SLP|RRT|LCSW|MSW|LMFT|PsyD|CWON|CWOCN|WOCN|CDCES|IBCLC|BSN|MSN|DNP|MBBS|CCM|CNA|CCRN|CEN|ACNP|PNP|CRNP|DDS|DMD|AuD|MPH|LPC|LMHC|CPhT|CHES|COTA|CMA|EMT|NRP|CHPN|OCN|CDE|(?:PT|OT|RD|MS|MA), (?:DPT|OTR|OTD|LDN|CSCS|ATC|PhD))\b))",
      Tag("[NAME]"));
  // A surname alone before a clinician's credential set off by commas ("Hsu, PA-C, placed the
  // order"); not MD, DO or the therapies, which follow clinical words too ("Hypotensive, MD
  // notified").
  add("name",
      R"(\b[A-Z](?:'[A-Z])?[a-z]+(?:-[A-Z][a-z]+)?(?=, (?:RN|LPN|LVN|NP|APRN|FNP|CNM|CRNA|PA-C|PharmD|RPh|RDN|DPT|OTR/L|RRT|LCSW|BSN|MSN|DNP|CNA|CCRN|ACNP|CRNP)(?:,|\.|$)))",
      Tag("[NAME]"));
  // Two or three initials before a surname: "J. R. Whitcombe" (one initial is too often a list
  // item or a grade: "I. Mild").
  add("name", R"(\b(?:[A-Z]\. ?){2,3}[A-Z](?:'[A-Z])?[a-z]+(?:-[A-Z][a-z]+)?\b)", Tag("[NAME]"));
  // Islands ("Family from Xiaoliuqiu island", "Green Island"); Rhode Island is a state.
  add("address", R"(\b(?:[A-Z][a-z]+ ){0,2}[A-Z][a-z]{3,} (?:[Ii]sland|[Ii]sle|[Aa]toll)s?\b)",
      [](const std::smatch& m, int) {
        return m.str(0).starts_with("Rhode ") ? m.str(0) : std::string("[ADDRESS]");
      });
  // Where a patient stays: hotels, inns, motels ("Staying at the Harbor Inn").
  add("address",
      R"(\b[A-Z][A-Za-z'&-]+(?: (?:of |the |and |& )?[A-Z][A-Za-z'&-]+){0,3} (?:Inn|Hotel|Motel|Hostel|Suites|Resort|Guest House|Campground|RV Park|Trailer Park|Mobile Home Park|Mobile Home Community|Manufactured Home Community|Senior Living|Assisted Living|Care Home|Retirement Home|Retirement Community|Retirement Village)\b)",
      Tag("[ADDRESS]"));
  // The place a document was issued or registered in ("card issued in Đà Nẵng"): one to three
  // capitalized words (Latin letters with diacritics too), the first no English word.
  add("address",
      R"(\b((?:issued|registered|naturalized|notarized) in )((?:[A-Z]|[\xC3-\xC7][\x80-\xBF])(?:[a-z]|[\xC3-\xC7][\x80-\xBF]|\xE1[\xB8-\xBB][\x80-\xBF])+)(?: (?:[A-Z]|[\xC3-\xC7][\x80-\xBF])(?:[a-z]|[\xC3-\xC7][\x80-\xBF]|\xE1[\xB8-\xBB][\x80-\xBF])+){0,2})",
      KeepFirstIfNoEnglishWord("[ADDRESS]"));
  // The town of a parish or congregation named after it ("parish: St. Columba, Holyoke"), when
  // it is no English word.
  add("address",
      R"(\b((?:[Pp]arish|[Cc]ongregation)[:]? (?:(?:St\.?|Saint|Our Lady of|Holy) )?[A-Z][a-z]+(?:'s)?(?: [A-Z][a-z]+)?,? )([A-Z][a-z]{2,})(?: [A-Z][a-z]+)?\b)",
      KeepFirstIfNoEnglishWord("[ADDRESS]"));
  // Where someone trains or plays by the place's name ("the track at Bishop Guertin", "the
  // rink at Conway Arena").
  add("address",
      R"(\b((?:track|gym|field|pool|courts?|campus|playground|rink|arena|fields) at (?:the )?)[A-Z][a-z]+(?: [A-Z][a-z]+){0,2})",
      KeepFirst("[ADDRESS]"));
  // A prison's or a shelter's housing unit after its label ("Housing: Unit C-14", "Bunk 22B").
  add("address",
      R"(\b((?:Housing|Bunk|Pod)[:#]? )(?:(?:Unit|Block|Pod|Tier|Dorm) )?[A-Z0-9]{1,3}(?:-[A-Z0-9]{1,3})?\b)",
      KeepFirst("[ADDRESS]"));
  // A dormitory by its building and room ("his dorm, Tarrant Hall room 314").
  add("address",
      R"(\b((?:[Dd]orm|[Dd]ormitory|[Rr]esidence hall|[Hh]all of residence)(?:,| is| in| at)? )[A-Z][a-z]+(?: [A-Z][a-z]+)? (?:Hall|House|Tower|Towers|Commons|Court)(?:,? (?:[Rr]oom|[Rr]m\.?|#) ?\d{1,4}[A-Z]?)?\b)",
      KeepFirst("[ADDRESS]"));
  // A school a student plays or studies for, named without "School" ("plays for Kettle Moraine
  // High", "a junior at Westbrook Prep", "studies at Truckee Meadows CC").
  add("address",
      R"(\b((?:for|at|attends|from) )(?:[A-Z][a-z]+ ){1,3}(?:High|Middle|Elementary|Junior High|Prep|Academy|CC|Community College|College)(?=[;,.)]|$|\n))",
      KeepFirst("[ADDRESS]"));
  // The town a workplace is named by ("the Sparks distribution center", "the Gary plant").
  add("address",
      R"(\b((?:the|its|our|their|his|her) )(?!(?:North|South|East|West|Central|Main|New|Old|Night|Day)\b)[A-Z][a-z]+(?: [A-Z][a-z]+)?(?= (?:distribution center|fulfillment center|warehouse|plant|depot|terminal|rail yard|shipyard|refinery|mill|mine|quarry)\b))",
      KeepFirst("[ADDRESS]"));
  // A company's site by its code before the kind of site ("Amazon DSM5 facility").
  add("address",
      R"(\b[A-Z][A-Za-z]+ (?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{3,6} (?:facility|warehouse|site|plant|distribution center|fulfillment center)\b)",
      Tag("[ADDRESS]"));
  // Housing developments and subdivisions ("Lives in the Fairwood Estates subdivision").
  add("address",
      R"(\b[A-Z][a-z]+(?: [A-Z][a-z]+){0,2} (?:Estates|Apartments|Apts\.?|Townhomes|Townhouses|Condominiums|Condos|Subdivision)\b(?: subdivision)?)",
      Tag("[ADDRESS]"));
  // A highway's exit a home is near, without the highway ("off Exit 14").
  add("address", R"(\b((?:off|near|past|by) )[Ee]xit \d{1,3}[A-Z]?\b)", KeepFirst("[ADDRESS]"));
  // Places of worship, schools, clubs and charities a patient belongs to ("Attends Grace
  // Fellowship Church", "St. Agnes Food Pantry"): they place the patient in a community.
  add("name",
      R"(\b(?:(?:St\.?|Saint) )?[A-Z][A-Za-z'&-]+(?: (?:of |the |and |& )?[A-Z][A-Za-z'&-]+){0,3} (?:Church|Chapel|Cathedral|Temple|Mosque|Synagogue|Parish|Congregation|Fellowship|Ministries|Pantry|Food Bank|Shelter|Soup Kitchen|Lodge|Club|Academy|School|Elementary|Choir|Chorus|Orchestra|Ensemble|Band|Troop|Guild|League|Gym|Fitness Center|Dojo|Salon|Barbershop|Bakery|Restaurant|Cafe|Diner|Pub|Store|Shop|Supermarket|Farm|Ranch|Factory|Mill|Warehouse|Garage|Marina|Kindergarten|Preschool|Daycare|Senior Center|Community Center)\b)",
      [](const std::smatch& m, int) {
        static const std::set<std::string> kSides = {"Left", "Right", "Bilateral", "Lateral",
                                                     "Medial"};
        const std::string first = m.str(0).substr(0, m.str(0).find(' '));
        return kSides.count(first) ? m.str(0) : std::string("[NAME]");
      });
  // A full name after a role that opens the sentence ("Interpreter Khadija Benali present",
  // "Athletic trainer Brandi Kealoha").
  add("name",
      R"(\b((?:Interpreter|Translator|Sitter|Chaplain|Pharmacist|Dietitian|Midwife|Doula|Companion|Escort|Driver|Volunteer|Advocate|Caregiver|Aide|Athlete|Athletic [Tt]rainer|Trainer|Coach) )([A-Z](?:'[A-Z])?[a-z]+(?:-[A-Z][a-z]+)? [A-Z](?:'[A-Z])?[a-z'-]+(?:-[A-Z][a-z]+)?)\b)",
      [](const std::smatch& m, int) {
        static const std::regex kNotNames(
            R"(\b(?:Services?|Department|Program|Notes?|Office|Team|Request(?:ed)?|Needed|Present|Unavailable|Line|Phone|Call|Visit|Staff|Pool|Desk|Center|Coordinator|Consult|Assessment|Education|Report)\b)");
        return std::regex_search(m[2].str(), kNotNames) ? m.str(0) : m[1].str() + "[NAME]";
      });
  // A person after a role label and a colon ("Interpreter: Hamid Rostami").
  add("name",
      R"(\b((?:[Ii]nterpreter|[Tt]ranslator|[Ss]itter|[Cc]aregiver|[Cc]haplain|[Dd]river|[Gg]uardian|[Ww]itness|[Pp]roxy|[Hh]ealth care proxy|POA|[Ss]urrogate|[Ee]scort|[Cc]ompanion|[Vv]isitor|[Dd]onor|[Ii]nformant|[Ss]ource)s?: )[A-Z](?:'[A-Z])?[a-z]+(?:-[A-Z][a-z]+)?(?: [A-Z]\.)?(?: [A-Z](?:'[A-Z])?[a-z'-]+(?:-[A-Z][a-z]+)?){1,2})",
      Labelled("[NAME]", ""));
  // A name before its relation to the patient ("identifies Roscoe, her partner, as next of
  // kin"); the word before it is in lower case, so a sentence's first word is never taken.
  add("name",
      R"(\b([a-z]+ )([A-Z](?:'[A-Z])?[a-z]+(?: [A-Z](?:'[A-Z])?[a-z'-]+)?)(?=,? \(?(?:her|his|their|the patient's|patient's|pt's) (?:partner|husband|wife|spouse|son|daughter|mother|father|sister|brother|friend|neighbou?r|caregiver|niece|nephew|aunt|uncle|cousin|grandson|granddaughter|boyfriend|girlfriend|fiancée?)\b))",
      [](const std::smatch& m, int) { return m[1].str() + "[NAME]"; });
  // A surname after a care role written in lower case ("Bedside nurse Kowalczyk noted"); the
  // capitalized words that follow such roles in clinical text are not names.
  add("name",
      R"(\b((?:[Bb]edside |[Cc]harge |[Pp]rimary |[Tt]riage |[Nn]ight |[Dd]ay |[Hh]ome |[Ss]chool |[Ww]ound |[Hh]ospice |[Oo]n-call |[Rr]espiratory |[Pp]hysical |[Oo]ccupational )?(?:nurse|therapist|physician|surgeon|[Cc]haplain|[Pp]harmacist|[Ss]ocial worker|[Cc]ase manager|technician|aide|[Mm]idwife|[Dd]ietitian|[Ii]nterpreter|attending|resident|intern)) ([A-Z](?:'[A-Z])?[a-z]{2,}(?:-[A-Z][a-z]+)?)\b)",
      [](const std::smatch& m, int) {
        static const std::set<std::string> kNotNames = {
            "Practitioner", "Assistant", "Notes",       "Note",       "Manager",   "Station",
            "Report",       "Rounds",    "Education",   "Call",       "Line",      "Visit",
            "Team",         "Unit",      "Consult",     "Assessment", "Navigator", "Coordinator",
            "Specialist",   "Educator",  "Anesthetist", "Supervisor", "Director",  "Services",
            "She",          "He",        "They",        "The",        "This",      "That",
            "Patient",      "Pt",        "Per",         "On",         "At",        "In",
            "Today",        "Tonight",   "Yesterday",   "Overnight",  "Monday",    "Tuesday",
            "Wednesday",    "Thursday",  "Friday",      "Saturday",   "Sunday"};
        return kNotNames.count(m[2].str()) ? m.str(0) : m[1].str() + " [NAME]";
      });
  // A group the patient belongs to, named after "member of", "belongs to", "volunteers at" or a
  // role held in it ("Member of Kiwanis since 1990", "a deacon at St. Casimir's", "an usher at
  // First Lutheran", "coaches Little League for the Riverside Rattlers", where an earlier rule
  // may have parked the league already); care teams and boards stay ("member of the Tumor
  // Board").
  add("name",
      R"(\b((?:[Mm]ember of|[Mm]embers of|[Bb]elongs to|[Vv]olunteers (?:at|with|for)|[Vv]olunteered (?:at|with|for)|[Cc]oach(?:es|ed|ing)?(?: (?:[A-Z][A-Za-z]+|\x01[\x0E-\x1D]+\x02)){0,2} (?:for|of)|[Pp]lays? (?:for|on)|[Pp]layed (?:for|on)|(?:[Dd]eacon|[Dd]eaconess|[Ee]lder|[Uu]sher|[Pp]arishioner|[Cc]ongregant|[Cc]hoir member|[Cc]hoir director|[Ss]unday school teacher|[Ss]cout ?master|[Tt]roop leader|[Ll]ay minister|[Ll]ay reader|[Cc]antor|[Ss]acristan) (?:at|of|with|for)) (?:the )?)([A-Z][A-Za-z'&.-]+(?: (?:of |the |and |& )?[A-Z][A-Za-z'&.-]+){0,4})\b)",
      KeepFirstUnless(
          "[NAME]",
          R"(\b(?:Team|Department|Service|Clinic|Unit|Group|Committee|Board|Program|Council|Staff|ICU|Cardiology|Oncology|Radiology)\b)"));
  // A congregation a patient attends ("attends the Beth Shalom congregation", "attended St.
  // Olaf's church"); the word for it stays.
  add("name",
      R"(\b((?:[Aa]ttends|[Aa]ttended|[Aa]ttending|[Gg]oes to|[Ww]orships at|[Bb]elongs to) (?:the )?)([A-Z][A-Za-z'.]+(?: (?:of )?[A-Z][A-Za-z'.]+){0,3})( (?:congregation|church|synagogue|temple|mosque|parish|meeting ?house|fellowship|gurdwara)\b))",
      [](const std::smatch& m, int) { return m[1].str() + "[NAME]" + m[3].str(); });
  // A town someone lives or works just outside, near or north of ("a goat farm outside
  // Brattleboro", "lives just north of Bend", "hunts near Moosehead Lake"); places of care and
  // services stay ("outside Radiology"), and so do eponyms ("fluid near Morison's pouch").
  add("address",
      R"(\b((?:(?:just |right )?(?:outside(?: of)?|near|north of|south of|east of|west of|northeast of|northwest of|southeast of|southwest of)|on the outskirts of) )()" +
          place_opening + R"([A-Z][a-z]{2,}(?:[ -][A-Z][a-z]+){0,2})\b(?!'))",
      KeepFirstUnless(
          "[ADDRESS]",
          R"(^(?:Radiology|Cardiology|Oncology|Neurology|Surgery|Medicine|Pharmacy|Nursing|Hospice|Rehab|Dialysis|Lab|Labs|Pathology|Admissions|Triage|Emergency|Telemetry|Room|Bed|Unit|Ward|Hospital|Clinic|The|This|Our|Their|His|Her)\b)"));
  // A place someone joins or calls from ("joins rounds by video from Hilo", "called in from
  // Boise", "on FaceTime from Manila"); services and places of care stay ("called from
  // Radiology", "by phone from the ICU").
  add("address",
      R"(\b((?:(?:[Bb]y|[Vv]ia|[Oo]ver|[Oo]n) (?:video|phone|telephone|Zoom|FaceTime|Skype|WhatsApp|Teams|speakerphone|webcam)(?: calls?| chat)?|[Cc]alls?(?: in)?|[Cc]alled(?: in)?|[Cc]alling(?: in)?|[Pp]hones?(?: in)?|[Pp]honed(?: in)?|[Dd]ials? in|[Dd]ialed in|[Dd]ialing in|[Ll]ogs? in|[Ll]ogged in|[Tt]exts?|[Tt]exted|[Ww]rites?|[Ww]rote|[Ee]mails?|[Ee]mailed) from )()" +
          place_opening + R"([A-Z][a-z]{2,}(?:[ -][A-Z][a-z]+){0,3})\b)",
      KeepFirstUnless(
          "[ADDRESS]",
          R"(^(?:Radiology|Cardiology|Oncology|Neurology|Surgery|Medicine|Pharmacy|Nursing|Hospice|Home|Work|Rehab|Dialysis|Lab|Labs|Pathology|Admissions|Billing|Triage|Emergency|Telemetry|Pulmonology|Nephrology|Urology|Psychiatry|Pediatrics|Obstetrics|Orthopedics|Hematology|Endocrinology|Dermatology|Ophthalmology|Gastroenterology|Anesthesia|Transport|Security|Registration|Case|Social|Physical|Occupational|Speech|Respiratory|Infectious|Palliative|Interventional|Outpatient|Inpatient|The|This|Our|Their|His|Her)\b)"));
  // A fraternal, veterans' or civic group met at its hall or lodge ("cribbage at the Knights of
  // Columbus hall", "the Elks Lodge", "the VFW post"); a hospital's hall stays ("the Radiology
  // hall").
  add("name",
      R"(\b((?:at|in|to|from|near) (?:the )?)((?:[A-Z][A-Za-z'.]+|of|the)(?: (?:[A-Z][A-Za-z'.]+|of|the)){0,4})( (?:[Hh]all|[Ll]odge|Post|[Cc]lubhouse|Temple|[Gg]range|[Cc]hapter house)\b))",
      [](const std::smatch& m, int) {
        static const std::regex kCare(
            R"(\b(?:Radiology|Cardiology|Oncology|Surgery|Medicine|Nursing|Hospital|Clinic|Medical|Health|Pharmacy|Rehab|ICU|ED|ER|OR|Emergency|Main|North|South|East|West|City|Town|Dining|Lecture|Residence|Concert)\b)");
        if (m[2].str().starts_with("of") || m[2].str().starts_with("the") ||
            std::regex_search(m[2].str(), kCare))
          return m.str(0);
        return m[1].str() + "[NAME]" + m[3].str();
      });
  // A shop, business or landmark that places where someone lives or is found ("a trailer behind
  // the Dollar General", "lives across from the Shell station"); places of care stay ("the
  // bed next to the Nurses' Station").
  add("name",
      R"(\b((?:[Bb]ehind|[Nn]ext to|[Aa]cross (?:the street |the road )?from|[Bb]eside|[Oo]pposite|[Aa]round the corner from|[Dd]own the (?:street|road) from|[Uu]p the (?:street|road) from|[Ii]n the parking lot of|[Oo]utside) the )([A-Z][A-Za-z'&.-]+(?: [A-Z][A-Za-z'&.-]+){0,3})\b)",
      KeepFirstUnless(
          "[NAME]",
          R"(\b(?:Nurses|Nursing|Station|Unit|Ward|Bay|Room|Bed|Hospital|Clinic|Medical|Health|ICU|ED|ER|OR|PACU|Radiology|Pharmacy|Lab|Emergency|Department|Desk|Entrance|Lobby|Chapel|Cafeteria|Elevator|Elevators|Left|Right|Upper|Lower)\b)"));
  // The town of a place of care a patient goes to ("seen at the VA in White River Junction",
  // "Mercy Clinic of Sandpoint"): the facility's name stays, its town goes.
  add("address",
      R"(\b((?:the )?(?:VA|V\.A\.|VAMC|CBOC|[A-Z][A-Za-z'.]+(?: [A-Z][A-Za-z'.]+){0,3} (?:Hospital|Clinic|Medical Center|Medical Centre|Health Center|Health Centre|Medical Group|Imaging|Nursing Home|Care Home|Rehab|Pharmacy|Urgent Care|Dialysis|Hospice|Infirmary|Sanatorium))(?: clinic| hospital)? (?:in|of|at) )()" +
          place_opening + R"([A-Z][a-z]{2,}(?:[ -][A-Z][a-z]+){0,3})\b)",
      [](const std::smatch& m, int) { return m[1].str() + "[ADDRESS]"; });
  // The town of a place someone lives, is cared for or works that has no name of its own
  // ("admitted to rehab in Scranton", "works at the warehouse in Fall River"); a month, a weekday
  // or a season after it is a time, not a town ("back at school in Winter").
  add("address",
      R"(\b((?:[Rr]ehab|[Nn]ursing home|SNF|[Ss]killed nursing(?: facility)?|[Aa]ssisted living|[Mm]emory care|[Gg]roup home|[Hh]alfway house|[Ss]helter|[Ww]arehouse|[Pp]lant|[Ff]actory|[Mm]ill|[Mm]ine|[Ss]hipyard|[Rr]efinery|[Dd]epot|[Rr]anch|[Ff]arm|[Ss]tore|[Oo]ffice|[Ss]chool|[Cc]ollege|[Pp]rison|[Jj]ail|[Mm]otel|[Hh]otel|[Cc]asino|[Cc]hurch|[Cc]amp|[Bb]ase) (?:in|near|outside(?: of)?) )(?!(?:January|February|March|April|May|June|July|August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Room|Bed|Unit|Ward)\b)(?!(?:Spring|Summer|Fall|Autumn|Winter)\b(?![ -][A-Z]))()" +
          place_opening + R"([A-Z][a-z]{2,}(?:[ -][A-Z][a-z]+){0,3})\b)",
      [](const std::smatch& m, int) { return m[1].str() + "[ADDRESS]"; });
  // The town where someone coaches, volunteers, teaches, preaches, referees or tutors, a few
  // words on ("coaches Little League in Worcester", "volunteers at the food pantry in Lowell");
  // a month, a weekday, a season or a place of care after it stays ("teaches in Radiology").
  add("address",
      R"(\b((?:[Cc]oach(?:es|ed|ing)?|[Vv]olunteer(?:s|ed|ing)?|[Tt]each(?:es|ing)?|[Tt]aught|[Pp]reach(?:es|ed|ing)?|[Rr]eferee(?:s|d|ing)?|[Uu]mpire(?:s|d)?|[Tt]utor(?:s|ed|ing)?) (?:[^.;,\n]{1,40}? )?in )(?!(?:January|February|March|April|May|June|July|August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Room|Bed|Unit|Ward)\b)(?!(?:Spring|Summer|Fall|Autumn|Winter)\b(?![ -][A-Z]))()" +
          place_opening + R"([A-Z][a-z]{2,}(?:[ -][A-Z][a-z]+){0,3})\b)",
      KeepFirstUnless(
          "[ADDRESS]",
          R"(^(?:Radiology|Cardiology|Oncology|Neurology|Surgery|Medicine|Pharmacy|Nursing|Hospice|Rehab|Dialysis|Pathology|Pediatrics|Psychiatry|Emergency|English|Spanish|French|Math|Science|History|Music|Art|The|This|Our|Their|His|Her)\b)"));
  // A person introduced by a noun and "named" or "called" ("a retired firefighter named Gus"),
  // not a drug, a condition or a thing ("a medication called Eliquis").
  add("name",
      R"(\b((?:[Aa]n?|[Hh]is|[Hh]er|[Tt]heir|[Tt]he) (?:[a-z-]+ ){0,2}([a-z-]+),? (?:named|called) )([A-Z][a-z]+(?:[ -][A-Z][a-z]+)?))",
      [](const std::smatch& m, int) {
        static const std::set<std::string> kThings = {
            "medication", "medicine", "drug", "pill", "tablet", "supplement", "vitamin", "herb",
            "inhaler", "cream", "ointment", "product", "syndrome", "disease", "condition",
            "disorder", "virus", "bacteria", "infection", "procedure", "test", "scan", "device",
            "app", "program", "thing", "something", "study", "trial", "diet", "therapy",
            "treatment", "exercise", "technique", "sign",
            // Pets: their names identify no one.
            "dog", "cat", "puppy", "kitten", "pet", "horse", "bird", "parrot", "rabbit", "hamster",
            "pony", "goat", "turtle", "fish"};
        return kThings.count(m[2].str()) ? m.str(0) : m[1].str() + "[NAME]";
      });
  // Relatives named together after a plural ("with sons Abe and Isaac", "daughters Ann, Beth and
  // Cara"): every name of the list goes.
  add("name",
      R"(\b((?:[Ss]ons|[Dd]aughters|[Bb]rothers|[Ss]isters|[Gg]randsons|[Gg]randdaughters|[Gg]randchildren|[Cc]hildren|[Kk]ids|[Nn]ephews|[Nn]ieces|[Cc]ousins|[Ff]riends|[Pp]arents|[Nn]eighbou?rs|[Cc]aregivers),? )((?:[A-Z][a-z]+, )*[A-Z][a-z]+,? (?:and|&) [A-Z][a-z]+)\b)",
      [](const std::smatch& m, int) {
        static const std::regex kName(R"([A-Z][a-z]+)");
        return m[1].str() + std::regex_replace(m[2].str(), kName, "[NAME]");
      });
  // Employers and businesses: "Works at Pinecrest Lumber Co.", "employed by Halvorsen Marine
  // Supply", "worked 30 years at Kessler Tool & Die", "worked as a welder for Acme Rail", "works
  // the night shift at Lakeshore Cold Storage", "works nights as a sous-chef at Oleana", "owns
  // Blue Heron Bakery".
  add("name",
      R"(\b((?:[Ww]orks|[Ww]orked|[Ww]orking|[Ee]mployed|[Rr]etired)(?: (?:nights|days|evenings|weekends|shifts|remotely|from home|seasonally|part[- ]time|full[- ]time|overtime|(?:(?:the|a|an) )?(?:night|day|evening|graveyard|early|late|overnight|weekend|morning|swing) shifts?))?(?: (?:for )?(?:\d+|a few|many|several|two|three|four|five|ten|twenty|thirty|forty) (?:years?|yrs?|decades?|months?))?(?: as an? [a-z]+(?:-[a-z]+)?(?: [a-z]+(?:-[a-z]+)?)?)? (?:at|for|by|from)|[Oo]wns|[Oo]wned|[Rr]uns|[Mm]anages|[Mm]anaged|(?:[Bb]artends|[Bb]artended|[Ww]aitress(?:es|ed)?|[Ww]aits tables|[Cc]ooks|[Cc]ooked|[Cc]leans|[Tt]eaches|[Tt]aught|[Dd]elivers|[Dd]elivered|[Cc]ashiers) (?:at|for)) (?:the )?[A-Z][A-Za-z'&-]+(?: (?:&|and|of|(?:Co|Inc|Corp|Ltd|Bros)\.|[A-Z][A-Za-z0-9'&-]+)){0,4})",
      Labelled("[NAME]"));
  // A former trade and where it was plied: "Former machinist at Bethlehem Steel", "retired
  // teacher at Lincoln Elementary".
  add("name",
      R"(\b((?:[Ff]ormer|[Rr]etired|[Ll]ongtime|[Ll]ong-time|[Ee]x-|(?:was|is|has been|had been) (?:an?|the) (?:head |senior |chief |assistant |associate )?)[ ]?[a-z]{3,}(?: [a-z]{3,})? (?:at|for)) (?:the )?(?!(?:VA|ICU|ED|ER|OR|PACU|Radiology|Cardiology|Surgery|Oncology|Neurology|Pediatrics|Psychiatry|Pharmacy|Nursing|Hospice|Home|Clinic|Hospital)\b)[A-Z][a-z][A-Za-z'&-]*(?: (?:&|and|of|(?:Co|Inc|Corp|Ltd|Bros|Mt|St)\.|[A-Z][A-Za-z'&-]+)){0,4})",
      Labelled("[NAME]"));
  // A business by the trade in its name ("Dunmore Steel Fabricators", "Hillside Trucking"):
  // where someone works or was hurt.
  add("name",
      R"(\b[A-Z][A-Za-z'&-]+(?: (?:&|and|[A-Z][A-Za-z'&-]+)){0,3} (?:Fabricators|Fabrication|Manufacturing|Industries|Logistics|Construction|Contractors|Trucking|Freight|Roofing|Plumbing|Landscaping|Warehousing|Distribution|Packaging|Foods|Dairy|Farms|Motors|Welding|Machining|Plastics|Lumber|Cannery|Bakery|Brewery|Diner|Tavern|Salon|Barbershop|Towing|Hauling|Excavating|Paving|Masonry|Movers|Janitorial|Orchards|Vineyards|Winery|Nursery|Feed & Seed)\b(?! (?:Co\.|Inc\.?|LLC|Ltd\.?|Corp\.?|Corporation|Company)(?![A-Za-z])))",
      Tag("[NAME]"));
  add("name",
      R"(\b[A-Z][A-Za-z'&-]+(?: [A-Z][A-Za-z'&-]+){0,3} (?:Co\.|Inc\.?|LLC|Ltd\.?|Corp\.?|Corporation|Company|(?:&|and) Sons|(?:&|and) Daughters|Bros\.?|Brothers)(?![A-Za-z]))",
      Tag("[NAME]"));
  add("name",
      R"(\b(Dr\.?|Doctor|Mr\.?|Mrs\.?|Ms\.?|Miss|Mx\.?|Prof\.?|Professor|Nurse|RN|NP|PA-C|Sgt\.?|Sergeant|Cpl\.?|Corporal|Lieutenant|Capt\.?|Captain|Maj\.|Col\.|Colonel|Det\.?|Detective|Officer|Deputy|Trooper|Rev\.?|Reverend|Pastor|Rabbi|Imam|Judge) [A-Z](?:'[A-Z])?(?:[a-z]+|[a-z]*(?=[^ -~\s]))(?:[A-Z][a-z]+)?(?:-[A-Za-z][a-z]+)?(?: [A-Z]\.)?(?: [A-Z](?:'[A-Z])?[a-z'-]+)?)",
      Labelled("[NAME]"));
  add("name",
      R"(\b((?:(?:[Hh]is|[Hh]er|[Tt]heir|[Tt]he patient's|[Pp]atient's|[Pp]t's|[Aa]|[Tt]he) )?(?:guardian ad litem|conservator|case ?worker|parole officer|probation officer|attorney|lawyer|advocate|(?:health ?care )?proxy|Friend|Neighbou?r|Caregiver|Partner|[Ss]itter|[Aa]ide|[Vv]olunteer|[Cc]haperone|[Tt]ranslator|[Dd]river|[Dd]oula|[Nn]anny|[Bb]abysitter|[Hh]ousekeeper|[Rr]oommate|[Ll]andlord|[Ll]andlady|[Ee]mployer|[Bb]oss|[Cc]o-?worker|[Cc]olleague|[Tt]enant|[Cc]lassmate|(?:[Bb]and|[Tt]eam|[Hh]ouse|[Ss]hip|[Bb]unk|[Ss]uite|[Cc]ell|[Pp]lay|[Ww]ork|[Ff]lat)mate|[Bb]uddy|[Pp]en[- ]?pal|[Mm]entor|[Gg]od(?:child|parent)|[Ss]ponsor|[Tt]utor|[Ee]x|(?:[Ss]tep-?|[Gg]od|[Hh]alf-|[Gg]reat-|[Ff]oster |[Cc]ommon-law |[Ee]x-)?(?:[Dd]aughter|[Ss]on|[Gg]randniece|[Gg]randnephew|[Gg]randchild|child|twin|[Ww]ife|[Hh]usband|[Mm]other|[Ff]ather|[Ss]ister|[Bb]rother|[Nn]iece|[Nn]ephew|[Gg]randson|[Gg]randdaughter|[Gg]randmother|[Gg]randfather|[Aa]unt|[Uu]ncle|[Cc]ousin|[Ff]riend|[Nn]eighbou?r|[Cc]aregiver|[Pp]artner|[Ss]pouse|[Gg]uardian|[Ff]iancée?|[Bb]oyfriend|[Gg]irlfriend|[Mm]om|[Mm]um|[Mm]ommy|[Mm]omma|[Dd]ad|[Dd]addy|[Ss]tepdad|[Ss]tepmom|[Gg]randma|[Gg]randpa|[Gg]ranny|[Gg]ramps|[Pp]apa|[Ss]ibling|[Ss]ib|[Bb]abysitter)(?:-in-law)?))(,? [(\"“]?(?:named |called )?)(?!(?:Apgars?|Tanner|Denver|Glasgow|Foley|Bishop|Braden|Morse)\b)[A-Z](?:'[A-Z])?[a-z]+(?:'?[A-Z][a-z]+)?(?:-[A-Za-z][a-z]+)?(?: [A-Z](?:'[A-Z])?[a-z'-]+)?)",
      Labelled("[NAME]", ""));
  add("name",
      R"(\b((?:[Pp]atient|[Pp]t|[Nn]ame|[Cc]ontact|[Nn]ext of kin|[Ee]mergency contact|[Ss]igned by|[Dd]ictated by|[Rr]eviewed by|[Aa]ttending|[Rr]esident|[Tt]echnologist|[Ss]onographer|[Tt]echnician|[Tt]ech|[Tt]herapist|[Ii]nterpreter|[Ss]cribe|[Mm]idwife|[Dd]oula|[Cc]harge nurse|[Pp]harmacist|[Dd]ietitian|[Cc]oordinator|[Nn]avigator|[Cc]ase manager|[Ss]ocial worker|[Pp]erformed by|[Rr]ead by|[Ss]een by|[Aa]ccompanied by|[Ss]igned|[Cc]c)[:]?) (?:[A-Z](?:'[A-Z])?[a-z]+(?:-[A-Za-z][a-z]+)?|[A-Z]\.) [A-Z](?:'[A-Z])?[a-z'-]+\b)",
      Labelled("[NAME]"));
  const std::string surnames = kRomanizedSurnames;
  add("name",
      "\\b[A-Z][a-z]+-[A-Za-z][a-z]+ (?:" + surnames + ")\\b|\\b(?:" + surnames +
          ")(?:,)? [A-Z][a-z]+-[A-Za-z][a-z]+\\b",
      Tag("[NAME]"));
  add("name",
      R"(\b((?:emergency contact|next of kin|contact person|contact|name|signed by|dictated by|reviewed by|seen by|accompanied by):) [A-Z](?:'[A-Z])?[a-z]+(?:-[A-Za-z][a-z]+)?\b)",
      Labelled("[NAME]"), icase);
  add("name", "[A-Za-z'-]+ [A-Za-z'-]+(醫師|護理師|先生|小姐|女士)",
      [](const std::smatch& m, int) { return "[NAME]" + m[1].str(); });
  add("name", "轉診醫師：.{1,48}?醫師", Tag("轉診醫師：[NAME]醫師"));
  add("age", R"(\b(9\d|1[0-4]\d)[- ]year[- ]old\b)", Tag("90+-year-old"), icase);
  add("age", R"(\b(?:aged?|age:) (9\d|1[0-4]\d)\b)", Tag("aged 90+"), icase);
  // "Now 97 and still gardening", "turned 95 last week" -- not a reading ("sats now 97 on 2L").
  add("age",
      R"(\b((?:[Nn]ow|turned|turns|just turned|is now|being|reaching|reached) )(9\d|1[0-4]\d)\b(?!\s*(?:%|/|percent|on |mm|bpm|kg|lb|mg|°|\.\d)))",
      [](const std::smatch& m, int) {
        std::string before = AsciiLower(m.prefix().str());
        before = before.substr(before.size() > 24 ? before.size() - 24 : 0);
        for (const char* reading : {"sat", "spo2", "o2", "hr", "rr", "bp", "pulse", "temp", "rate",
                                    "glucose", "score", "weight", "level"})
          if (before.find(reading) != std::string::npos) return m.str(0);
        return m[1].str() + "90+";
      });
  // An age between commas after a person or a relation ("Grandfather, 99, still drives";
  // "Neighbor, 92, checks on her").
  add("age",
      R"(\b((?:[Pp]atient|[Pp]t|[Gg]rand(?:father|mother|pa|ma)|[Mm]other|[Ff]ather|[Hh]usband|[Ww]ife|[Aa]unt|[Uu]ncle|[Ss]ister|[Bb]rother|[Ww]idow(?:er)?|[Mm]an|[Ww]oman|[Gg]entleman|[Ll]ady|[Rr]esident|[Vv]eteran|[Nn]eighbou?r|[Ff]riend|[Ss]on|[Dd]aughter|[Cc]ousin|[Nn]iece|[Nn]ephew|[Pp]artner|[Ss]pouse|[Rr]oommate|[Cc]aregiver|[Ll]andlord|[Ll]andlady|[Ss]tep(?:father|mother)|[Gg]reat-grand(?:father|mother)), )(9\d|1[0-4]\d)(?=,))",
      KeepFirst("90+"));
  // Words for an age over 89 ("a healthy nonagenarian").
  add("age", R"(\b(?:nonagenarian|centenarian|supercentenarian)s?\b)", Tag("90+-year-old"), icase);
  // "her 100th birthday".
  add("age", R"(\b(?:9\d|1[0-4]\d)(?:st|nd|rd|th)(?= birthday\b))", Tag("90+"), icase);
  // "Mother died at 97", "passed away aged 93".
  add("age",
      R"(\b((?:died|passed away|passed|deceased|death) (?:at|aged|at age) )(9\d|1[0-4]\d)\b(?!\s*(?:%|/|mm|cm|kg|lbs?|°|\.\d|min|minutes|hours|days|weeks|months)))",
      KeepFirst("90+"), icase);
  // "Patient is 96 and lives alone" -- not a measurement ("she is 95% on room air").
  add("age",
      R"(\b((?:[Pp]atient|[Pp]t|[Ss]he|[Hh]e|(?:(?:[Hh]is|[Hh]er|[Tt]heir|[Tt]he) )?(?:[Gg]rand(?:mother|father|ma|pa)|[Mm]other|[Ff]ather|[Hh]usband|[Ww]ife|[Aa]unt|[Uu]ncle|[Ss]ister|[Bb]rother)) (?:is|was) )(9\d|1[0-4]\d)\b(?!\s*(?:%|/|percent|mm|cm|bpm|kg|lbs?|pounds|mg|°|\.\d|min|minutes|hours|days|weeks|months|percentile|on |at |of )))",
      KeepFirst("90+"));
  add("age", "(9\\d|1[0-4]\\d) ?歲", Tag("90+歲"));
  add(
      "age",
      R"(\b(9\d|1[0-4]\d)([ -]?)(y/o|yo|y\.o\.|yrs?\b\.?(?: old)?|years? of age|years old|years young)(?![A-Za-z]))",
      [](const std::smatch& m, int) { return "90+" + m[2].str() + m[3].str(); }, icase);
  add("age", "((?:年齡|年紀)(?:：|:)? ?)(9\\d|1[0-4]\\d)", KeepFirst("90+"));
  add(
      "age", R"(\b(9\d|1[0-4]\d)([- ])(?:yr|yrs|year|years)[- ]old\b)",
      [](const std::smatch& m, int) { return "90+" + m[2].str() + "year-old"; }, icase);
  add("age",
      "(?:九十(?:一|二|三|四|五|六|七|八|九)?|一百(?:零|一|二|三|四|五|六|七|八|九|十)*)(?=歲)",
      Tag("90+"));
  // Ages in words: "ninety-two", "a hundred and one", after "is"/"aged" or before "years".
  const std::string words_age =
      "(?:ninety(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|(?:one |a )?hundred(?: "
      "and (?:one|two|three|four|five|six|seven|eight|nine|ten))?)";
  add("age",
      "\\b((?:is|aged?|turned|turns|turn|turning|will be|reached|reaching) )" + words_age + "\\b",
      KeepFirst("90+"), icase);
  add("age", "\\b" + words_age + "(?=[- ]years?\\b|[- ]year[- ]old| y/?o\\b)", Tag("90+"), icase);
  // The groups of a number left beside the part a rule took ("Member ID W2289 40117" ->
  // "[ID] 40117", "K298-441-7730" -> "K298-[PHONE]", "DNA-2021-0042" -> "[ID]-0042"): a group
  // of three digits and more joined to a placeholder by a space or a hyphen goes with it, unless
  // a unit follows it ("[DATE] 325 mg" keeps its dose).
  add("id",
      R"((\x01[\x0E-\x1D]+\x02)(?:[ -](?:[A-Z]{1,4}-)?\d{3,6}\b(?![./:]\d)(?! ?(?:mg|mcg|g|kg|mL|ml|L|units?|IU|mmol|mEq|cc|mm|cm|%|x|times|hours?|hrs?|min|minutes|days?)(?![A-Za-z]))){1,3})",
      [](const std::smatch& m, int) { return m[1].str(); });
  add("id", R"(\b[A-Z]{0,3}\d{2,6}-(\x01[\x0E-\x1D]+\x02))",
      [](const std::smatch& m, int) { return m[1].str(); });
  // A code joined to one just taken, by a slash, a comma or "and" ("serials HA-R-99127 /
  // HA-L-99128"): the second of a pair (a placeholder is \x01, digits as \x0E-\x1D, \x02).
  add("id",
      R"((\x01[\x0E-\x1D]+\x02 ?(?:/|,|and|&) ?)(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{4,}\b)",
      KeepFirst("[ID]"));
  return rules;
}

const std::vector<Rule>& PatternRules() {
  static const std::vector<Rule> kRules = BuildPatternRules();
  return kRules;
}

// The rules that read the names and addresses already replaced (after the dictionaries, as
// "[NAME]" and "[ADDRESS]"): the town a named person lives in, the rest of a name before a
// replaced given name, a cross street after a replaced address, the town after a place's name.
std::string ScrubAfterNames(std::string text, int shift, ScrubStats* stats) {
  static const std::vector<Rule> kRules = {
      // The town a named person lives in ("daughter [NAME] in Montpelier", "brother [NAME], 44,
      // from Yuma"): a capitalized word after the name and "in", "from", "near" or "of" that is
      // no English word ("[NAME] in Radiology" stays).
      {std::regex(
           R"((\[NAME\](?:, \d{1,3},|,)? (?:in|from|near|of) )([A-Z][a-z]{2,})(?: [A-Z][a-z]+)?\b(?! (?:Hospital|Clinic|Center|Medical|Health|Unit|Ward)\b))"),
       KeepFirstIfNoEnglishWord("[ADDRESS]"), "address"},
      // A surname in capitals before a replaced given name ("on WHITFORD, [NAME] J."): a word
      // the surname lists know, or one of five letters or more that is no English word (short
      // capitals are abbreviations: "ECG, [NAME]" stays).
      {std::regex(R"(()\b([A-Z][A-Z'-]{2,})(?=, \[NAME\]))"),
       [](const std::smatch& m, int) {
         const std::string w = m[2].str();  // the lists compare in lower case
         const bool surname = IsSurname(w) || (w.size() >= 5 && !IsEnglishWord(w));
         return surname ? std::string("[NAME]") : w;
       },
       "name"},
      // A town after a replaced address and its comma, ending the clause ("off [ADDRESS],
      // Sequim."), no English word.
      {std::regex(R"((\[ADDRESS\], )([A-Z][a-z]{2,})(?: [A-Z][a-z]+)?\b(?=[.;)]|$))"),
       KeepFirstIfNoEnglishWord("[ADDRESS]"), "address"},
      // A cross street after a replaced address ("on SE [ADDRESS] near 38th").
      {std::regex(
           R"((\[ADDRESS\] (?:near|at|and|&|off|by) )\d{1,3}(?:st|nd|rd|th)\b(?! (?:percentile|week|weeks|day|days|floor|birthday|grade)\b))"),
       KeepFirst("[ADDRESS]"), "address"},
      // A surname before a replaced given name after a record's label ("Patient Carmody,
      // [NAME] A").
      {std::regex(
           R"(\b((?:Patient|Pt|Name|Resident|Client|Member|Employee|Decedent|Subject|Insured):? +)[A-Z][a-z'-]+(?=, \[NAME\]))"),
       KeepFirst("[NAME]"), "name"},
      // The town after a place's own name ("transfusion at Mercy in Dubuque"), no English word.
      {std::regex(
           R"(\b((?:at|to|from) [A-Z][a-z]+(?: [A-Z][a-z]+)? in )([A-Z][a-z]{2,})(?: [A-Z][a-z]+)?\b(?! (?:Hospital|Clinic|Center|Medical|Health|Unit|Ward)\b))"),
       KeepFirstIfNoEnglishWord("[ADDRESS]"), "address"}};
  std::vector<std::string> held;
  for (const Rule& rule : kRules) text = ApplyRule(text, rule, shift, stats, held);
  return Restore(text, held);
}

}  // namespace

struct TextScrubber::Impl {
  std::optional<Rule> known;  // the patient's own identifiers
  int shift = 0;
};

TextScrubber::TextScrubber(std::vector<std::string> known, int shift)
    : impl_(std::make_unique<Impl>()) {
  impl_->shift = shift;
  // 1. Known identifiers, longest first so that "Mary Smith" goes before "Mary".
  // Too short to stand for the patient: one character in any script (a lone Chinese surname such
  // as 陳 would take 陳舊性, "old", with it). Two Latin letters stay (Li, Wu), matched as words.
  known.erase(std::remove_if(known.begin(), known.end(),
                             [](const std::string& s) {
                               const size_t chars = static_cast<size_t>(std::count_if(
                                   s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
                               return chars < 2;
                             }),
              known.end());
  std::sort(known.begin(), known.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  known.erase(std::unique(known.begin(), known.end()), known.end());
  if (!known.empty()) {
    std::string alternation;
    // Whole words only where the identifier starts or ends with a letter or digit ("Park" is a
    // name, "Parkinson" a disease).
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    for (const std::string& k : known) {
      alternation += (alternation.empty() ? "" : "|") + std::string(word(k.front()) ? "\\b" : "") +
                     Escape(k) + (word(k.back()) ? "\\b" : "");
    }
    impl_->known = Rule{std::regex(alternation, std::regex::ECMAScript | std::regex::icase),
                        Tag("[REDACTED]"), "known"};
  }
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

// `scrub_piece(piece)` over the text's pieces (PieceEnd), joined. Each piece is given with the
// control characters that would read as placeholders turned into spaces.
template <typename ScrubPiece>
std::string InPieces(std::string_view text, ScrubPiece scrub_piece) {
  std::string out;
  out.reserve(text.size());
  for (size_t start = 0; start < text.size();) {
    const size_t end = PieceEnd(text, start);
    std::string piece(text.substr(start, end - start));
    std::replace_if(
        piece.begin(), piece.end(),
        [](char c) { return c == 0x01 || c == 0x02 || (c >= 0x0E && c <= 0x1D); }, ' ');
    out += scrub_piece(std::move(piece));
    start = end;
  }
  return out;
}

// The name rules read letters as ASCII: a name with an accented letter ("Echeverría") is taken
// up to that letter. The rest of the word (ASCII letters and two-byte UTF-8 Latin letters, lead
// bytes 0xC3-0xC9) goes with it. Chinese characters (three bytes) after a name stay. A
// hyphenated surname right after a name ("[NAME] Achebe-Park") is the rest of that name.
std::string AbsorbNameRemnants(std::string text) {
  static const std::regex kHyphenatedSurname(R"(\[NAME\] [A-Z][a-z]+-[A-Z][a-z]+\b)");
  text = std::regex_replace(text, kHyphenatedSurname, "[NAME]");
  // The second half of a hyphenated surname after the first was replaced ("[NAME]-Tutu").
  static const std::regex kHyphenatedRest(R"(\[NAME\]-[A-Z][a-z]+\b)");
  text = std::regex_replace(text, kHyphenatedRest, "[NAME]");
  // A nickname in quotes right after a name ("[NAME] "Toby" [NAME]").
  static const std::regex kQuotedNickname(
      R"(\[NAME\] (?:"|\xE2\x80\x9C)[A-Z][a-z]+(?:"|\xE2\x80\x9D)(?= \[NAME\]))");
  text = std::regex_replace(text, kQuotedNickname, "[NAME]");
  static constexpr std::string_view kName = "[NAME]";
  for (size_t at = text.find(kName); at != std::string::npos; at = text.find(kName, at + 1)) {
    size_t end = at + kName.size();
    while (end < text.size()) {
      const unsigned char c = static_cast<unsigned char>(text[end]);
      if (std::isalpha(c)) {
        ++end;
      } else if (c >= 0xC3 && c <= 0xC9 && end + 1 < text.size() &&
                 (static_cast<unsigned char>(text[end + 1]) & 0xC0) == 0x80) {
        end += 2;
      } else {
        break;
      }
    }
    text.erase(at + kName.size(), end - at - kName.size());
  }
  // The rest of a name after it ("[NAME] Diallo", "[NAME] Thi Lan", "[NAME] Ash"): up to two
  // capitalized words that are a dictionary surname, or no English word (name_lists.h) and no
  // word of a place or a service ("[NAME] Hospital", "[NAME] Medical Center" stay).
  static const std::regex kFollowing(
      R"(\[NAME\]((?: (?:(?:\xC3\x93|N\xC3\xAD|Nic|Mac|Ua|Van|Von|De|Da|Di|Le|La|Bin|Al) )?(?:[A-Z]|[\xC3-\xC5][\x80-\xBF])(?:[a-z'-]|[\xC3-\xC5][\x80-\xBF])+){1,2})(?![A-Za-z]))");
  static const std::set<std::string> kNotRemnant = {
      "Hospital", "Clinic", "Center", "Centre", "Medical", "Health", "University", "College",
      "School",   "Street", "Avenue", "Road",   "Unit",    "Ward",   "Memorial",   "Foundation",
      "County",   "City",   "Park",   "Church", "Esq",     "Jr",     "Sr",         "Hall"};
  std::string out;
  size_t last = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kFollowing);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    const NameLists& lists = PackagedNames();
    std::string kept;  // the words that stay, from the first that is no remnant
    bool absorbing = true;
    size_t word_start = 1;  // skip the leading space
    const std::string words = m[1].str();
    while (word_start <= words.size()) {
      const size_t space = words.find(' ', word_start);
      const std::string w = words.substr(
          word_start, space == std::string::npos ? std::string::npos : space - word_start);
      const std::string lower = AsciiLower(w);
      const bool remnant =
          absorbing && !kNotRemnant.count(w) &&
          (IsSurname(w) || (!lists.english.empty() && !lists.english.count(lower)));
      if (!remnant) {
        absorbing = false;
        kept += " " + w;
      }
      if (space == std::string::npos) break;
      word_start = space + 1;
    }
    out.append(text, last, static_cast<size_t>(m.position(0)) - last);
    out += "[NAME]" + kept;
    last = static_cast<size_t>(m.position(0) + m.length(0));
  }
  out.append(text, last, std::string::npos);
  return out;
}

}  // namespace

std::string TextScrubber::ScrubField(std::string_view text, ScrubStats* stats) const {
  return ScrubChineseNames(Scrub(text, stats), stats, /*strict=*/true);
}

std::string TextScrubber::ScrubTranscript(std::string_view text, ScrubStats* stats) const {
  static const std::vector<Rule> kSpoken = [] {
    const std::string digit = "(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)";
    const std::string ordinal =
        "(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
        "thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
        "thirtieth|(?:twenty|thirty)[- ](?:first|second|third|fourth|fifth|sixth|seventh|eighth|"
        "ninth))";
    const auto icase = std::regex::ECMAScript | std::regex::icase;
    std::vector<Rule> rules;
    rules.push_back(
        {std::regex("\\b(?:" + digit + "[ -]){3,}" + digit + "\\b", icase), Tag("[NUMBER]"), "id"});
    rules.push_back({std::regex("\\b(?:january|february|march|april|may|june|july|august|"
                                "september|october|november|december),? (?:the )?" +
                                    ordinal + "\\b",
                                icase),
                     Tag("[DATE]"), "date"});
    return rules;
  }();
  const std::string spoken = InPieces(text, [&](std::string piece) {
    std::vector<std::string> held;
    for (const Rule& rule : kSpoken) piece = ApplyRule(piece, rule, impl_->shift, stats, held);
    return Restore(piece, held);
  });
  return Scrub(ScrubSpokenNames(spoken, stats), stats);
}

std::string TextScrubber::Scrub(std::string_view text, ScrubStats* stats) const {
  return InPieces(text, [&](std::string piece) {
    std::vector<std::string> held;
    if (impl_->known) piece = ApplyRule(piece, *impl_->known, impl_->shift, stats, held);
    for (const Rule& rule : PatternRules())
      piece = ApplyRule(piece, rule, impl_->shift, stats, held);
    piece = ScrubLowercaseCompanionNames(ScrubDictionaryNames(piece, stats), stats);
    return ScrubChineseNames(
        ScrubAfterNames(AbsorbNameRemnants(Restore(piece, held)), impl_->shift, stats), stats,
        /*strict=*/false);
  });
}

}  // namespace medscribe::deid
