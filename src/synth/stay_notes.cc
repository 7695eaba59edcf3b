#include "synth/stay_notes.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace medscribe::synth {
namespace {

std::string Cap(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}
std::string DateUs(const Date& d) {
  return fmt::format("{:02d}/{:02d}/{:04d}", d.month, d.day, d.year);
}
std::string DateZh(const Date& d) { return fmt::format("{}年{}月{}日", d.year, d.month, d.day); }

// Collects planted PHI in order of first appearance.
struct Planter {
  Note& note;
  const std::string& operator()(const std::string& v) {
    if (std::find(note.phi.begin(), note.phi.end(), v) == note.phi.end()) note.phi.push_back(v);
    return v;
  }
};

std::string Value(const LabPoint& v, const LabSpec& s) {
  return fmt::format("{:.{}f}", v.value, s.decimals);
}

std::string LabName(std::string_view key) {
  if (key == "wbc") return "WBC";
  if (key == "crp") return "CRP";
  if (key == "bnp") return "BNP";
  if (key == "hba1c") return "HbA1c";
  if (key == "hemoglobin") return "Hgb";
  if (key == "platelets") return "Plt";
  if (key == "sodium") return "Na";
  if (key == "potassium") return "K";
  if (key == "bicarbonate") return "HCO3";
  if (key == "creatinine") return "Cr";
  if (key == "glucose") return "Glu";
  if (key == "troponin") return "TnI";
  if (key == "lactate") return "lactate";
  return std::string(key);
}

// "WBC 15.2 (H), Hgb 12.9, ..." for the labs drawn on `day`.
std::string LabLine(const Stay& s, int day) {
  std::string out;
  for (const LabSeries& ls : s.labs) {
    for (const LabPoint& pt : ls.points) {
      if (pt.day != day) continue;
      out += fmt::format("{}{} {}{}", out.empty() ? "" : ", ", LabName(ls.spec->key),
                         Value(pt, *ls.spec), pt.flag == 'N' ? "" : fmt::format(" ({})", pt.flag));
    }
  }
  return out;
}

std::string VitalsLine(const Stay& s, int day) {
  auto v = [&](std::string_view key) {
    const LabPoint* p = ValueOn(s, key, day);
    return p ? fmt::format("{:g}", p->value) : std::string("-");
  };
  return fmt::format("T {} C, HR {}, SBP {}, RR {}, SpO2 {}%", v("temperature"), v("heart_rate"),
                     v("systolic_bp"), v("resp_rate"), v("spo2"));
}

std::string Order(const MedOrder& m) {
  return fmt::format("{} {} {} {}", m.drug->name, m.dose, m.route, m.frequency);
}

// The plan for problem `i` on hospital `day`: orders given, begun or completed, procedures,
// consults and discharge-list decisions of that day.
std::vector<std::string> ActionsOn(const Stay& s, int i, int day) {
  std::vector<std::string> out;
  for (const MedOrder& m : s.inpatient_meds) {
    if (m.problem != i) continue;
    if (m.start_day == day)
      out.push_back("start " + Order(m));
    else if (m.start_day < day && m.stop_day >= day)
      out.push_back("continue " + Order(m));
    else if (m.stop_day == day - 1 && day > 0)
      out.push_back(fmt::format("{} {} completed", m.route, m.drug->name));
  }
  for (const DischargeMed& m : s.discharge_meds) {
    if (m.problem != i) continue;
    const std::string line = fmt::format("{} {} {} {}", m.drug->name, m.dose, m.route, m.frequency);
    if (m.change == MedChange::kStopped && day == 0)
      out.push_back(fmt::format("hold home {} ({})", m.drug->name, m.reason));
    if ((m.change == MedChange::kNew || m.change == MedChange::kChanged) && m.start_day == day)
      out.push_back(
          fmt::format("{} {}", m.change == MedChange::kNew ? "start" : "change to", line));
    else if ((m.change == MedChange::kNew || m.change == MedChange::kChanged) && m.start_day < day)
      out.push_back("continue " + line);
  }
  for (const StayProcedure& pr : s.procedures)
    if (pr.problem == i && pr.day == day) out.push_back(pr.phrase + " today: " + pr.result);
  for (const Imaging& im : s.imaging)
    if (im.problem == i && im.day == day) out.push_back(im.title + ": " + im.impression);
  for (const Consult& c : s.consults)
    if (c.problem == i && c.day == day) out.push_back(c.specialty + " consulted");
  return out;
}

// The problem's state on `day`, from its key analyte against admission.
std::string StatusOn(const Stay& s, const StayProblem& pr, int day) {
  const std::string_view key = KeyAnalyte(pr.kind);
  const LabPoint* first = ValueOn(s, key, 0);
  const LabPoint* now = nullptr;
  for (int d = day; d >= 0 && !now; --d) now = ValueOn(s, key, d);
  if (!first || !now || now == first) return "";
  const std::string name = key == "spo2" ? "SpO2" : key == "heart_rate" ? "HR" : LabName(key);
  const char* word = now->flag == 'N' ? "normalized" : "improving";
  if (std::abs(now->value - first->value) < 1e-9) word = "unchanged";
  const LabSpec& spec = *[&]() {
    for (const std::vector<LabSeries>* v : {&s.labs, &s.vitals})
      for (const LabSeries& ls : *v)
        if (ls.spec->key == key) return ls.spec;
    return static_cast<const LabSpec*>(nullptr);
  }();
  return fmt::format("{} {} {} (admission {})", name, word, Value(*now, spec), Value(*first, spec));
}

// A relative of the patient ("daughter Anna Chen") and their phone number, both planted.
std::string Relative(const Patient& p, Rng& rng, Planter& plant, std::string* phone) {
  constexpr const char* kWomen[] = {"Anna", "Grace", "Linda", "Susan", "Emily"};
  constexpr const char* kMen[] = {"David", "Kevin", "Michael", "James", "Daniel"};
  const int role = static_cast<int>(rng.UniformInt(0, 3));  // daughter, son, spouse, sister
  const bool woman = role == 0 || role == 3 || (role == 2 && p.sex == 'M');
  const char* title = role == 0   ? "daughter"
                      : role == 1 ? "son"
                      : role == 3 ? "sister"
                      : woman     ? "wife"
                                  : "husband";
  *phone = plant(fmt::format("({:03d}) {:03d}-{:04d}", rng.UniformInt(201, 989),
                             rng.UniformInt(200, 999), rng.UniformInt(0, 9999)));
  return fmt::format(
      "{} {}", title,
      plant(std::string(woman ? rng.Pick(kWomen) : rng.Pick(kMen)) + " " + p.family));
}

}  // namespace

