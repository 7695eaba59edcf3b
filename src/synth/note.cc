#include "synth/note.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace medscribe::synth {
namespace {

std::string DateUs(const Date& d) {
  return fmt::format("{:02d}/{:02d}/{:04d}", d.month, d.day, d.year);
}
std::string DateLong(const Date& d) {
  constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};
  return fmt::format("{} {}, {}", kMonths[d.month - 1], d.day, d.year);
}
std::string DateZh(const Date& d) { return fmt::format("{}年{}月{}日", d.year, d.month, d.day); }

}  // namespace

Note ComposeNote(const Encounter& e, const CohortPlan& cohort, Rng& rng) {
  const Patient& p = cohort.patients[static_cast<size_t>(e.patient)];
  const Clinician& ref = cohort.referring[static_cast<size_t>(e.referring)];
  Note note;
  auto plant = [&](const std::string& s) {
    if (std::find(note.phi.begin(), note.phi.end(), s) == note.phi.end()) note.phi.push_back(s);
    return s;
  };
  const int age = AgeInYears(p.birth_date, e.study_time.date);
  if (e.note_zh) {
    note.language = "zh-TW";
    constexpr const char* kZhReasons[] = {"病人主訴發燒咳嗽三天",
                                          "病人主訴呼吸急促，下肢水腫",
                                          "病人跌倒後胸痛",
                                          "肺癌病史，追蹤檢查",
                                          "術前評估",
                                          "病人主訴胸悶、喘"};
    // The presenting complaint follows the order's suspicion, never the image.
    int ri = static_cast<int>(rng.UniformInt(4, 5));
    if (e.indication != IndicationKind::kRoutine) {
      const FindingType t = e.suspected;
      if (t == FindingType::kConsolidation) ri = 0;
      if (t == FindingType::kEdema || t == FindingType::kCardiomegaly ||
          t == FindingType::kPleuralEffusion)
        ri = 1;
      if (t == FindingType::kRibFracture || t == FindingType::kPneumothorax) ri = 2;
      if (t == FindingType::kMass || t == FindingType::kNodule) ri = 3;
    }
    constexpr const char* kDistricts[] = {"台北市大安區復興南路一段", "新北市板橋區文化路二段",
                                          "台中市西區民權路", "高雄市苓雅區四維三路"};
    const std::string mobile = fmt::format("09{:02d}-{:03d}-{:03d}", rng.UniformInt(10, 99),
                                           rng.UniformInt(0, 999), rng.UniformInt(0, 999));
    const std::string address = fmt::format("{}{}號", rng.Pick(kDistricts), rng.UniformInt(1, 300));
    const std::string doctor = plant(ref.family + " " + ref.given);
    note.text = fmt::format(
        "病人{}，{}歲，{}性，病歷號碼{}，身分證字號{}，出生日期{}。{}，於{}至{}就診。"
        "聯絡電話{}，住址{}。轉診醫師：{}醫師。",
        plant(p.ZhName()), age, p.sex == 'F' ? "女" : "男", plant(p.mrn), plant(p.national_id),
        plant(DateZh(p.birth_date)), kZhReasons[ri], plant(DateZh(e.study_time.date)),
        DepartmentLabel(e.department), plant(mobile), plant(address), doctor);
    return note;
  }
  note.language = "en";
  const std::string dob = rng.Bernoulli(0.5) ? DateUs(p.birth_date) : DateLong(p.birth_date);
  const std::string seen =
      rng.Bernoulli(0.5) ? DateUs(e.study_time.date) : DateLong(e.study_time.date);
  std::string text =
      fmt::format("Patient: {}  MRN: {}  DOB: {}\n", plant(p.FullName()), plant(p.mrn), plant(dob));
  text += fmt::format("Seen on {} in the {}. {}-year-old {} presenting with: {}\n", plant(seen),
                      DepartmentLabel(e.department), age, p.sex == 'F' ? "woman" : "man", e.reason);
  // The history as the referring clinician summarizes it: most of the problem list.
  std::string history;
  for (const Problem& pr : e.history) {
    if (!rng.Bernoulli(0.8)) continue;
    history += (history.empty() ? "" : ", ") + std::string(ChronicPhrase(pr.condition));
  }
  if (history.empty()) history = "no significant past medical history";
  history[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(history[0])));
  text += fmt::format("History: {}.\n", history);
  const int contact = static_cast<int>(rng.UniformInt(0, 3));
  if (contact == 0) {
    text += fmt::format("Lives at {}, {}, {} {}. Phone {}.\n", plant(p.address_line), plant(p.city),
                        p.state, plant(p.postal_code), plant(p.phone));
  } else if (contact == 1) {
    text += fmt::format("Contact: {} or {}.\n", plant(p.phone), plant(p.email));
  } else if (contact == 2) {
    text += fmt::format("Insurance verified, SSN {}. Call back number {}.\n", plant(p.ssn),
                        plant(p.phone));
  } else {
    text += fmt::format("Passport/national ID {} on file. E-mail {}.\n", plant(p.national_id),
                        plant(p.email));
  }
  text += fmt::format("Referred by {}.", plant(ref.Display()));
  note.text = std::move(text);
  return note;
}

}  // namespace medscribe::synth
