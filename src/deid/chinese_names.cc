#include "deid/chinese_names.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace medscribe::deid {
namespace {

// Chinese surnames (single and compound) and the words after which a name follows.
const std::vector<std::u32string>& ChineseSurnames() {
  static const std::vector<std::u32string> k = {
      U"歐陽", U"司馬", U"諸葛", U"張簡", U"范姜", U"上官", U"司徒", U"陳", U"林", U"黃", U"張",
      U"李",   U"王",   U"吳",   U"劉",   U"蔡",   U"楊",   U"許",   U"鄭", U"謝", U"郭", U"洪",
      U"曾",   U"邱",   U"廖",   U"賴",   U"周",   U"徐",   U"蘇",   U"葉", U"莊", U"呂", U"江",
      U"何",   U"蕭",   U"羅",   U"高",   U"潘",   U"簡",   U"朱",   U"鍾", U"游", U"彭", U"詹",
      U"胡",   U"施",   U"沈",   U"余",   U"盧",   U"梁",   U"趙",   U"顏", U"柯", U"翁", U"魏",
      U"孫",   U"戴",   U"范",   U"方",   U"宋",   U"鄧",   U"杜",   U"傅", U"侯", U"曹", U"薛",
      U"丁",   U"卓",   U"阮",   U"馬",   U"董",   U"温",   U"溫",   U"唐", U"藍", U"石", U"蔣",
      U"古",   U"紀",   U"姚",   U"連",   U"馮",   U"歐",   U"程",   U"湯", U"田", U"康", U"姜",
      U"白",   U"汪",   U"鄒",   U"尤",   U"巫",   U"鐘",   U"黎",   U"涂", U"龔", U"嚴", U"韓",
      U"袁",   U"金",   U"童",   U"陸",   U"夏",   U"柳",   U"凃",   U"邵", U"錢", U"孔", U"殷",
      U"包",   U"左",   U"秦",   U"崔",   U"易",   U"郝",   U"閻",   U"雷", U"聶", U"譚", U"顧",
      U"莫",   U"孟",   U"武",   U"賀",   U"尹",   U"倪",   U"魯",   U"喬", U"駱", U"陶", U"于"};
  return k;
}
const std::vector<std::u32string>& ChineseNameCues() {
  static const std::vector<std::u32string> k = {
      U"女兒",     U"兒子",   U"太太",   U"先生",       U"家屬",     U"病患",     U"病人",
      U"患者",     U"姓名",   U"配偶",   U"母親",       U"父親",     U"媽媽",     U"爸爸",
      U"姊姊",     U"姐姐",   U"哥哥",   U"弟弟",       U"妹妹",     U"丈夫",     U"妻子",
      U"孫子",     U"孫女",   U"聯絡人", U"監護人",     U"朋友",     U"鄰居",     U"照顧者",
      U"主治醫師", U"醫師",   U"護理師", U"技術員",     U"簽名",     U"個案",     U"案主",
      U"由",       U"與",     U"和",     U"及",         U"個管師",   U"社工師",   U"社工",
      U"營養師",   U"藥師",   U"治療師", U"專科護理師", U"住院醫師", U"總醫師",   U"主任",
      U"同事",     U"室友",   U"男友",   U"女友",       U"叔叔",     U"阿姨",     U"舅舅",
      U"伯伯",     U"姑姑",   U"嬸嬸",   U"外甥女",     U"外甥",     U"姪子",     U"姪女",
      U"媳婦",     U"女婿",   U"外孫",   U"兒媳",       U"公公",     U"婆婆",     U"岳父",
      U"岳母",     U"繼子",   U"繼女",   U"看護",       U"通知",     U"聯絡",     U"會診",
      U"照會",     U"交班給", U"陪同者", U"伯父",       U"伯母",     U"叔父",     U"舅媽",
      U"姑丈",     U"姨丈",   U"姨媽",   U"堂哥",       U"堂姐",     U"堂姊",     U"堂弟",
      U"堂妹",     U"表哥",   U"表姐",   U"表姊",       U"表弟",     U"表妹",     U"祖父",
      U"祖母",     U"爺爺",   U"奶奶",   U"外公",       U"外婆",     U"養父",     U"養母",
      U"繼父",     U"繼母",   U"乾媽",   U"乾爸",       U"會同",     U"協同",     U"轉介給",
      U"大伯",     U"二伯",   U"大哥",   U"二哥",       U"大姊",     U"大姐",     U"二姊",
      U"小叔",     U"大嫂",   U"弟媳",   U"前妻",       U"前夫",     U"未婚妻",   U"未婚夫",
      U"同居人",   U"房東",   U"雇主",   U"老伯",       U"阿伯",     U"阿公",     U"阿嬤",
      U"義父",     U"義母",   U"乾哥哥", U"乾姊姊",     U"乾弟弟",   U"乾妹妹",   U"乾女兒",
      U"乾兒子",   U"里長",   U"鄰長",   U"村長",       U"志工",     U"社工員",   U"個管員",
      U"管理員",   U"大舅",   U"二舅",   U"三舅",       U"小舅",     U"大姑",     U"二姑",
      U"小姑",     U"大姨",   U"二姨",   U"小姨",       U"二叔",     U"三叔",     U"四叔",
      U"三伯",     U"四伯",   U"姑婆",   U"姨婆",       U"舅公",     U"叔公",     U"伯公",
      U"嬸婆",     U"曾祖母", U"曾祖父", U"新生兒",     U"寶寶",     U"被看護者", U"被照顧者",
      U"長子",     U"次子",   U"三子",   U"長女",       U"次女",     U"三女",     U"么子",
      U"么女",     U"獨子",   U"獨女",   U"長孫",       U"之妻",     U"之夫",     U"妻"};
  return k;
}
// Titles after a name.
const std::vector<std::u32string>& ChineseNameTitles() {
  static const std::vector<std::u32string> k = {
      U"醫師", U"醫生",   U"先生",     U"小姐",     U"女士",   U"護理師",     U"太太",   U"主任",
      U"教授", U"藥師",   U"營養師",   U"社工師",   U"治療師", U"個管師",     U"心理師", U"技術員",
      U"護士", U"老師",   U"主治醫師", U"住院醫師", U"總醫師", U"專科護理師", U"組長",   U"護理長",
      U"督導", U"院長",   U"副院長",   U"經理",     U"課長",   U"里長",       U"村長",   U"師傅",
      U"老闆", U"社工員", U"個管員",   U"志工",     U"鄰長",   U"管理員"};
  return k;
}
// Characters that do not end a given name (particles, verbs and clinical words that follow one).
bool NotInGivenName(char32_t c) {
  static const std::u32string k =
      U"的了在於是與和及之並也都又再就將被從向對把給讓請由未無不說稱"
      U"醫師先生小姐女士太太護理藥營養社工治療個管技術員士老，。、；：（）「」";
  return k.find(c) != std::u32string::npos;
}
bool IsHan(char32_t c) { return c >= 0x4E00 && c <= 0x9FFF; }
// Whether the character at `k` may be part of a given name: not one of NotInGivenName's, except
// 小 (李小龍, 陳小芬) where it does not begin the title 小姐.
bool GivenNameAt(const std::vector<std::pair<char32_t, size_t>>& cps, size_t k) {
  const char32_t c = cps[k].first;
  if (c == U'小') return !(k + 1 < cps.size() && cps[k + 1].first == U'姐');
  return !NotInGivenName(c);
}
// Cues before a caregiver, whose name is often transliterated and has no Chinese surname
// ("看護阿蒂", "外籍看護蒂娜").
const std::vector<std::u32string>& CaregiverCues() {
  static const std::vector<std::u32string> k = {U"外籍看護工", U"外籍看護", U"看護工",
                                                U"看護",       U"移工",     U"幫傭",
                                                U"外傭",       U"居服員",   U"照服員"};
  return k;
}
// Characters that begin the verb or time word after a caregiver's name (照顧, 陪同, 每天, ...).
bool StartsClause(char32_t c) {
  static const std::u32string k = U"照陪協負帶幫餵推送每今昨已需因目全會表可要來去";
  return k.find(c) != std::u32string::npos;
}
// Characters common in Taiwanese given names and rare in clinical words: a surname followed by
// two of them is taken for a name without a cue ("許雅雯", "賴俊宏"; never "高血壓", "唐氏症").
bool GivenNameChar(char32_t c) {
  static const std::u32string k =
      U"志俊傑建宏家豪偉文華信宗翰承恩柏宇軒彥廷冠博凱哲銘維德仁義智勇昌榮興輝光成清福祥吉慶"
      U"春秋雄龍鳳麟鵬嘉佳怡君婷雅雯芳玲美惠慧淑貞珍珠玉秀英蘭蓮梅菊萍鈴琪琳瑜瑋瑄璇蓁妤晴欣"
      U"思詩靜涵萱筠姿婕妍穎儀昀庭品詠書睿宸諺澤皓翔瀚鈞均毅誠紹振耀煌錦鴻裕達賢聖威強松樺森"
      U"霖虹彩麗嬌娟娥琴瑞祺禎祐佑辰晨昊曜翊奕宥侑紘竣崇泰富貴財旺順孝忠勝毓筱郁馨薇芸芝芬茹"
      U"莉蕙菁綺綾絹純繡宜宛婉嫻媛妮娜姍姵琦瑾璟瑩晶亭喬嵐岳峰崴倫俞偲傳允兆典彬揚敏斌旭昇昱"
      U"晉景暉曉朗杰欽泓浩淳漢潔熙燕璋甫碩祖禹秉穆章群聰舜茂荃萬蔚衡詮誼豐賓迪逸遠邦鈺銓鋒錚"
      U"雋雲霆震靖韋韻頌駿鼎";
  return k.find(c) != std::u32string::npos;
}

// Decodes UTF-8 leniently: each code point with the byte offset where it starts; invalid bytes
// become U+FFFD of one byte.
std::vector<std::pair<char32_t, size_t>> DecodeUtf8(const std::string& s) {
  std::vector<std::pair<char32_t, size_t>> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = n > 0 && i + n <= s.size();
    for (int k = 1; ok && k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (!ok) {
      out.push_back({0xFFFD, i});
      ++i;
      continue;
    }
    out.push_back({cp, i});
    i += static_cast<size_t>(n);
  }
  return out;
}

bool StartsAt(const std::vector<std::pair<char32_t, size_t>>& cps, size_t i,
              const std::u32string& w) {
  if (i + w.size() > cps.size()) return false;
  for (size_t k = 0; k < w.size(); ++k)
    if (cps[i + k].first != w[k]) return false;
  return true;
}

// Places that begin like a name (高雄榮總 and 林口長庚 are hospitals).
bool PlaceAt(const std::vector<std::pair<char32_t, size_t>>& cps, size_t i) {
  static const std::vector<std::u32string> k = {U"高雄", U"林口", U"林森", U"金門",
                                                U"連江", U"馬祖", U"石牌", U"羅東",
                                                U"楊梅", U"萬華", U"蘇澳", U"田中"};
  return std::any_of(k.begin(), k.end(),
                     [&](const std::u32string& p) { return StartsAt(cps, i, p); });
}

}  // namespace

