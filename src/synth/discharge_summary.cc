#include "synth/discharge_summary.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace medscribe::synth {
namespace {

std::string Cap(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}
std::string Lower1(std::string s) {
  // Lower-cases the first letter unless it starts an acronym ("EGD", "WBC").
  if (s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) &&
      !std::isupper(static_cast<unsigned char>(s[1])))
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}
std::string DateUs(const Date& d) {
  return fmt::format("{:02d}/{:02d}/{:04d}", d.month, d.day, d.year);
}

std::string OutcomeSentence(const StayProblem& pr, Rng& rng) {
  switch (pr.outcome) {
    case Outcome::kResolved: {
      constexpr const char* k[] = {"Resolved.", "Resolved by discharge.", "Now resolved."};
      return rng.Pick(k);
    }
    case Outcome::kImproved: {
      constexpr const char* k[] = {"Improved.", "Improving at discharge.", "Clinically improved."};
      return rng.Pick(k);
    }
    case Outcome::kStable: {
      constexpr const char* k[] = {"Stable.", "Remained stable.", "Stable at discharge."};
      return rng.Pick(k);
    }
  }
  return "";
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? std::string(sep) : "") + v[i];
  return out;
}

}  // namespace

const std::vector<std::string_view>& DischargeSections() {
  static const std::vector<std::string_view> kSections = {
      "ADMISSION DIAGNOSIS", "HOSPITAL COURSE",        "PROCEDURES",
      "CONSULTATIONS",       "DISCHARGE DIAGNOSES",    "DISCHARGE MEDICATIONS",
      "ALLERGIES",           "CONDITION AT DISCHARGE", "DISPOSITION",
      "FOLLOW-UP",           "PENDING RESULTS"};
  return kSections;
}

std::string MedicationLine(const DischargeMed& m) {
  if (m.change == MedChange::kStopped) return std::string(m.drug->name);
  std::string line = fmt::format("{} {} {} {}", m.drug->name, m.dose, m.route, m.frequency);
  if (m.days_left > 0)
    line += fmt::format(" for {} more day{}", m.days_left, m.days_left > 1 ? "s" : "");
  return line;
}

