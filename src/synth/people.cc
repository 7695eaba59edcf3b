#include "synth/people.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace medscribe::synth {
namespace {

constexpr const char* kFemale[] = {
    "Mary",    "Patricia",  "Jennifer", "Linda",    "Elizabeth", "Barbara", "Susan",   "Jessica",
    "Sarah",   "Karen",     "Nancy",    "Margaret", "Lisa",      "Betty",   "Dorothy", "Sandra",
    "Ashley",  "Kimberly",  "Emily",    "Donna",    "Michelle",  "Carol",   "Amanda",  "Melissa",
    "Deborah", "Stephanie", "Rebecca",  "Laura",    "Helen",     "Sharon",  "Cynthia", "Kathleen",
    "Amy",     "Angela",    "Anna",     "Ruth",     "Brenda"};
constexpr const char* kMale[] = {
    "James",    "John",    "Robert",      "Michael", "William", "David",   "Richard", "Joseph",
    "Thomas",   "Charles", "Christopher", "Daniel",  "Matthew", "Anthony", "Mark",    "Donald",
    "Steven",   "Paul",    "Andrew",      "Joshua",  "Kenneth", "Kevin",   "Brian",   "George",
    "Edward",   "Ronald",  "Timothy",     "Jason",   "Jeffrey", "Ryan",    "Jacob",   "Gary",
    "Nicholas", "Eric",    "Jonathan",    "Stephen"};
constexpr const char* kFamily[] = {
    "Smith",     "Johnson",  "Williams",  "Brown",    "Jones",    "Garcia",  "Miller",   "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez",    "Gonzalez", "Wilson",  "Anderson", "Thomas",
    "Taylor",    "Moore",    "Jackson",   "Martin",   "Thompson", "White",   "Harris",   "Sanchez",
    "Clark",     "Ramirez",  "Lewis",     "Robinson", "Walker",   "Young",   "Allen",    "King",
    "Wright",    "Scott",    "Torres",    "Nguyen",   "Hill",     "Flores",  "Green",    "Adams",
    "Nelson",    "Baker",    "Hall",      "Rivera",   "Campbell", "Mitchell"};

struct ZhPart {
  const char* zh;
  const char* roman;
};
constexpr ZhPart kZhFamily[] = {{"陳", "Chen"},  {"林", "Lin"},  {"黃", "Huang"}, {"張", "Chang"},
                                {"李", "Lee"},   {"王", "Wang"}, {"吳", "Wu"},    {"劉", "Liu"},
                                {"蔡", "Tsai"},  {"楊", "Yang"}, {"許", "Hsu"},   {"鄭", "Cheng"},
                                {"謝", "Hsieh"}, {"郭", "Kuo"},  {"洪", "Hung"},  {"曾", "Tseng"},
                                {"邱", "Chiu"},  {"廖", "Liao"}, {"賴", "Lai"},   {"周", "Chou"}};
constexpr ZhPart kZhFemale[] = {{"美玲", "Mei-Ling"}, {"淑芬", "Shu-Fen"}, {"怡君", "Yi-Chun"},
                                {"雅婷", "Ya-Ting"},  {"淑惠", "Shu-Hui"}, {"麗華", "Li-Hua"},
                                {"佩珊", "Pei-Shan"}, {"欣怡", "Hsin-Yi"}};
constexpr ZhPart kZhMale[] = {{"志明", "Chih-Ming"},  {"家豪", "Chia-Hao"},  {"建宏", "Chien-Hung"},
                              {"俊傑", "Chun-Chieh"}, {"宗翰", "Tsung-Han"}, {"冠宇", "Kuan-Yu"},
                              {"文雄", "Wen-Hsiung"}, {"承恩", "Cheng-En"}};

struct Place {
  const char* city;
  const char* state;
  int zip_base;
};
constexpr Place kPlaces[] = {{"Springfield", "IL", 62701}, {"Riverside", "CA", 92501},
                             {"Franklin", "TN", 37064},    {"Greenville", "SC", 29601},
                             {"Madison", "WI", 53703},     {"Salem", "OR", 97301},
                             {"Fairview", "NJ", 7022},     {"Clinton", "MA", 1510},
                             {"Georgetown", "TX", 78626},  {"Arlington", "VA", 22201}};
constexpr const char* kStreets[] = {"Maple",      "Oak",       "Cedar",   "Pine",   "Elm",
                                    "Washington", "Lake",      "Hill",    "Sunset", "Park",
                                    "Highland",   "Jefferson", "Lincoln", "Willow", "Chestnut"};
constexpr const char* kStreetKinds[] = {"Street", "Avenue", "Road", "Lane", "Drive", "Court"};
constexpr const char* kMailHosts[] = {"example.com", "example.org", "example.net", "mail.example"};

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}
std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  return s;
}

