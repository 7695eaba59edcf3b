// De-identification recall and precision on a PHI corpus made for this purpose: its own name
// lists, templates and formats (none shared with the cohort generator), English and Traditional
// Chinese, identifiers inside sentences, lists and headers, and in DICOM free-text attributes,
// nested sequences and private blocks.
//
// Each document is a sequence of spans, each either an identifier of a Safe Harbor category or a
// clinical phrase (eponyms, measurements, lab values, codes). After scrubbing with what ingest
// gives the scrubber (the patient's own identifiers from the record, the date shift), an
// identifier counts as removed when its text no longer appears in the output; a clinical phrase
// counts against precision when it no longer appears. The baseline in the same run replaces only
// the record's identifiers (a record-driven scrubber).
// Usage: deid_phi [DOCUMENTS] [SEED] [HELD_OUT_PHRASINGS]
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "deid/dicom_deid.h"
#include "deid/name_lists.h"
#include "deid/pseudonymizer.h"
#include "deid/text_deid.h"
#include "dicom/dataset.h"

using namespace medscribe;

namespace {

// Lists of this corpus only (the cohort generator uses other ones).
const std::vector<std::string> kGiven = {
    "Olivia", "Harper", "Evelyn", "Abigail", "Chloe", "Zoe",   "Nora",   "Hazel",  "Aurora",
    "Leah",   "Stella", "Violet", "Ethan",   "Logan", "Lucas", "Mason",  "Owen",   "Caleb",
    "Isaac",  "Levi",   "Wyatt",  "Hunter",  "Dylan", "Gavin", "Tobias", "Ingrid", "Siobhan",
    "Priya",  "Aarav",  "Kenji",  "Hana",    "Mateo", "Lucia", "Omar",   "Fatima", "Dmitri"};
const std::vector<std::string> kFamily = {
    "O'Connor", "McAllister", "Fitzgerald", "Kowalski", "Novak",     "Schneider", "Dubois",
    "Rossi",    "Okafor",     "Haddad",     "Petrov",   "Lindqvist", "Yamamoto",  "Sato",
    "Kim",      "Park",       "Singh",      "Patel",    "Moreau",    "Bianchi",   "Jansen",
    "Horvath",  "Castillo",   "Mendoza",    "Ferreira", "Nakamura",  "Abernathy", "Whitfield"};
const std::vector<std::string> kZhFamily = {"蘇", "葉", "莊", "呂", "江", "何", "蕭", "羅", "高",
                                            "潘", "朱", "鍾", "游", "彭", "詹", "胡", "施", "沈",
                                            "余", "盧", "梁", "趙", "顏", "柯", "翁", "魏"};
const std::vector<std::string> kZhGiven = {"宜蓁", "品妤", "子晴", "詠晴", "柏翰", "宇軒", "承翰",
                                           "冠廷", "彥廷", "書豪", "佳穎", "思妤", "芷瑄", "睿恩",
                                           "秀英", "玉蘭", "金水", "阿土", "春嬌", "明"};
const std::vector<std::pair<std::string, std::string>> kRomanized = {
    {"Yu-Ting", "Su"},  {"Po-Han", "Yeh"},  {"Hsiao-Wen", "Chuang"}, {"Chia-Ying", "Lu"},
    {"Tzu-Yu", "Chou"}, {"Wei-Lun", "Kao"}, {"Shu-Ting", "Pan"},     {"Kuan-Ting", "Chu"}};
const std::vector<std::string> kRelations = {
    "daughter", "son",   "wife",   "husband", "sister",   "brother",  "mother",
    "father",   "niece", "nephew", "friend",  "neighbor", "caregiver"};
const std::vector<std::string> kZhRelations = {"女兒", "兒子", "太太", "先生", "家屬",
                                               "姊姊", "哥哥", "母親", "父親", "配偶"};
const std::vector<std::string> kMonths = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
// Clinical phrases that must survive (eponyms, measurements, values, codes).
const std::vector<std::string> kClinical = {"Parkinson disease",
                                            "Down syndrome",
                                            "Graves disease",
                                            "Hodgkin lymphoma",
                                            "Crohn disease",
                                            "Cushing syndrome",
                                            "Bell palsy",
                                            "Addison disease",
                                            "Kerley B lines",
                                            "Swan-Ganz catheter",
                                            "12 mm nodule",
                                            "3.5 x 2.1 cm mass",
                                            "WBC 17.2",
                                            "CRP 85 mg/L",
                                            "BP 128/76",
                                            "SpO2 91%",
                                            "creatinine 1.4 mg/dL",
                                            "C5-C6",
                                            "T2 hyperintense",
                                            "COVID-19",
                                            "ICD-10 J18.9",
                                            "LOINC 6690-2",
                                            "pleural effusion",
                                            "right lower lobe",
                                            "Chest PA and lateral",
                                            "at 10:30",
                                            "heart rate 104",
                                            "左下肺葉浸潤",
                                            "肋膜積水",
                                            "高血壓",
                                            "陳舊性病灶",
                                            "心臟擴大",
                                            "白血球 17.2"};

struct Span {
  std::string text;
  std::string category;  // empty: clinical, must stay
};

class Corpus {
 public:
  explicit Corpus(uint64_t seed) : rng_(seed) {}

  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Coin(double p = 0.5) { return std::bernoulli_distribution(p)(rng_); }