const LabPoint* ValueOn(const Stay& s, std::string_view key, int day) {
  for (const std::vector<LabSeries>* v : {&s.labs, &s.vitals}) {
    for (const LabSeries& ls : *v) {
      if (ls.spec->key != key) continue;
      for (const LabPoint& pt : ls.points)
        if (pt.day == day) return &pt;
    }
  }
  return nullptr;
}

Note ComposeAdmissionNote(const Stay& s, const Patient& p, const std::vector<Clinician>& clinicians,
                          Rng& rng) {
  Note note;
  note.language = "en";
  Planter plant{note};
  const int age = AgeInYears(p.birth_date, s.admitted.date);
  std::string t = "HISTORY AND PHYSICAL\n";
  t += fmt::format("Patient: {}  MRN: {}  DOB: {}\n", plant(p.FullName()), plant(p.mrn),
                   plant(DateUs(p.birth_date)));
  t += fmt::format("Admitted: {} {:02d}:{:02d}  Attending: {}\n\n", plant(DateUs(s.admitted.date)),
                   s.admitted.hour, s.admitted.minute,
                   plant(clinicians[static_cast<size_t>(s.attending)].Display()));
  t += "CHIEF COMPLAINT: " + Cap(s.chief_complaint) + ".\n\n";
  std::vector<std::string> chronic;
  for (const StayProblem& pr : s.problems)
    if (!pr.acute) chronic.push_back(pr.phrase);
  std::string hist;
  for (size_t k = 0; k < chronic.size(); ++k) hist += (k ? ", " : "") + chronic[k];
  t += fmt::format(
      "HISTORY OF PRESENT ILLNESS: {}-year-old {} with {} who presents with {} for {} "
      "days.\n\n",
      age, p.sex == 'F' ? "woman" : "man",
      hist.empty() ? "no significant past medical history" : hist, s.chief_complaint,
      rng.UniformInt(1, 5));
  t += "HOME MEDICATIONS:\n";
  if (s.home_meds.empty()) t += "None.\n";
  for (const MedOrder& m : s.home_meds) t += "- " + Order(m) + "\n";
  t += "\nALLERGIES: ";
  if (s.allergies.empty()) t += "No known drug allergies.\n";
  for (size_t k = 0; k < s.allergies.size(); ++k)
    t += fmt::format("{}{} ({})", k ? ", " : "", s.allergies[k].substance, s.allergies[k].reaction);
  if (!s.allergies.empty()) t += ".\n";
  const int social = static_cast<int>(rng.UniformInt(0, 2));
  if (social == 0) {
    t += fmt::format("\nSOCIAL HISTORY: Lives at {}, {} {}. Phone {}.\n", plant(p.address_line),
                     plant(p.city), plant(p.postal_code), plant(p.phone));
  } else if (social == 1) {
    std::string phone;
    const std::string rel = Relative(p, rng, plant, &phone);
    t += fmt::format("\nSOCIAL HISTORY: Lives with {}, reachable at {}.\n", rel, phone);
  } else {
    t += fmt::format("\nSOCIAL HISTORY: Lives alone. Contact e-mail {}.\n", plant(p.email));
  }
  t += "\nPHYSICAL EXAM: " + VitalsLine(s, 0) + ".\n";
  t += "\nLABS: " + LabLine(s, 0) + ".\n";
  for (const Imaging& im : s.imaging)
    if (im.day == 0) t += fmt::format("\nIMAGING: {}: {}\n", im.title, im.impression);
  t += "\nASSESSMENT AND PLAN:\n";
  int n = 0;
  for (size_t i = 0; i < s.problems.size(); ++i) {
    const StayProblem& pr = s.problems[i];
    if (!pr.acute) continue;
    std::string plan;
    for (const std::string& a : ActionsOn(s, static_cast<int>(i), 0)) plan += "; " + a;
    t += fmt::format("{}. {}{}\n", ++n, Cap(pr.phrase), plan.empty() ? "" : ":" + plan.substr(1));
  }
  for (const StayProblem& pr : s.problems)
    if (!pr.acute) t += fmt::format("{}. {}: home regimen.\n", ++n, Cap(pr.phrase));
  note.text = std::move(t);
  return note;
}