// Taiwan national ID: a letter, 1 (male) or 2 (female), eight digits.
std::string NationalId(Rng& rng, char sex) {
  const char letter = static_cast<char>('A' + rng.UniformInt(0, 25));
  return fmt::format("{}{}{:08d}", letter, sex == 'M' ? 1 : 2, rng.UniformInt(0, 99999999));
}

}  // namespace

std::string Patient::DicomName() const {
  std::string name = Upper(family) + "^" + Upper(given);
  if (chinese) name += "=" + zh_family + "^" + zh_given;
  return name;
}

std::string Patient::FullName() const { return given + " " + family; }

std::string Clinician::DicomName() const { return Upper(family) + "^" + Upper(given); }
std::string Clinician::Display() const { return "Dr. " + given + " " + family; }

Patient MakePatient(uint64_t seed, int index) {
  Rng rng = Rng::Stream(seed, HashString("patient"), index);
  Patient p;
  p.id = fmt::format("pat-{:06d}", index + 1);
  p.mrn = fmt::format("MRN{:07d}", rng.UniformInt(1000000, 9999999));
  p.sex = rng.Bernoulli(0.5) ? 'F' : 'M';
  p.chinese = rng.Bernoulli(0.15);
  if (p.chinese) {
    const ZhPart& fam = rng.Pick(kZhFamily);
    const ZhPart& giv = p.sex == 'F' ? rng.Pick(kZhFemale) : rng.Pick(kZhMale);
    p.family = fam.roman;
    p.given = giv.roman;
    p.zh_family = fam.zh;
    p.zh_given = giv.zh;
  } else {
    p.family = rng.Pick(kFamily);
    p.given = p.sex == 'F' ? rng.Pick(kFemale) : rng.Pick(kMale);
  }
  // Ages 18..97: a few patients are over 89, which Safe Harbor aggregates as "90+".
  const int age =
      static_cast<int>(rng.Bernoulli(0.05) ? rng.UniformInt(90, 97) : rng.UniformInt(18, 89));
  p.birth_date = AddDays(Date{2025 - age, 1, 1}, -rng.UniformInt(0, 364));
  const Place& place = rng.Pick(kPlaces);
  p.address_line =
      fmt::format("{} {} {}", rng.UniformInt(10, 9899), rng.Pick(kStreets), rng.Pick(kStreetKinds));
  p.city = place.city;
  p.state = place.state;
  p.postal_code = fmt::format("{:05d}", place.zip_base + rng.UniformInt(0, 40));
  p.phone = fmt::format("(555) {:03d}-{:04d}", rng.UniformInt(100, 199), rng.UniformInt(0, 9999));
  p.email = fmt::format("{}.{}{}@{}", Lower(p.given), Lower(p.family), rng.UniformInt(1, 99),
                        rng.Pick(kMailHosts));
  p.national_id = NationalId(rng, p.sex);
  p.ssn = fmt::format("{:03d}-{:02d}-{:04d}", rng.UniformInt(100, 665), rng.UniformInt(10, 99),
                      rng.UniformInt(1000, 9999));
  return p;
}

Clinician MakeClinician(uint64_t seed, int index) {
  Rng rng = Rng::Stream(seed, HashString("clinician"), index);
  Clinician c;
  c.family = rng.Pick(kFamily);
  c.given = rng.Bernoulli(0.5) ? rng.Pick(kFemale) : rng.Pick(kMale);
  return c;
}

}  // namespace medscribe::synth