  std::string Digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + Int(0, 9)));
    return s;
  }
  std::string Letters(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('A' + Int(0, 25)));
    return s;
  }
  std::string Name() { return Pick(kGiven) + " " + Pick(kFamily); }
  std::string ZhName() { return Pick(kZhFamily) + Pick(kZhGiven); }

  // One identifier of `category` in one of its written forms, with the words around it that a
  // writer would use (in `before`/`after`, which are clinical text).
  Span Identifier(const std::string& category, bool zh) {
    const int y = Int(2015, 2025), m = Int(1, 12), d = Int(1, 28);
    if (category == "name") {
      if (zh) return {ZhName(), category};
      switch (Int(0, 2)) {
        case 0:
          return {Name(), category};
        case 1: {
          const auto& r = Pick(kRomanized);
          return {Coin() ? r.first + " " + r.second : r.second + " " + r.first, category};
        }
        default:
          return {Pick(kFamily), category};
      }
    }
    if (category == "date") {
      switch (Int(0, 6)) {
        case 0:
          return {fmt::format("{}/{:02d}/{:02d}", y, m, d), category};
        case 1:
          return {fmt::format("{:02d}/{:02d}/{}", d + 12 > 28 ? d : d + 12, m, y), category};
        case 2:
          return {fmt::format("{} {}, {}", kMonths[m - 1], d, y), category};
        case 3:
          return {fmt::format("{} {} {}", d, kMonths[m - 1], y), category};
        case 4:
          return {fmt::format("民國{}年{}月{}日", y - 1911, m, d), category};
        case 5:
          return {fmt::format("{}年{}月{}日", y, m, d), category};
        default:
          return {fmt::format("{}-{:02d}-{:02d}", y, m, d), category};
      }
    }
    if (category == "phone") {
      switch (Int(0, 5)) {
        case 0:
          return {"(0" + std::to_string(Int(2, 8)) + ")" + Digits(4) + "-" + Digits(4), category};
        case 1:
          return {"0" + std::to_string(Int(2, 8)) + "-" + Digits(4) + "-" + Digits(4), category};
        case 2:
          return {"09" + Digits(2) + "-" + Digits(3) + "-" + Digits(3), category};
        case 3:
          return {"+886 9" + Digits(2) + " " + Digits(3) + " " + Digits(3), category};
        case 4:
          return {"+1 (" + Digits(3) + ") " + Digits(3) + "-" + Digits(4), category};
        default:
          return {Digits(3) + "." + Digits(3) + "." + Digits(4), category};
      }
    }
    if (category == "email")
      return {fmt::format("{}.{}{}@{}", Pick(kGiven), Int(1, 99), Letters(2),
                          Pick(std::vector<std::string>{"mailbox.test", "hospital.invalid",
                                                        "clinic.example"})),
              category};
    if (category == "url")
      return {Coin() ? "https://records." + Letters(5) + ".org/p/" + Digits(6)
                     : "www." + Letters(6) + ".com.tw/chart?id=" + Digits(5),
              category};
    if (category == "ip")
      return {Coin()
                  ? fmt::format("{}.{}.{}.{}", Int(1, 223), Int(0, 255), Int(0, 255), Int(1, 254))
                  : fmt::format("2001:db8:{:x}:{:x}::{:x}", Int(1, 65535), Int(1, 65535),
                                Int(1, 65535)),
              category};
    if (category == "national_id") {
      switch (Int(0, 3)) {
        case 0:
          return {Letters(1) + std::to_string(Int(1, 2)) + Digits(8), category};
        case 1:
          return {Letters(1) + "ABCD"[Int(0, 3)] + Digits(8), category};
        case 2:
          return {Letters(1) + std::to_string(Int(8, 9)) + Digits(8), category};
        default:
          return {Digits(3) + "-" + Digits(2) + "-" + Digits(4), category};
      }
    }
    if (category == "record_number") return {Letters(2) + Digits(7), category};
    if (category == "account") return {Letters(3) + Digits(6) + "-" + Digits(2), category};
    if (category == "license") return {Letters(1) + Digits(4) + "-" + Digits(4), category};
    if (category == "vehicle")
      return {Coin() ? Letters(3) + "-" + Digits(4) : Digits(4) + "-" + Letters(2), category};
    if (category == "device") return {Letters(3) + Digits(6) + Letters(1), category};
    if (category == "address") {
      if (zh)
        return {fmt::format("台中市西屯區{}路{}巷{}號{}樓",
                            Pick(std::vector<std::string>{"文心", "惠中", "市政", "朝富"}),
                            Int(2, 99), Int(1, 200), Int(2, 15)),
                category};
      return {fmt::format("{} {} {}", Int(10, 9999), Pick(kFamily),
                          Pick(std::vector<std::string>{"Street", "Avenue", "Road", "Lane"})),
              category};
    }
    if (category == "age") return {std::to_string(Int(90, 104)), category};
    if (category == "biometric") return {"FP-" + Digits(6), category};
    return {"", category};
  }

  // One sentence (or list item or header line) holding the identifier, with clinical text.
  std::vector<Span> Sentence(const std::string& category, bool zh) {
    const Span id = Identifier(category, zh);
    const Span clinical{Pick(kClinical), ""};
    auto s = [](std::string t) { return Span{std::move(t), ""}; };
    if (zh) {
      if (category == "name")
        return {s("病歷記載" + Pick(kZhRelations)), id, s("陪同就診，主訴"), clinical, s("。")};
      if (category == "date") return {s("於"), id, s("門診追蹤，"), clinical, s("。")};
      if (category == "phone") return {s("聯絡電話："), id, s("；"), clinical, s("。")};
      if (category == "address") return {s("住址："), id, s("。"), clinical, s("。")};
      if (category == "national_id") return {s("身分證字號"), id, s("，"), clinical, s("。")};
      if (category == "account") return {s("健保卡號："), id, s("。"), clinical, s("。")};
      if (category == "vehicle") return {s("車牌號碼："), id, s("，"), clinical, s("。")};
      if (category == "device") return {s("植入物序號："), id, s("，"), clinical, s("。")};
      if (category == "age") return {s("患者"), id, s("歲，"), clinical, s("。")};
    }
    if (category == "name") {
      switch (Int(0, 3)) {
        case 0:
          return {s("History from his " + Pick(kRelations) + ", "), id, s(", who reports "),
                  clinical, s(".")};
        case 1:
          return {s("- Emergency contact: "), id, s(" ("), s(Pick(kRelations)), s(")\n")};
        case 2:
          return {s("Discussed with Dr. "), id, s(" regarding "), clinical, s(".")};
        default:
          return {s("Accompanied by her " + Pick(kRelations) + " "), id, s("; "), clinical, s(".")};
      }
    }
    if (category == "date")
      return {s(Coin() ? "Seen on " : "DATE OF SERVICE: "), id, s(". "), clinical, s(".")};
    if (category == "phone")
      return {s(Coin() ? "Call back at " : "Fax: "), id, s(". "), clinical, s(".")};
    if (category == "email") return {s("Results sent to "), id, s(". "), clinical, s(".")};
    if (category == "url") return {s("Images at "), id, s(" for review. "), clinical, s(".")};
    if (category == "ip") return {s("Uploaded from workstation "), id, s(". "), clinical, s(".")};
    if (category == "national_id") return {s("ID number: "), id, s(". "), clinical, s(".")};
    if (category == "record_number") return {s("Chart no. "), id, s(". "), clinical, s(".")};
    if (category == "account")
      return {s(Coin() ? "Member ID: " : "Account number "), id, s(". "), clinical, s(".")};
    if (category == "license")
      return {s("Driver license number "), id, s(" checked. "), clinical, s(".")};
    if (category == "vehicle") return {s("Arrived by car, plate "), id, s(". "), clinical, s(".")};
    if (category == "device") return {s("Pump serial no. "), id, s(". "), clinical, s(".")};
    if (category == "address") return {s("Lives at "), id, s(", alone. "), clinical, s(".")};
    if (category == "age") return {s("A "), id, s("-year-old with "), clinical, s(".")};
    if (category == "biometric")
      return {s("Fingerprint ref "), id, s(" on file. "), clinical, s(".")};
    return {};
  }

 private:
  std::mt19937_64 rng_;
};