Note ComposeProgressNote(const Stay& s, int day, const Patient& p,
                         const std::vector<Clinician>& clinicians, Rng& rng) {
  Note note;
  Planter plant{note};
  const Date date = AddDays(s.admitted.date, day);
  const Clinician& doc = clinicians[static_cast<size_t>(s.attending)];
  if (s.notes_zh) {
    note.language = "zh-TW";
    std::string t = fmt::format("病程紀錄　住院第{}天（{}）\n", day + 1, plant(DateZh(date)));
    t += fmt::format("病人{}，{}歲，病歷號碼{}。\n", plant(p.ZhName()),
                     AgeInYears(p.birth_date, date), plant(p.mrn));
    constexpr const char* kSubj[] = {"病人自述症狀改善，食慾可。", "夜間睡眠尚可，無新主訴。",
                                     "精神較昨日好，可下床活動。"};
    t += "主觀：" + std::string(rng.Pick(kSubj)) + "\n";
    t += "客觀：" + VitalsLine(s, day) + "。檢驗：" + LabLine(s, day) + "。\n";
    t += "評估與計畫：\n";
    int n = 0;
    for (size_t i = 0; i < s.problems.size(); ++i) {
      const StayProblem& pr = s.problems[i];
      if (!pr.acute) continue;
      std::string plan;
      for (const std::string& a : ActionsOn(s, static_cast<int>(i), day)) plan += "；" + a;
      const std::string status = StatusOn(s, pr, day);
      t += fmt::format("{}. {}：{}{}\n", ++n, Cap(pr.phrase), status.empty() ? "持續觀察" : status,
                       plan);
    }
    if (rng.Bernoulli(0.4)) {
      std::string phone = plant(fmt::format("09{:02d}-{:03d}-{:03d}", rng.UniformInt(10, 99),
                                            rng.UniformInt(0, 999), rng.UniformInt(0, 999)));
      t += fmt::format("已向家屬說明病情，聯絡電話{}。\n", phone);
    }
    t += fmt::format("主治醫師：{}\n", plant(doc.family + " " + doc.given));
    note.text = std::move(t);
    return note;
  }
  note.language = "en";
  std::string t =
      fmt::format("PROGRESS NOTE - Hospital day {} ({})\n", day + 1, plant(DateUs(date)));
  if (rng.Bernoulli(0.5))
    t += fmt::format("Patient: {}  MRN: {}\n", plant(p.FullName()), plant(p.mrn));
  constexpr const char* kSubj[] = {"Feels better today. Tolerating diet.",
                                   "No acute events overnight. Ambulating in the hall.",
                                   "Reports improved symptoms; slept well."};
  t += "S: " + std::string(rng.Pick(kSubj)) + "\n";
  t += "O: " + VitalsLine(s, day) + ". Labs: " + LabLine(s, day) + ".\n";
  t += "A/P:\n";
  int n = 0;
  for (size_t i = 0; i < s.problems.size(); ++i) {
    const StayProblem& pr = s.problems[i];
    if (!pr.acute) continue;
    std::string plan;
    for (const std::string& a : ActionsOn(s, static_cast<int>(i), day)) plan += "; " + a;
    const std::string status = StatusOn(s, pr, day);
    t += fmt::format("{}. {}: {}{}\n", ++n, Cap(pr.phrase), status.empty() ? "monitoring" : status,
                     plan);
  }
  if (rng.Bernoulli(0.3)) {
    std::string phone;
    const std::string rel = Relative(p, rng, plant, &phone);
    t += fmt::format("Updated {} by phone at {}.\n", rel, phone);
  }
  t += fmt::format("Dispo: anticipate discharge {}.\n",
                   day + 1 >= s.days ? "tomorrow" : "in the coming days");
  t += plant(doc.Display()) + "\n";
  note.text = std::move(t);
  return note;
}