std::string ScrubChineseNames(const std::string& text, ScrubStats* stats, bool strict) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return (c & 0x80) == 0; })) return text;
  const auto cps = DecodeUtf8(text);
  auto byte_at = [&](size_t i) { return i < cps.size() ? cps[i].second : text.size(); };
  // Length in code points of a name starting at i (surname + given), 0 if none.
  auto name_at = [&](size_t i) -> size_t {
    if (PlaceAt(cps, i)) return 0;
    for (const std::u32string& sn : ChineseSurnames()) {
      if (!StartsAt(cps, i, sn)) continue;
      // A married woman's name with her husband's surname first (許林阿滿: 許, 林, 阿滿): a
      // second one-character surname, then two given-name characters.
      const size_t second = i + sn.size();
      if (sn.size() == 1 && second + 2 < cps.size() &&
          std::any_of(ChineseSurnames().begin(), ChineseSurnames().end(),
                      [&](const std::u32string& s2) {
                        return s2.size() == 1 && cps[second].first == s2[0];
                      }) &&
          IsHan(cps[second + 1].first) && !NotInGivenName(cps[second + 1].first) &&
          IsHan(cps[second + 2].first) && !NotInGivenName(cps[second + 2].first))
        return 4;
      size_t g = 0;
      while (g < 2 && i + sn.size() + g < cps.size() && IsHan(cps[i + sn.size() + g].first) &&
             GivenNameAt(cps, i + sn.size() + g))
        ++g;
      if (g > 0) return sn.size() + g;
    }
    return 0;
  };
  std::vector<std::pair<size_t, size_t>> spans;  // code point [begin, end)
  if (strict) {
    // A run of two to four Han characters that starts with a surname is a name.
    for (size_t i = 0; i < cps.size();) {
      if (!IsHan(cps[i].first)) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < cps.size() && IsHan(cps[j].first)) ++j;
      const bool surname = std::any_of(
          ChineseSurnames().begin(), ChineseSurnames().end(),
          [&](const std::u32string& sn) { return StartsAt(cps, i, sn) && j - i > sn.size(); });
      if (surname && j - i <= 4) spans.push_back({i, j});
      i = j;
    }
  }
  // A surname and two given-name characters, not followed by a third.
  for (size_t i = 0; i + 2 < cps.size(); ++i) {
    for (const std::u32string& sn : ChineseSurnames()) {
      if (!StartsAt(cps, i, sn)) continue;
      const size_t g = i + sn.size();
      if (!PlaceAt(cps, i) && g + 1 < cps.size() && GivenNameChar(cps[g].first) &&
          GivenNameChar(cps[g + 1].first) &&
          (g + 2 >= cps.size() || !GivenNameChar(cps[g + 2].first)) &&
          (i == 0 || !IsHan(cps[i - 1].first) || !GivenNameChar(cps[i - 1].first)))
        spans.push_back({i, g + 2});
      break;
    }
  }
  // Whether a cue names a person's role or relation, not a verb, a conjunction or the patient:
  // "評估（醫師）" is possible, "胸痛（病人）" too, and "和阿斯匹靈" is a drug.
  const auto person_role = [](const std::u32string& cue) {
    static const std::vector<std::u32string> kNotRoles = {
        U"由",     U"與",   U"和",   U"及",       U"通知", U"聯絡", U"會診", U"照會",
        U"交班給", U"會同", U"協同", U"轉介給",   U"簽名", U"姓名", U"病人", U"病患",
        U"患者",   U"個案", U"案主", U"主治醫師", U"醫師", U"醫生"};
    return std::find(kNotRoles.begin(), kNotRoles.end(), cue) == kNotRoles.end();
  };
  // The first code point at or after j that is not a colon, a space or 為 ("家屬為王小明").
  const auto after_cue = [&](size_t j) {
    while (j < cps.size() && (cps[j].first == U'：' || cps[j].first == U':' ||
                              cps[j].first == U' ' || cps[j].first == U'為'))
      ++j;
    return j;
  };
  // A name in Latin letters at j ("外籍看護Siti", "女兒Mary Chen"): a capital, letters, and at
  // most one more capitalized word after a space; 0 when none starts there.
  const auto latin_name_at = [&](size_t j) -> size_t {
    const auto upper = [&](size_t k) {
      return k < cps.size() && cps[k].first >= U'A' && cps[k].first <= U'Z';
    };
    const auto letter = [&](size_t k) {
      return k < cps.size() && ((cps[k].first >= U'a' && cps[k].first <= U'z') ||
                                cps[k].first == U'\'' || cps[k].first == U'-');
    };
    if (!upper(j) || !letter(j + 1)) return 0;
    size_t e = j + 1;
    while (letter(e)) ++e;
    if (e + 1 < cps.size() && cps[e].first == U' ' && upper(e + 1) && letter(e + 2)) {
      e += 2;
      while (letter(e)) ++e;
    }
    return e - j;
  };
  // A name before its role in parentheses: 阿美（看護）, 王小明(家屬).
  for (size_t i = 0; i < cps.size(); ++i) {
    if (cps[i].first != U'（' && cps[i].first != U'(') continue;
    bool role = false;
    for (const auto* list : {&ChineseNameCues(), &CaregiverCues(), &ChineseNameTitles()}) {
      for (const std::u32string& r : *list) {
        if (!person_role(r)) continue;
        const size_t e = i + 1 + r.size();
        if (StartsAt(cps, i + 1, r) && e < cps.size() &&
            (cps[e].first == U'）' || cps[e].first == U')'))
          role = true;
      }
    }
    size_t n = 0;
    while (role && n < 3 && n < i && IsHan(cps[i - 1 - n].first) &&
           !NotInGivenName(cps[i - 1 - n].first))
      ++n;
    if (n >= 2) spans.push_back({i - n, i});
  }
  // A Chinese name after an English word that introduces a person ("Pt 陳金水", "Dr. 林"): the
  // word on its own (no letter before it), then a period, a colon or spaces.
  static const std::vector<std::u32string> kEnglishCues = {
      U"Pt",   U"pt",   U"Patient", U"patient", U"Mr",     U"Mrs",    U"Ms",     U"Dr",
      U"Name", U"name", U"Nurse",   U"nurse",   U"Family", U"family", U"Contact"};
  const auto latin_letter = [&](size_t k) {
    const char32_t c = cps[k].first;
    return (c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z');
  };
  for (size_t i = 0; i < cps.size(); ++i) {
    if (i > 0 && latin_letter(i - 1)) continue;
    for (const std::u32string& cue : kEnglishCues) {
      if (!StartsAt(cps, i, cue)) continue;
      size_t j = i + cue.size();
      if (j < cps.size() && latin_letter(j)) continue;  // "Ptosis", "Names"
      if (j < cps.size() && cps[j].first == U'.') ++j;
      j = after_cue(j);
      if (j > i + cue.size()) {  // a separator is required: "Pt陳" is not written
        if (const size_t n = name_at(j)) spans.push_back({j, j + n});
      }
      break;
    }
  }
  for (size_t i = 0; i < cps.size(); ++i) {
    for (const std::u32string& cue : ChineseNameCues()) {
      if (!StartsAt(cps, i, cue)) continue;
      const size_t j = after_cue(i + cue.size());
      if (const size_t n = name_at(j)) {
        spans.push_back({j, j + n});
      } else if (const size_t latin = person_role(cue) ? latin_name_at(j) : 0) {
        spans.push_back({j, j + latin});
      } else if (person_role(cue) && j + 1 < cps.size() && GivenNameChar(cps[j].first) &&
                 IsHan(cps[j + 1].first) && !NotInGivenName(cps[j + 1].first) &&
                 (GivenNameChar(cps[j + 1].first) || j + 2 == cps.size() ||
                  !IsHan(cps[j + 2].first))) {
        // A given name alone after a relation: two given-name characters (由太太秀蘭接聽), or a
        // given name's first character and one more that end the clause (的兒子志明。; not 很好,
        // 陪同: their first is none).
        spans.push_back({j, j + 2});
      } else if (person_role(cue) && j + 1 < cps.size() && cps[j].first == U'阿' &&
                 IsHan(cps[j + 1].first) && !NotInGivenName(cps[j + 1].first) &&
                 std::u32string_view(U"姨嬤公伯婆叔舅兄姐姊哥弟妹嫂").find(cps[j + 1].first) ==
                     std::u32string_view::npos) {
        // A nickname after a relation: 室友阿翔 (阿 and one character; 阿姨, 阿嬤 are kin).
        spans.push_back({j, j + 2});
      } else if ((person_role(cue) || cue == U"個案" || cue == U"案主" || cue == U"病人" ||
                  cue == U"病患" || cue == U"患者") &&
                 j + 1 < cps.size() && cps[j].first == U'小' && IsHan(cps[j + 1].first) &&
                 !NotInGivenName(cps[j + 1].first) &&
                 std::u32string_view(U"時姐孩腿兒心組學朋舅叔姑姨妹弟哥姊兒便量時型")
                         .find(cps[j + 1].first) == std::u32string_view::npos) {
        // A pet name of 小 and one character after a relation or the patient: 孫女小芸, 個案小瑜
        // (not 小時, 小孩, 小便).
        spans.push_back({j, j + 2});
      }
      break;
    }
    for (const std::u32string& cue : CaregiverCues()) {
      if (!StartsAt(cps, i, cue)) continue;
      const size_t j = after_cue(i + cue.size());
      if (const size_t latin = latin_name_at(j)) {
        spans.push_back({j, j + latin});
        break;
      }
      size_t n = 0;
      while (n < 3 && j + n < cps.size() && IsHan(cps[j + n].first) &&
             !NotInGivenName(cps[j + n].first) && !StartsClause(cps[j + n].first))
        ++n;
      // Nouns that follow the cue word itself (看護人員, 看護工, 看護中心, 看護費) are no name.
      static const std::u32string kNounStart = U"人工中之機費服申床病假班";
      if (n >= 2 && kNounStart.find(cps[j].first) == std::u32string::npos)
        spans.push_back({j, j + std::max(n, name_at(j))});
      break;
    }
    for (const std::u32string& title : ChineseNameTitles()) {
      if (!StartsAt(cps, i, title)) continue;
      // A surname 2 or 3 code points before the title (2-3 character names).
      for (size_t len : {3u, 2u, 4u, 1u}) {
        if (i < len) continue;
        const bool surname_only =
            len == 1 && std::any_of(ChineseSurnames().begin(), ChineseSurnames().end(),
                                    [&](const std::u32string& sn) {
                                      return sn.size() == 1 && cps[i - 1].first == sn[0];
                                    });
        if (name_at(i - len) == len || surname_only) {
          spans.push_back({i - len, i});
          break;
        }
      }
      break;
    }
  }
  if (spans.empty()) return text;
  std::sort(spans.begin(), spans.end());
  std::string out;
  size_t last = 0;  // byte offset
  for (const auto& [b, e] : spans) {
    const size_t bb = byte_at(b), eb = byte_at(e);
    if (bb < last) continue;  // overlaps an earlier span
    out.append(text, last, bb - last);
    out += "[NAME]";
    if (stats != nullptr) ++stats->by_category["name"];
    last = eb;
  }
  out.append(text, last, std::string::npos);
  return out;
}

}  // namespace medscribe::deid