const std::vector<std::string> kCategories = {
    "name",    "date",    "phone",   "email",  "url",     "ip",  "national_id", "record_number",
    "account", "license", "vehicle", "device", "address", "age", "biometric"};

struct Tally {
  int planted = 0, removed = 0, baseline_removed = 0;
};

struct HeldOutSet {
  std::string name;
  std::string first;  // recall at the set's first measurement, before rules were fitted to it
  std::vector<std::vector<Span>> lines;
};

// Whether a part of identifier `id` that still identifies survives in `out` as a whole word:
// a capitalized word of two letters or more that is no title, label, weekday, month or street
// type, or a number of three characters or more that is not a year. The span-level check
// ("Tues 11/12" gone) counts an identifier as removed when any of it changed; this one does not
// ("HOLLOWAY, Ardith M" scrubbed to "[NAME], Ardith M" leaves "Ardith"). Text outside ASCII is
// left to the span-level check.
bool IdentifyingPartLeft(const std::string& id, const std::string& out) {
  static const std::set<std::string> kStop = {
      "Dr",        "Mr",       "Mrs",      "Ms",        "Mx",       "Miss",         "Prof",
      "Rev",       "St",       "Ave",      "Rd",        "Blvd",     "Apt",          "Suite",
      "Unit",      "Lot",      "Room",     "Rm",        "Bed",      "Floor",        "Fl",
      "No",        "Box",      "PO",       "RR",        "HC",       "Calle",        "Urb",
      "Bo",        "MD",       "DO",       "RN",        "NP",       "PA",           "LPN",
      "Jr",        "Sr",       "II",       "III",       "IV",       "Esq",          "MRN",
      "ID",        "Mon",      "Tue",      "Tues",      "Wed",      "Thu",          "Thur",
      "Thurs",     "Fri",      "Sat",      "Sun",       "Monday",   "Tuesday",      "Wednesday",
      "Thursday",  "Friday",   "Saturday", "Sunday",    "Jan",      "Feb",          "Mar",
      "Apr",       "May",      "Jun",      "Jul",       "Aug",      "Sep",          "Sept",
      "Oct",       "Nov",      "Dec",      "January",   "February", "March",        "April",
      "June",      "July",     "August",   "September", "October",  "November",     "December",
      "The",       "NE",       "NW",       "SE",        "SW",       "Street",       "Road",
      "Lane",      "Drive",    "Court",    "Place",     "Way",      "Run",          "Avenue",
      "Boulevard", "Pkwy",     "Hwy",      "Sq",        "Ln",       "Dr.",          "Dra",
      "Lcda",      "Lcdo",     "Sra",      "Srta",      "Don",      "IMG",          "PXL",
      "Ext",       "Sec",      "Ward",     "West",      "East",     "North",        "South",
      "Rabbi",     "Father",   "Sister",   "Brother",   "Nurse",    "Practitioner", "Reverend",
      "Pastor",    "Chaplain", "Sgt",      "Atty",      "Fr",       "Judge",        "Officer",
      "Det",       "Deputy",   "Captain",  "Lt",        "Coach",    "Imam",         "Elder",
      "Deacon",    "Supply",   "Lines",    "Center",    "Centre",   "Senior",       "Association",
      "Lab",       "Dental",   "Marine",   "Hospital",  "Clinic",   "Church",       "School",
      "Company",   "Inc",      "LLC",      "Co",        "Corp",     "Dist",         "District",
      "County",    "City",     "Township", "Village",   "Humanity", "Foundation",   "Society",
      "Club",      "Team",     "Group",    "Services",  "Agency",   "Department",   "Dept",
      "AM",        "PM",       "Last",     "Next",      "This",     "Zip",          "Apartment",
      "Bay",       "Rua",      "Route",    "Model",     "Field",    "Montana",      "Vermont",
      "Idaho",     "Norway"};
  // Two capitals that name a state or territory (Safe Harbor keeps states).
  static const std::set<std::string> kStates = {
      "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN",
      "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV",
      "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN",
      "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC", "PR", "GU", "VI"};
  auto word_in_out = [&](const std::string& w) {
    for (size_t at = out.find(w); at != std::string::npos; at = out.find(w, at + 1)) {
      const bool left = at == 0 || !std::isalnum(static_cast<unsigned char>(out[at - 1]));
      const size_t end = at + w.size();
      const bool right = end >= out.size() || !std::isalnum(static_cast<unsigned char>(out[end]));
      if (left && right) return true;
    }
    return false;
  };
  for (size_t i = 0; i < id.size();) {
    if (!std::isalnum(static_cast<unsigned char>(id[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < id.size() && std::isalnum(static_cast<unsigned char>(id[j]))) ++j;
    const std::string w = id.substr(i, j - i);
    i = j;
    const bool digit = std::any_of(w.begin(), w.end(), ::isdigit);
    // A year alone, in the Western or the Republic of China era (113年, 113.07.14: 2024).
    const bool all_digits = std::all_of(w.begin(), w.end(), ::isdigit);
    const bool year =
        all_digits && ((w.size() == 4 && (w.rfind("19", 0) == 0 || w.rfind("20", 0) == 0)) ||
                       (w.size() == 3 && w[0] == '1' && j < id.size() &&
                        (id.compare(j, 3, "年") == 0 || id[j] == '.' || id[j] == '/')));
    const bool identifying =
        digit ? (w.size() >= 3 && !year)
              : (w.size() >= 2 && std::isupper(static_cast<unsigned char>(w[0])) &&
                 !kStop.count(w) && !kStates.count(w));
    // Letters that label the number after them ("SN 4XK99", "LOT 5582-A", "ENC-0099182").
    const bool label =
        !digit && w.size() <= 4 &&
        std::all_of(w.begin(), w.end(),
                    [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }) &&
        j + 1 < id.size() && (id[j] == ' ' || id[j] == '-' || id[j] == '#') &&
        std::isdigit(static_cast<unsigned char>(id[j + 1]));
    if (identifying && !label && word_in_out(w)) return true;
  }
  return false;
}

// Reads held-out phrasings: "[set NAME]" starts a set; in each other non-comment line,
// {{category|text}} marks an identifier and {{keep|text}} clinical text that must survive.
std::optional<std::vector<HeldOutSet>> ReadHeldOut(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::vector<HeldOutSet> sets;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("[set ", 0) == 0 && line.back() == ']') {
      std::string name = line.substr(5, line.size() - 6), first;
      if (const size_t at = name.find(" first="); at != std::string::npos) {
        first = name.substr(at + 7);
        name.resize(at);
      }
      sets.push_back({name, first, {}});
      continue;
    }
    if (sets.empty()) return std::nullopt;
    std::vector<Span> spans;
    for (size_t at = 0; at < line.size();) {
      const size_t open = line.find("{{", at);
      const size_t bar = line.find('|', open);
      const size_t close = line.find("}}", open);
      if (open == std::string::npos || bar == std::string::npos || close == std::string::npos) {
        spans.push_back({line.substr(at), ""});
        break;
      }
      spans.push_back({line.substr(at, open - at), ""});
      spans.push_back(
          {line.substr(bar + 1, close - bar - 1), line.substr(open + 2, bar - open - 2)});
      at = close + 2;
    }
    sets.back().lines.push_back(std::move(spans));
  }
  return sets;
}

}  // namespace