DischargeSummary ComposeDischargeSummary(const Stay& s, const Patient& p,
                                         const std::vector<Clinician>& clinicians, Rng& rng) {
  DischargeSummary out;
  auto plant = [&](const std::string& v) {
    if (std::find(out.phi.begin(), out.phi.end(), v) == out.phi.end()) out.phi.push_back(v);
    return v;
  };
  const Clinician& attending = clinicians[static_cast<size_t>(s.attending)];
  const int age = AgeInYears(p.birth_date, s.admitted.date);
  const bool she = p.sex == 'F';
  std::string t = "DISCHARGE SUMMARY\n";
  t += fmt::format("Patient: {}  MRN: {}\n", plant(p.FullName()), plant(p.mrn));
  t += fmt::format("Admission date: {}  Discharge date: {}\n", plant(DateUs(s.admitted.date)),
                   plant(DateUs(s.discharged.date)));
  t += fmt::format("Attending: {}\n\n", plant(attending.Display()));

  const StayProblem& principal = s.problems.front();
  t += "ADMISSION DIAGNOSIS:\n" + Cap(principal.phrase) + ".\n\n";

  t += "HOSPITAL COURSE:\n";
  std::vector<std::string> chronic;
  for (const StayProblem& pr : s.problems)
    if (!pr.acute) chronic.push_back(pr.phrase);
  const std::string who = fmt::format("{}-year-old {}", age, she ? "woman" : "man");
  if (rng.Bernoulli(0.5)) {
    const bool eight = who[0] == '8' || who.rfind("11-", 0) == 0 || who.rfind("18-", 0) == 0;
    t += fmt::format("{} {}{} who presented with {} and was admitted for {}.\n",
                     rng.Bernoulli(0.5) ? (eight ? "An" : "A") : "This", who,
                     chronic.empty() ? "" : " with " + Join(chronic, ", "), s.chief_complaint,
                     principal.phrase);
  } else {
    t += fmt::format("The patient is a {}{} admitted with {} and found to have {}.\n", who,
                     chronic.empty() ? "" : " with a history of " + Join(chronic, ", "),
                     s.chief_complaint, principal.phrase);
  }
  // A problem-oriented course: one numbered paragraph per problem.
  const bool dash = rng.Bernoulli(0.4);
  for (size_t i = 0; i < s.problems.size(); ++i) {
    const StayProblem& pr = s.problems[i];
    std::string course = pr.course;
    if (!pr.acute && rng.Bernoulli(0.5)) course = "Chronic, " + Lower1(course);
    t += fmt::format("{}. {}{} {} {}\n", i + 1, Cap(pr.phrase), dash ? " -" : ":", course,
                     OutcomeSentence(pr, rng));
  }
  t += "\n";

  t += "PROCEDURES:\n";
  if (s.procedures.empty() && s.imaging.empty()) t += "None.\n";
  for (const StayProcedure& pr : s.procedures)
    t += fmt::format("- {} ({}): {}\n", Cap(pr.phrase),
                     plant(DateUs(AddDays(s.admitted.date, pr.day))), pr.result);
  for (const Imaging& im : s.imaging)
    t += fmt::format("- {} ({}): {}\n", im.title, plant(DateUs(AddDays(s.admitted.date, im.day))),
                     im.impression);
  t += "\n";

  t += "CONSULTATIONS:\n";
  if (s.consults.empty()) t += "None.\n";
  for (const Consult& c : s.consults)
    t += fmt::format("- {} ({}): {}\n", Cap(c.specialty),
                     plant(clinicians[static_cast<size_t>(c.consultant)].Display()),
                     c.recommendation);
  t += "\n";

  t += "DISCHARGE DIAGNOSES:\n";
  for (size_t i = 0; i < s.problems.size(); ++i) {
    const StayProblem& pr = s.problems[i];
    t += fmt::format(
        "{}. {}{}\n", i + 1, Cap(pr.phrase),
        pr.principal ? (rng.Bernoulli(0.5) ? " (principal)" : ", principal diagnosis") : "");
  }
  t += "\n";

  // Medications: grouped by change (style 0) or one list with the change marked (style 1).
  t += "DISCHARGE MEDICATIONS:\n";
  auto why = [](const DischargeMed& m) {
    std::string w;
    if (m.change == MedChange::kChanged) w = "previously " + m.previous;
    if (!m.reason.empty()) w += (w.empty() ? "" : "; ") + m.reason;
    return w;
  };
  if (rng.Bernoulli(0.5)) {
    constexpr MedChange kOrder[] = {MedChange::kNew, MedChange::kChanged, MedChange::kContinued,
                                    MedChange::kStopped};
    constexpr const char* kHead[] = {"START", "CHANGE", "CONTINUE", "STOP"};
    for (int g = 0; g < 4; ++g) {
      std::vector<std::string> lines;
      for (const DischargeMed& m : s.discharge_meds) {
        if (m.change != kOrder[g]) continue;
        const std::string w = m.change == MedChange::kContinued ? "" : why(m);
        lines.push_back("- " + MedicationLine(m) + (w.empty() ? "" : " (" + w + ")"));
      }
      if (lines.empty()) continue;
      t += std::string(kHead[g]) + ":\n" + Join(lines, "\n") + "\n";
    }
  } else {
    constexpr const char* kMark[] = {"NEW", "CHANGED", "CONTINUED", "STOPPED"};
    for (const DischargeMed& m : s.discharge_meds) {
      const std::string w = m.change == MedChange::kContinued ? "" : why(m);
      t += fmt::format("- {} [{}{}]\n", MedicationLine(m), kMark[static_cast<int>(m.change)],
                       w.empty() ? "" : ": " + w);
    }
  }
  if (s.discharge_meds.empty()) t += "None.\n";
  t += "\n";

  t += "ALLERGIES:\n";
  if (s.allergies.empty()) t += rng.Bernoulli(0.5) ? "No known drug allergies.\n" : "NKDA.\n";
  for (const Allergy& a : s.allergies) t += fmt::format("{} ({}).\n", Cap(a.substance), a.reaction);
  t += "\n";

  t += "CONDITION AT DISCHARGE:\n" + Cap(s.condition) + ".\n\n";
  t += "DISPOSITION:\n" + Cap(s.disposition) + ".\n\n";

  t += "FOLLOW-UP:\n";
  for (const FollowUp& f : s.follow_up) {
    const std::string when = f.within_days % 7 == 0 && f.within_days >= 14
                                 ? fmt::format("{} weeks", f.within_days / 7)
                                 : fmt::format("{} days", f.within_days);
    t += fmt::format("- {} within {}{}\n", Cap(f.with), when,
                     f.purpose.empty() ? "" : ": " + f.purpose);
  }
  t += "\n";

  t += "PENDING RESULTS:\n";
  if (s.pending.empty()) t += "None.\n";
  for (const Pending& pe : s.pending)
    t += fmt::format("- {} (collected {}), to be reviewed at follow-up.\n", Cap(pe.test),
                     plant(DateUs(AddDays(s.admitted.date, pe.day))));
  t += fmt::format("\nElectronically signed by {}\n", attending.Display());
  out.text = std::move(t);
  return out;
}

}  // namespace medscribe::synth
