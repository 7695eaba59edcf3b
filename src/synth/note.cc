#include "synth/note.h"

#include <algorithm>

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

std::string ReasonForExam(const Encounter& e, Rng& rng) {
  // Usually the suspicion matches the image; sometimes the clinician suspected something else.
  const Finding* p = e.Primary();
  const bool match = p && rng.Bernoulli(0.85);
  if (e.Has(FindingType::kEndotrachealTube) && rng.Bernoulli(0.6))
    return "Intubated patient. Evaluate endotracheal tube position.";
  if (e.Has(FindingType::kCentralLine) && rng.Bernoulli(0.3))
    return "Central line placement. Evaluate catheter position.";
  if (match) {
    switch (p->type) {
      case FindingType::kConsolidation:
        return fmt::format("Fever and productive cough for {} days. Evaluate for pneumonia.",
                           rng.UniformInt(2, 6));
      case FindingType::kEdema:
      case FindingType::kCardiomegaly:
        return "Shortness of breath and leg swelling. Evaluate for congestive heart failure.";
      case FindingType::kPleuralEffusion:
        return "Dyspnea. Evaluate for pleural effusion.";
      case FindingType::kPneumothorax:
        return rng.Bernoulli(0.5) ? "Sudden onset pleuritic chest pain. Evaluate for pneumothorax."
                                  : "Chest trauma. Evaluate for pneumothorax.";
      case FindingType::kRibFracture:
        return "Fall with right and left chest wall pain. Evaluate for rib fracture.";
      case FindingType::kNodule:
        return "Follow-up of pulmonary nodule.";
      case FindingType::kMass:
        return "History of lung cancer. Restaging.";
      case FindingType::kAtelectasis:
        return "Postoperative hypoxemia.";
      default:
        break;
    }
  }
  switch (e.department) {
    case Department::kED:
      return rng.Bernoulli(0.5) ? "Chest pain." : "Cough and shortness of breath.";
    case Department::kICU:
      return "Daily ICU film. Hypoxemia.";
    case Department::kCardiology:
      return "Palpitations. Evaluate heart size.";
    case Department::kOncology:
      return "Malignancy, staging.";
    case Department::kPulmonology:
      return "Chronic cough.";
    case Department::kOutpatient:
      return rng.Bernoulli(0.5) ? "Preoperative evaluation." : "Annual physical examination.";
  }
  return "Chest pain.";
}

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
    const Finding* f = e.Primary();
    int ri = static_cast<int>(rng.UniformInt(4, 5));
    if (f && f->type == FindingType::kConsolidation) ri = 0;
    if (f && (f->type == FindingType::kEdema || f->type == FindingType::kCardiomegaly)) ri = 1;
    if (f && (f->type == FindingType::kRibFracture || f->type == FindingType::kPneumothorax))
      ri = 2;
    if (f && (f->type == FindingType::kMass || f->type == FindingType::kNodule)) ri = 3;
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
  constexpr const char* kHistory[] = {
      "Hypertension, type 2 diabetes mellitus.", "Former smoker, 30 pack-years.",
      "No significant past medical history.",    "Coronary artery disease status post stenting.",
      "Chronic obstructive pulmonary disease.",  "Breast cancer treated five years ago."};
  text += fmt::format("History: {}\n", rng.Pick(kHistory));
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