int main(int argc, char** argv) {
  const int documents = argc > 1 ? std::atoi(argv[1]) : 400;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2026;
  Corpus c(seed);
  std::map<std::string, Tally> tally;
  int clinical = 0, clinical_removed = 0, baseline_clinical_removed = 0;
  const deid::Pseudonymizer pseudo(std::string(32, 'b'));

  for (int doc = 0; doc < documents; ++doc) {
    // The patient's own identifiers, which the record gives the scrubber.
    const std::string given = c.Pick(kGiven), family = c.Pick(kFamily);
    const std::string mrn = "MR" + c.Digits(8);
    const std::vector<std::string> known = {given + " " + family, family + ", " + given, given,
                                            family, mrn};
    const bool zh = doc % 2 == 1;
    std::vector<Span> spans = {{zh ? "病人姓名：" : "PATIENT: ", ""},
                               {given + " " + family, "name"},
                               {zh ? "，病歷號 " : "  MRN: ", ""},
                               {mrn, "record_number"},
                               {"\n", ""}};
    for (int k = 0; k < 6; ++k) {
      const auto sentence = c.Sentence(c.Pick(kCategories), zh && c.Coin(0.7));
      spans.insert(spans.end(), sentence.begin(), sentence.end());
      spans.push_back({" ", ""});
    }
    std::string text;
    for (const Span& s : spans) text += s.text;
    const deid::TextScrubber scrubber(known, -(c.Int(1, 300)));
    const std::string out = scrubber.Scrub(text);
    std::string baseline = text;
    for (const std::string& k : known) {
      for (size_t at; (at = baseline.find(k)) != std::string::npos;)
        baseline.replace(at, k.size(), "[X]");
    }
    for (const Span& s : spans) {
      if (s.text.size() < 2 || s.text.find_first_not_of(" \n.,;:()-，。；：") == std::string::npos)
        continue;
      if (s.category.empty()) {
        if (std::find(kClinical.begin(), kClinical.end(), s.text) == kClinical.end()) continue;
        ++clinical;
        clinical_removed += out.find(s.text) == std::string::npos;
        baseline_clinical_removed += baseline.find(s.text) == std::string::npos;
        continue;
      }
      Tally& t = tally[s.category];
      ++t.planted;
      // An age stays a number ("90+"): it counts as removed when the old age is gone.
      const bool gone = s.category == "age" ? out.find(s.text + "-year") == std::string::npos &&
                                                  out.find(s.text + "歲") == std::string::npos
                                            : out.find(s.text) == std::string::npos;
      t.removed += gone;
      if (!gone && std::getenv("DEID_PHI_VERBOSE"))
        std::fprintf(stderr, "kept %s: %s\n  in: %s\n", s.category.c_str(), s.text.c_str(),
                     out.c_str());
      t.baseline_removed += baseline.find(s.text) == std::string::npos;
    }
  }

  // DICOM: identifiers in free-text attributes, nested sequences and private blocks.
  Tally& dicom = tally["dicom"];
  for (int i = 0; i < std::max(20, documents / 10); ++i) {
    dicom::DicomDataset ds;
    const std::string name = c.Name(), zh = c.ZhName(), phone = c.Identifier("phone", false).text;
    const std::string mrn = "MR" + c.Digits(8);
    // Each attribute, its value, and the identifier in it that must not survive (searched in
    // the whole file: an identifier of three digits, as the last group of a phone number, could
    // turn up by chance in a UID generated while writing, so each is searched whole).
    struct Planted {
      std::string key, value, id;
    };
    const std::string national_id = c.Identifier("national_id", false).text;
    const std::string given = c.Pick(kGiven), family1 = c.Pick(kFamily), given2 = c.Pick(kGiven),
                      family2 = c.Pick(kFamily), given3 = c.Pick(kGiven), family3 = c.Pick(kFamily),
                      tech = c.Name(), family4 = c.Pick(kFamily);
    const std::vector<Planted> planted = {
        {"PatientID", mrn, mrn},
        {"PatientName", "DOE^" + given, given},
        {"StudyDescription", "CHEST PA, call " + phone, phone},
        {"SeriesDescription", "PA " + zh, zh},
        {"ProtocolName", "CXR for " + name, name},
        {"InstitutionName", "Lakeside " + family1 + " Hospital", family1},
        {"OperatorsName", family2 + "^" + given2, given2},
        {"AnatomicRegionSequence[0].PersonName", family3 + "^" + given3, given3},
        {"AcquisitionContextSequence[0].TextValue", "tech " + tech, tech},
        {"AcquisitionContextSequence[0].ConceptNameCodeSequence[0].CodeMeaning",
         "Operator " + family4, family4},
        {"OtherPatientIDsSequence[0].PatientID", national_id, national_id}};
    for (const Planted& p : planted) (void)ds.SetString(p.key, p.value);
    (void)ds.SetString("AnatomicRegionSequence[0].CodeValue", "51185008");
    (void)ds.SetString("AnatomicRegionSequence[0].CodeMeaning", "Chest");
    (void)ds.SetPrivate(0x0029, "VENDOR 1", 0x01, "LO", "ref " + c.Name());
    const deid::TextScrubber scrubber({name}, -17);
    if (!deid::DeidentifyDicom(ds, pseudo, &scrubber).ok()) continue;
    auto bytes = ds.ToBytes();
    if (!bytes.ok()) continue;
    for (const Planted& p : planted) {
      ++dicom.planted;
      const bool gone = bytes->find(p.id) == std::string::npos;
      dicom.removed += gone;
      if (!gone && std::getenv("DEID_PHI_VERBOSE"))
        std::fprintf(stderr, "dicom kept: %s = %s\n", p.key.c_str(), p.value.c_str());
    }
  }

  // Held-out phrasings (bench/data/deid_heldout.txt): sets written before the scrubber changes
  // they could shape; each set's recall is printed on its own line, the newest is the headline.
  std::vector<HeldOutSet> held_sets;
  std::printf("name dictionaries: the project's own, and %s\n",
              deid::PackagedNames().source.c_str());
  if (argc > 3) {
    auto sets = ReadHeldOut(argv[3]);
    if (!sets) {
      std::fprintf(stderr, "cannot read the held-out phrasings %s\n", argv[3]);
      return 2;
    }
    held_sets = std::move(*sets);
  }
  std::vector<std::pair<Tally, Tally>> held_tallies;  // identifiers, clinical phrases kept
  std::vector<int> held_strict;  // identifiers of which no identifying part survives, per set
  for (const HeldOutSet& set : held_sets) {
    Tally ids, keeps;
    int strict = 0;
    for (const auto& spans : set.lines) {
      std::string text;
      for (const Span& s : spans) text += s.text;
      const std::string out = deid::TextScrubber({}, -9).Scrub(text);
      for (const Span& s : spans) {
        if (s.category.empty()) continue;
        // An age over 89 stays as Safe Harbor's group ("90+"), as in the generated corpus.
        bool gone = out.find(s.text) == std::string::npos;
        if (s.category == "age" && !gone) {
          gone = true;
          for (size_t at = out.find(s.text); at != std::string::npos; at = out.find(s.text, at + 1))
            if (out.compare(at + s.text.size(), 1, "+") != 0) gone = false;
        }
        Tally& t = s.category == "keep" ? keeps : ids;
        ++t.planted;
        t.removed += gone;
        if (gone == (s.category == "keep"))
          std::printf("held-out %s %s (%s): %s\n", set.name.c_str(), gone ? "removed" : "kept",
                      s.category.c_str(), out.c_str());
        if (s.category != "keep" && gone) {
          if (!IdentifyingPartLeft(s.text, out))
            ++strict;
          else
            std::printf("held-out %s partly kept (%s, %s): %s\n", set.name.c_str(),
                        s.category.c_str(), s.text.c_str(), out.c_str());
        }
      }
    }
    held_tallies.push_back({ids, keeps});
    held_strict.push_back(strict);
  }

  std::printf(
      "PHI corpus: %d documents (seed %llu), English and Traditional Chinese; %d DICOM datasets\n",
      documents, static_cast<unsigned long long>(seed), std::max(20, documents / 10));
  std::printf("%-14s %8s %10s %10s %12s\n", "category", "planted", "removed", "recall", "baseline");
  int planted = 0, removed = 0, base_removed = 0;
  std::string worst;
  double worst_recall = 2;
  for (const auto& [cat, t] : tally) {
    const double r = t.planted ? static_cast<double>(t.removed) / t.planted : 1.0;
    std::printf("%-14s %8d %10d %10.3f %12.3f\n", cat.c_str(), t.planted, t.removed, r,
                t.planted ? static_cast<double>(t.baseline_removed) / t.planted : 1.0);
    planted += t.planted, removed += t.removed, base_removed += t.baseline_removed;
    if (r < worst_recall) worst_recall = r, worst = cat;
  }
  const double recall = static_cast<double>(removed) / planted;
  const double precision = static_cast<double>(removed) / std::max(1, removed + clinical_removed);
  std::printf("%-14s %8d %10d %10.3f %12.3f\n", "all", planted, removed, recall,
              static_cast<double>(base_removed) / planted);
  std::printf("clinical phrases: %d, removed %d (baseline %d); precision %.3f\n", clinical,
              clinical_removed, baseline_clinical_removed, precision);
  std::printf("baseline: only the record's identifiers replaced (a record-driven scrubber)\n");
  double held_recall = 0;
  std::string held_first = "none";
  int strict_planted = 0, strict_removed = 0;
  for (size_t i = 0; i < held_sets.size(); ++i) {
    const auto& [ids, keeps] = held_tallies[i];
    held_recall = static_cast<double>(ids.removed) / std::max(1, ids.planted);
    held_first = held_sets[i].first.empty() ? "unmeasured" : held_sets[i].first;
    std::printf(
        "held-out set %s: %d identifiers, %d removed, recall %.3f (at its first measurement, "
        "before rules were fitted to it: %s); %d with no identifying part left; %d clinical "
        "phrases, %d removed\n",
        held_sets[i].name.c_str(), ids.planted, ids.removed, held_recall,
        held_sets[i].first.empty() ? "this run" : held_sets[i].first.c_str(), held_strict[i],
        keeps.planted, keeps.removed);
    strict_planted += ids.planted;
    strict_removed += held_strict[i];
  }
  // Recall on text the rules had never seen: the first measurements of the last five sets that
  // have one, pooled (each set's count removed is its first recall times its identifiers).
  int pooled_planted = 0, pooled_removed = 0, pooled_sets = 0;
  std::string pooled_names;
  for (size_t i = held_sets.size(); i-- > 0 && pooled_sets < 5;) {
    if (held_sets[i].first.empty()) continue;
    const int n = held_tallies[i].first.planted;
    pooled_planted += n;
    pooled_removed += static_cast<int>(std::lround(std::stod(held_sets[i].first) * n));
    pooled_names = held_sets[i].name + (pooled_names.empty() ? "" : " ") + pooled_names;
    ++pooled_sets;
  }
  const double pooled = pooled_planted ? static_cast<double>(pooled_removed) / pooled_planted : 0.0;
  if (pooled_planted)
    std::printf("held-out first measurements pooled (%s): %d of %d identifiers removed, %.3f\n",
                pooled_names.c_str(), pooled_removed, pooled_planted, pooled);
  const double strict_recall =
      strict_planted ? static_cast<double>(strict_removed) / strict_planted : 0.0;
  // A diagnostic, not a figure: the word-level check also flags model names and labels the
  // stop list does not know, so the "partly kept" lines are for a reader to go through.
  if (strict_planted)
    std::printf(
        "held-out sets now, every set: %d of %d identifiers with no word left that may identify "
        "(%.3f; the \"partly kept\" lines above list the rest, model names and labels among "
        "them)\n",
        strict_removed, strict_planted, strict_recall);
  std::printf(
      "deid_recall=%.3f deid_precision=%.3f worst_category=%s worst_recall=%.3f "
      "held_out_recall=%.3f held_out_first_recall=%s held_out_first_pooled=%.3f "
      "baseline_recall=%.3f\n",
      recall, precision, worst.c_str(), worst_recall, held_recall, held_first.c_str(), pooled,
      static_cast<double>(base_removed) / planted);
  return 0;
}