Note ComposeConsultNote(const Stay& s, const Consult& c, const Patient& p,
                        const std::vector<Clinician>& clinicians, Rng& rng) {
  Note note;
  note.language = "en";
  Planter plant{note};
  const StayProblem& pr = s.problems[static_cast<size_t>(std::max(0, c.problem))];
  std::string t = fmt::format("CONSULTATION - {}\n", Cap(c.specialty));
  t += fmt::format("Patient: {}  MRN: {}  Date: {}\n", plant(p.FullName()), plant(p.mrn),
                   plant(DateUs(AddDays(s.admitted.date, c.day))));
  t += fmt::format("Requested by {} for {}.\n",
                   plant(clinicians[static_cast<size_t>(s.attending)].Display()), pr.phrase);
  t += "Vitals: " + VitalsLine(s, c.day) + ".\n";
  t += fmt::format("Impression: {}.\n", Cap(pr.phrase));
  t += "Recommendations: " + c.recommendation + "\n";
  if (rng.Bernoulli(0.5)) t += "Thank you for this consult; we will follow.\n";
  t += plant(clinicians[static_cast<size_t>(c.consultant)].Display()) + "\n";
  note.text = std::move(t);
  return note;
}

std::string ImagingReportText(const Stay& s, const Imaging& im) {
  return fmt::format("EXAM: {}\nINDICATION: {}.\nIMPRESSION: {}\n", im.title,
                     Cap(s.chief_complaint), im.impression);
}

Note ComposeDischargeDictation(const Stay& s, const Patient& p,
                               const std::vector<Clinician>& clinicians, Rng& rng) {
  Note note;
  note.language = "en";
  Planter plant{note};
  const Clinician& doc = clinicians[static_cast<size_t>(s.attending)];
  const char* he = p.sex == 'F' ? "She" : "He";
  std::string t =
      fmt::format("This is {} {} dictating a discharge note on {}, medical record number {}. ",
                  "doctor", plant(doc.given + " " + doc.family), plant(p.FullName()), plant(p.mrn));
  t += fmt::format("{} was admitted on {} with {}. ", he, plant(DateUs(s.admitted.date)),
                   s.problems.front().phrase);
  for (const StayProblem& pr : s.problems) {
    if (!pr.acute) continue;
    std::string course = pr.course;
    if (course.size() > 1 && !std::isupper(static_cast<unsigned char>(course[1])))
      course[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(course[0])));
    t += fmt::format("For {}, {} ", pr.phrase, course);
    t += pr.outcome == Outcome::kResolved   ? "This has resolved. "
         : pr.outcome == Outcome::kImproved ? "This has improved. "
                                            : "This is stable. ";
  }
  std::vector<std::string> changes;
  for (const DischargeMed& m : s.discharge_meds) {
    if (m.change == MedChange::kNew)
      changes.push_back(fmt::format("start {} {} {}", m.drug->name, m.dose, m.frequency));
    else if (m.change == MedChange::kChanged)
      changes.push_back(fmt::format("change {} to {} {}", m.drug->name, m.dose, m.frequency));
    else if (m.change == MedChange::kStopped)
      changes.push_back(fmt::format("stop {}", m.drug->name));
  }
  if (!changes.empty()) {
    t += "Medication changes: ";
    for (size_t k = 0; k < changes.size(); ++k) t += (k ? ", " : "") + changes[k];
    t += ". ";
  }
  for (const FollowUp& f : s.follow_up)
    t += fmt::format("Follow up with {} within {} days. ", f.with, f.within_days);
  t += rng.Bernoulli(0.5) ? "Discharged " + s.disposition + ". End of dictation."
                          : "Discharge to " + s.disposition + ". Thank you.";
  note.text = std::move(t);
  return note;
}

}  // namespace medscribe::synth
