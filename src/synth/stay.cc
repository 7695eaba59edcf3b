#include "synth/stay.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include <fmt/format.h>

namespace medscribe::synth {
namespace {

double LogNormal(Rng& rng, double median, double sigma) {
  return median * std::exp(rng.Normal(0, sigma));
}

// How an acute problem moves an analyte: from `admit` (drawn per stay) toward `goal` over the
// stay, at the pace the outcome allows.
struct Effect {
  std::string_view lab;
  double admit;
  double goal;
};

}  // namespace

DateTime Stay::DayTime(int day, int hour, int minute) const {
  return DateTime{AddDays(admitted.date, day), hour, minute, 0};
}

namespace {

const LabSpec* StayLab(std::string_view key) {
  for (const LabSpec& s : StayLabSpecs())
    if (s.key == key) return &s;
  return nullptr;
}

char FlagOf(const LabSpec& s, double v) { return v > s.high ? 'H' : v < s.low ? 'L' : 'N'; }

double RoundTo(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

std::string FormatValue(const LabSpec& s, double v) {
  return fmt::format("{:.{}f}", v, s.decimals);
}

// The analytes' resting values for this patient.
double Baseline(std::string_view key, const std::vector<Problem>& history, Rng& rng) {
  if (key == "wbc") return rng.Normal(7.2, 1.3);
  if (key == "hemoglobin") return rng.Normal(13.4, 1.0);
  if (key == "platelets") return rng.Normal(245, 45);
  if (key == "sodium") return rng.Normal(139, 1.8);
  if (key == "potassium") return rng.Normal(4.2, 0.25);
  if (key == "bicarbonate") return rng.Normal(25, 1.5);
  if (key == "creatinine")
    return HasProblem(history, Chronic::kKidneyDisease) ? rng.Uniform(1.6, 2.4)
                                                        : std::max(0.6, rng.Normal(0.95, 0.15));
  if (key == "glucose")
    return HasProblem(history, Chronic::kDiabetes) ? rng.Uniform(130, 190) : rng.Normal(100, 10);
  if (key == "crp") return LogNormal(rng, 3, 0.5);
  if (key == "bnp")
    return HasProblem(history, Chronic::kHeartFailure) ? LogNormal(rng, 300, 0.3)
                                                       : LogNormal(rng, 60, 0.4);
  if (key == "troponin") return rng.Uniform(0.0, 0.02);
  if (key == "lactate") return rng.Normal(1.2, 0.25);
  if (key == "hba1c")
    return HasProblem(history, Chronic::kDiabetes) ? rng.Uniform(6.8, 8.5) : rng.Normal(5.3, 0.2);
  if (key == "heart_rate") return rng.Normal(78, 7);
  if (key == "temperature") return rng.Normal(36.8, 0.2);
  if (key == "spo2") return HasProblem(history, Chronic::kCopd) ? rng.Normal(93.5, 1) : 97.5;
  if (key == "resp_rate") return rng.Normal(16, 1.2);
  if (key == "systolic_bp") return rng.Normal(128, 9);
  return 0;
}

// The effects of an acute problem on the analytes, drawn for this stay.
std::vector<Effect> EffectsOf(Acute a, const std::function<double(std::string_view)>& base,
                              Rng& rng) {
  switch (a) {
    case Acute::kPneumonia:
      return {{"wbc", rng.Normal(15.5, 2.5), base("wbc")},
              {"crp", LogNormal(rng, 120, 0.4), base("crp") * 2},
              {"temperature", rng.Uniform(38.3, 39.4), base("temperature")},
              {"spo2", rng.Uniform(86, 92), base("spo2")},
              {"resp_rate", rng.Uniform(22, 28), base("resp_rate")},
              {"lactate", rng.Uniform(2.2, 3.4), base("lactate")}};
    case Acute::kHeartFailure:
      return {{"bnp", LogNormal(rng, 1500, 0.4), LogNormal(rng, 450, 0.3)},
              {"spo2", rng.Uniform(87, 92), base("spo2")},
              {"resp_rate", rng.Uniform(22, 26), base("resp_rate")},
              {"troponin", rng.Uniform(0.03, 0.08), rng.Uniform(0.02, 0.05)}};
    case Acute::kCopdExacerbation:
      return {{"spo2", rng.Uniform(84, 89), std::max(92.0, base("spo2"))},
              {"resp_rate", rng.Uniform(24, 30), base("resp_rate")},
              {"wbc", rng.Normal(11.8, 1.2), base("wbc") + 1.5}};
    case Acute::kKidneyInjury:
      // KDIGO: at least 1.5 times the baseline; above the reference range on admission.
      return {{"creatinine",
               std::max(base("creatinine") * rng.Uniform(2.0, 3.0), rng.Uniform(1.8, 2.4)),
               base("creatinine") * 1.1},
              {"potassium", rng.Uniform(5.3, 5.9), base("potassium")},
              {"bicarbonate", rng.Uniform(17, 20), base("bicarbonate")}};
    case Acute::kGiBleed:
      return {{"hemoglobin", rng.Uniform(6.4, 7.6), rng.Uniform(8.6, 9.8)},
              {"heart_rate", rng.Uniform(105, 122), base("heart_rate")},
              {"systolic_bp", rng.Uniform(88, 100), base("systolic_bp")}};
    case Acute::kCellulitis:
      return {{"wbc", rng.Normal(13.5, 1.8), base("wbc")},
              {"crp", LogNormal(rng, 80, 0.4), base("crp") * 2},
              {"temperature", rng.Uniform(38.1, 38.9), base("temperature")}};
    case Acute::kUrinaryInfection:
      return {{"wbc", rng.Normal(16.5, 2.5), base("wbc")},
              {"temperature", rng.Uniform(38.5, 39.6), base("temperature")},
              {"lactate", rng.Uniform(2.2, 3.6), base("lactate")},
              {"heart_rate", rng.Uniform(100, 118), base("heart_rate")}};
    case Acute::kAtrialFibrillation:
      return {{"heart_rate", rng.Uniform(128, 156), rng.Uniform(70, 88)},
              {"troponin", rng.Uniform(0.02, 0.06), base("troponin")}};
    case Acute::kHyperglycemia:
      return {{"glucose", rng.Uniform(380, 620), rng.Uniform(140, 190)},
              {"bicarbonate", rng.Uniform(9, 15), base("bicarbonate")},
              {"potassium", rng.Uniform(5.2, 5.9), base("potassium")},
              {"sodium", rng.Uniform(128, 133), base("sodium")}};
    case Acute::kHypokalemia:
      return {{"potassium", rng.Uniform(2.7, 3.2), rng.Uniform(3.8, 4.3)}};
  }
  return {};
}

// Builder state shared by the problem planners.
struct Planner {
  Stay& s;
  Rng& rng;
  const std::vector<Problem>& history;
  int clinicians;
  bool penicillin_allergy = false;

  MedOrder* Home(std::string_view key) {
    for (MedOrder& m : s.home_meds)
      if (m.drug->key == key) return &m;
    return nullptr;
  }
  DischargeMed* Out(std::string_view key) {
    for (DischargeMed& m : s.discharge_meds)
      if (m.drug->key == key) return &m;
    return nullptr;
  }
  void Give(std::string_view key, std::string dose, std::string route, std::string freq, int from,
            int to, int problem) {
    s.inpatient_meds.push_back(MedOrder{&DrugByKey(key), std::move(dose), std::move(route),
                                        std::move(freq), from, std::min(to, s.days), problem});
  }
  // A new discharge medication (or, when already on the list, its change).
  // The order begins on hospital day `from` (-1: the day before discharge).
  void Start(std::string_view key, std::string dose, std::string route, std::string freq,
             std::string reason, int days_left, int problem, int from = -1) {
    from = std::clamp(from < 0 ? s.days - 1 : from, 0, s.days - 1);
    if (DischargeMed* m = Out(key)) {
      if (m->change == MedChange::kContinued || m->change == MedChange::kStopped) {
        m->previous = m->dose + " " + m->frequency;
        m->change = MedChange::kChanged;
      }
      m->dose = std::move(dose), m->route = std::move(route), m->frequency = std::move(freq);
      m->reason = std::move(reason), m->days_left = days_left, m->problem = problem;
      m->start_day = from;
      return;
    }
    s.discharge_meds.push_back(DischargeMed{&DrugByKey(key), std::move(dose), std::move(route),
                                            std::move(freq), MedChange::kNew, "", std::move(reason),
                                            days_left, problem, from});
  }
  void Stop(std::string_view key, std::string reason, int problem) {
    if (DischargeMed* m = Out(key); m && m->change != MedChange::kNew) {
      m->change = MedChange::kStopped;
      m->previous = m->dose + " " + m->frequency;
      m->reason = std::move(reason);
      m->problem = problem;
    }
  }
  void Procedure(std::string cpt, std::string display, std::string phrase, int day,
                 std::string result, int problem) {
    s.procedures.push_back(StayProcedure{{std::string(kCpt), std::move(cpt), std::move(display)},
                                         std::move(phrase),
                                         std::min(day, s.days - 1),
                                         std::move(result),
                                         problem});
  }
  void ConsultOn(std::string specialty, int day, std::string recommendation, int problem) {
    int who = static_cast<int>(rng.UniformInt(0, clinicians - 1));
    if (who == s.attending) who = (who + 1) % clinicians;
    for (const Consult& c : s.consults)
      if (c.specialty == specialty) return;
    s.consults.push_back(Consult{std::move(specialty), std::min(day, s.days - 1), who,
                                 std::move(recommendation), problem});
  }
  void Image(std::string cpt, std::string display, std::string title, int day,
             std::string impression, int problem) {
    s.imaging.push_back(Imaging{{std::string(kCpt), std::move(cpt), std::move(display)},
                                std::move(title),
                                std::min(day, s.days - 1),
                                std::move(impression),
                                problem});
  }
  void FollowUpWith(std::string with, int days, std::string purpose) {
    for (FollowUp& f : s.follow_up) {
      if (f.with == with) {
        f.within_days = std::min(f.within_days, days);
        if (!purpose.empty() && f.purpose.find(purpose) == std::string::npos)
          f.purpose += (f.purpose.empty() ? "" : "; ") + purpose;
        return;
      }
    }
    s.follow_up.push_back(FollowUp{std::move(with), days, std::move(purpose)});
  }
  void PendingTest(std::string test, std::string loinc, std::string display, int day,
                   std::string interim) {
    for (const Pending& p : s.pending)
      if (p.test == test) return;
    s.pending.push_back(Pending{std::move(test),
                                {std::string(kLoinc), std::move(loinc), std::move(display)},
                                day,
                                std::move(interim)});
  }
  // Inpatient days of a first-line course before the switch to oral (at least one, and the day
  // before discharge at the latest).
  int IvDays(int lo, int hi) {
    return std::clamp(static_cast<int>(rng.UniformInt(lo, hi)), 1, std::max(1, s.days - 1));
  }
};

std::string Side(Rng& rng) { return rng.Bernoulli(0.55) ? "right" : "left"; }

// Plans the treatment of acute problem `i`; returns its course's treatment clause.
std::string PlanAcute(Planner& pl, int i) {
  Stay& s = pl.s;
  Rng& rng = pl.rng;
  const Acute a = s.problems[static_cast<size_t>(i)].kind;
  switch (a) {
    case Acute::kPneumonia: {
      const int iv = pl.IvDays(2, 3);
      const int total = static_cast<int>(rng.UniformInt(5, 7));
      const std::string side = Side(rng);
      const std::string lobe = rng.Bernoulli(0.7) ? "lower" : "middle";
      const std::string where =
          side == "left" && lobe == "middle" ? "left lingular" : side + " " + lobe + " lobe";
      pl.Image("71046", "Radiologic examination, chest; 2 views", "XR Chest 2 views", 0,
               fmt::format("Consolidation in the {}, consistent with pneumonia.", where), i);
      if (rng.Bernoulli(0.4))
        pl.PendingTest("blood cultures", "600-7", "Bacteria identified in Blood by Culture", 0,
                       "No growth to date");
      pl.FollowUpWith("primary care", 7,
                      rng.Bernoulli(0.5) ? "repeat chest radiograph in 6 weeks" : "");
      if (pl.penicillin_allergy) {
        pl.Give("levofloxacin", "750 mg", "intravenous", "daily", 0, iv - 1, i);
        pl.Start("levofloxacin", "750 mg", "oral", "daily", "pneumonia", std::max(1, total - iv), i,
                 iv);
        return fmt::format(
            "{} pneumonia on chest radiograph; treated with intravenous levofloxacin (penicillin "
            "allergy) for {} days, then oral levofloxacin to complete {} days",
            where, iv, total);
      }
      pl.Give("ceftriaxone", "1 g", "intravenous", "daily", 0, iv - 1, i);
      pl.Give("azithromycin", "500 mg", "intravenous", "daily", 0, std::min(iv, 3) - 1, i);
      pl.Start("amoxicillin", "1 g", "oral", "three times daily", "pneumonia",
               std::max(1, total - iv), i, iv);
      return fmt::format(
          "{} pneumonia on chest radiograph; treated with intravenous ceftriaxone and azithromycin "
          "for {} days, then oral amoxicillin to complete {} days",
          where, iv, total);
    }
    case Acute::kHeartFailure: {
      const int iv = std::max(1, s.days - 1);
      pl.Give("furosemide", "40 mg", "intravenous", "twice daily", 0, iv - 1, i);
      pl.Image("71046", "Radiologic examination, chest; 2 views", "XR Chest 2 views", 0,
               "Pulmonary vascular congestion with small bilateral pleural effusions.", i);
      const int ef = static_cast<int>(rng.UniformInt(4, 8)) * 5;
      pl.Procedure("93306",
                   "Echocardiography, transthoracic, real-time with image documentation (2D), "
                   "complete, with spectral Doppler and color flow Doppler",
                   "transthoracic echocardiogram", 1,
                   fmt::format("Left ventricular ejection fraction {} to {}%.", ef, ef + 5), i);
      if (rng.Bernoulli(0.6))
        pl.ConsultOn("cardiology", 1, "Diuresis to euvolemia; titrate guideline therapy.", i);
      std::string change;
      if (const MedOrder* home = pl.Home("furosemide")) {
        const std::string dose = home->dose == "20 mg" ? "40 mg" : "80 mg";
        pl.Start("furosemide", dose, "oral", "daily", "volume overload", 0, i);
        change = fmt::format("home furosemide increased from {} to {} daily", home->dose, dose);
      } else {
        pl.Start("furosemide", "40 mg", "oral", "daily", "volume overload", 0, i);
        change = "oral furosemide 40 mg daily started";
      }
      pl.FollowUpWith("cardiology", static_cast<int>(rng.UniformInt(7, 14)),
                      "heart failure follow-up");
      pl.FollowUpWith("primary care", 7, "repeat basic metabolic panel");
      return fmt::format(
          "diuresed with intravenous furosemide for {} days; echocardiogram ejection fraction {} "
          "to {}%; {}",
          iv, ef, ef + 5, change);
    }
    case Acute::kCopdExacerbation: {
      const int steroid_iv = pl.IvDays(1, 2);
      const int total = 5;
      pl.Give("methylprednisolone", "40 mg", "intravenous", "every 12 hours", 0, steroid_iv - 1, i);
      pl.Give("albuterol", "2.5 mg", "inhaled", "every 4 hours", 0, s.days - 1, i);
      pl.Give("azithromycin", "500 mg", "oral", "daily", 0, 2, i);
      pl.Image("71046", "Radiologic examination, chest; 2 views", "XR Chest 2 views", 0,
               "Hyperinflation without focal consolidation.", i);
      pl.Start("prednisone", "40 mg", "oral", "daily", "COPD exacerbation",
               std::max(1, total - steroid_iv), i, steroid_iv);
      std::string extra;
      if (!pl.Home("tiotropium")) {
        pl.Start("tiotropium", "18 mcg", "inhaled", "daily", "COPD maintenance", 0, i);
        extra = "; tiotropium started for maintenance";
      }
      if (!pl.Out("albuterol"))
        pl.Start("albuterol", "90 mcg 2 puffs", "inhaled", "every 4 hours as needed",
                 "rescue inhaler", 0, i);
      if (rng.Bernoulli(0.3))
        pl.ConsultOn("pulmonology", 1, "Steroid taper not needed; outpatient spirometry.", i);
      pl.FollowUpWith("pulmonology", static_cast<int>(rng.UniformInt(14, 28)), "COPD follow-up");
      return fmt::format(
          "treated with intravenous methylprednisolone, nebulized albuterol and azithromycin, then "
          "oral prednisone to complete {} days{}",
          total, extra);
    }
    case Acute::kKidneyInjury: {
      pl.Give("sodium_chloride", "100 mL/h", "intravenous", "continuous", 0, 1, i);
      pl.Image("76770", "Ultrasound, retroperitoneal, real time with image documentation; complete",
               "US Renal", 1, "Normal-sized kidneys without hydronephrosis.", i);
      std::vector<std::string> held;
      for (const char* key : {"lisinopril", "metformin"}) {
        if (pl.Home(key)) {
          pl.Stop(key, "acute kidney injury", i);
          held.push_back(key);
        }
      }
      if (rng.Bernoulli(0.3))
        pl.ConsultOn("nephrology", 1, "Volume repletion; avoid nephrotoxins.", i);
      pl.FollowUpWith("primary care", static_cast<int>(rng.UniformInt(3, 5)),
                      "repeat basic metabolic panel");
      std::string h;
      for (size_t k = 0; k < held.size(); ++k) h += (k ? " and " : "") + held[k];
      return fmt::format(
          "treated with intravenous fluids; renal ultrasound without "
          "hydronephrosis{}",
          held.empty() ? "" : "; " + h + " stopped");
    }
    case Acute::kGiBleed: {
      const int iv = pl.IvDays(2, 3);
      const int units = static_cast<int>(rng.UniformInt(1, 2));
      pl.Give("pantoprazole", "40 mg", "intravenous", "twice daily", 0, iv - 1, i);
      pl.Procedure("36430", "Transfusion, blood or blood components", "transfusion", 0,
                   fmt::format("{} unit{} of packed red blood cells.", units, units > 1 ? "s" : ""),
                   i);
      pl.Procedure("43239",
                   "Esophagogastroduodenoscopy, flexible, transoral; with biopsy, single or "
                   "multiple",
                   "esophagogastroduodenoscopy with biopsy", 1,
                   "Non-bleeding gastric ulcer with a clean base; biopsies taken.", i);
      pl.ConsultOn("gastroenterology", 0, "EGD; twice-daily proton pump inhibitor for 8 weeks.", i);
      pl.PendingTest("gastric biopsy pathology", "11526-1", "Pathology study", 1, "");
      pl.Start("pantoprazole", "40 mg", "oral", "twice daily", "gastric ulcer", 0, i, iv);
      std::string stopped;
      for (const char* key : {"aspirin", "apixaban", "omeprazole"}) {
        if (pl.Home(key)) {
          pl.Stop(key,
                  std::string(key) == "omeprazole" ? "replaced by pantoprazole"
                                                   : "gastrointestinal bleeding",
                  i);
          stopped += (stopped.empty() ? "" : " and ") + std::string(key);
        }
      }
      pl.FollowUpWith("gastroenterology", 7 * static_cast<int>(rng.UniformInt(4, 8)),
                      "biopsy results and repeat endoscopy");
      pl.FollowUpWith("primary care", 7, "complete blood count within 1 week");
      return fmt::format(
          "transfused {} unit{} of packed red cells; EGD showed a non-bleeding gastric ulcer, "
          "biopsied; intravenous then oral pantoprazole{}",
          units, units > 1 ? "s" : "", stopped.empty() ? "" : "; " + stopped + " stopped");
    }
    case Acute::kCellulitis: {
      const int iv = pl.IvDays(2, 3);
      const int total = static_cast<int>(rng.UniformInt(7, 10));
      const std::string side = Side(rng);
      s.problems[static_cast<size_t>(i)].phrase = "cellulitis of the " + side + " lower leg";
      s.problems[static_cast<size_t>(i)].code = {
          std::string(kIcd10Cm), side == "right" ? "L03.115" : "L03.116",
          side == "right" ? "Cellulitis of right lower limb" : "Cellulitis of left lower limb"};
      if (rng.Bernoulli(0.5))
        pl.Image("93971",
                 "Duplex scan of extremity veins including responses to compression and other "
                 "maneuvers; unilateral or limited study",
                 "US Venous " + side + " lower extremity", 0, "No deep venous thrombosis.", i);
      pl.FollowUpWith("primary care", static_cast<int>(rng.UniformInt(5, 7)), "wound check");
      if (pl.penicillin_allergy) {
        pl.Give("vancomycin", "1 g", "intravenous", "every 12 hours", 0, iv - 1, i);
        pl.Start("doxycycline", "100 mg", "oral", "twice daily", "cellulitis",
                 std::max(1, total - iv), i, iv);
        return fmt::format(
            "treated with intravenous vancomycin (penicillin allergy) for {} days, then oral "
            "doxycycline to complete {} days",
            iv, total);
      }
      pl.Give("cefazolin", "2 g", "intravenous", "every 8 hours", 0, iv - 1, i);
      pl.Start("cephalexin", "500 mg", "oral", "four times daily", "cellulitis",
               std::max(1, total - iv), i, iv);
      return fmt::format(
          "treated with intravenous cefazolin for {} days, then oral cephalexin to complete {} "
          "days",
          iv, total);
    }
    case Acute::kUrinaryInfection: {
      const int iv = pl.IvDays(2, 3);
      const int total = static_cast<int>(rng.UniformInt(7, 10));
      if (pl.penicillin_allergy)
        pl.Give("ciprofloxacin", "400 mg", "intravenous", "every 12 hours", 0, iv - 1, i);
      else
        pl.Give("ceftriaxone", "1 g", "intravenous", "daily", 0, iv - 1, i);
      pl.Start("ciprofloxacin", "500 mg", "oral", "twice daily", "pyelonephritis",
               std::max(1, total - iv), i, iv);
      const bool pending = rng.Bernoulli(0.35);
      if (pending)
        pl.PendingTest("urine culture susceptibilities", "630-4",
                       "Bacteria identified in Urine by Culture", 0,
                       "Escherichia coli, more than 100,000 CFU/mL; susceptibilities to follow");
      pl.FollowUpWith("primary care", 7, pending ? "review final urine culture" : "");
      return fmt::format(
          "treated with intravenous {} for {} days, then oral ciprofloxacin to complete {} days",
          pl.penicillin_allergy ? "ciprofloxacin (penicillin allergy)" : "ceftriaxone", iv, total);
    }
    case Acute::kAtrialFibrillation: {
      pl.Give("diltiazem", "10 mg", "intravenous", "once", 0, 0, i);
      std::string rate;
      if (const MedOrder* home = pl.Home("metoprolol")) {
        const std::string dose = home->dose == "25 mg" ? "50 mg" : "100 mg";
        pl.Start("metoprolol", dose, "oral", "daily", "rate control", 0, i, 0);
        rate = fmt::format("home metoprolol increased from {} to {} daily", home->dose, dose);
      } else {
        pl.Start("metoprolol", "25 mg", "oral", "daily", "rate control", 0, i, 0);
        rate = "metoprolol 25 mg daily started";
      }
      std::string anticoag;
      if (!pl.Home("apixaban")) {
        pl.Start("apixaban", "5 mg", "oral", "twice daily", "stroke prevention", 0, i);
        anticoag = "; apixaban started for stroke prevention";
      }
      if (rng.Bernoulli(0.5)) {
        const int ef = static_cast<int>(rng.UniformInt(10, 12)) * 5;
        pl.Procedure("93306",
                     "Echocardiography, transthoracic, real-time with image documentation (2D), "
                     "complete, with spectral Doppler and color flow Doppler",
                     "transthoracic echocardiogram", 1,
                     fmt::format("Left ventricular ejection fraction {} to {}%; mildly dilated "
                                 "left atrium.",
                                 ef, ef + 5),
                     i);
      }
      if (rng.Bernoulli(0.5)) pl.ConsultOn("cardiology", 0, "Rate control; anticoagulation.", i);
      pl.FollowUpWith("cardiology", static_cast<int>(rng.UniformInt(7, 14)),
                      "atrial fibrillation follow-up");
      return fmt::format("rate controlled with intravenous diltiazem, then oral metoprolol; {}{}",
                         rate, anticoag);
    }
    case Acute::kHyperglycemia: {
      pl.Give("insulin_regular", "0.1 units/kg/h", "intravenous", "continuous", 0, 1, i);
      pl.Give("sodium_chloride", "250 mL/h", "intravenous", "continuous", 0, 1, i);
      pl.Give("insulin_lispro", "4 units", "subcutaneous", "with meals by sliding scale", 1,
              s.days - 1, i);
      const int units = static_cast<int>(rng.UniformInt(3, 6)) * 4;
      pl.Start("insulin_glargine", fmt::format("{} units", units), "subcutaneous", "nightly",
               "diabetic ketoacidosis", 0, i, 1);
      if (rng.Bernoulli(0.6))
        pl.ConsultOn("endocrinology", 1, "Basal insulin; diabetes education.", i);
      pl.FollowUpWith("endocrinology", 14, "insulin titration");
      return fmt::format(
          "treated with an insulin infusion and intravenous fluids until the anion gap closed, "
          "then subcutaneous insulin; insulin glargine {} units nightly at discharge",
          units);
    }
    case Acute::kHypokalemia: {
      const int days = pl.IvDays(1, 2);
      pl.Give("potassium_chloride", "40 mEq", "oral", "daily", 0, days - 1, i);
      if (pl.Out("furosemide") && rng.Bernoulli(0.6)) {
        pl.Start("potassium_chloride", "20 mEq", "oral", "daily", "low potassium on furosemide", 0,
                 i);
        pl.FollowUpWith("primary care", 7, "repeat potassium within 1 week");
        return "repleted with oral potassium chloride; potassium chloride 20 mEq daily started "
               "with furosemide";
      }
      return "repleted with oral potassium chloride";
    }
  }
  return "";
}

void AddHomeMeds(Planner& pl) {
  Stay& s = pl.s;
  Rng& rng = pl.rng;
  auto home = [&](std::string_view key, std::string dose, std::string route, std::string freq) {
    if (pl.Home(key)) return;
    s.home_meds.push_back(
        MedOrder{&DrugByKey(key), std::move(dose), std::move(route), std::move(freq), -1, -1, -1});
  };
  const auto& h = pl.history;
  if (HasProblem(h, Chronic::kHypertension)) {
    if (rng.Bernoulli(0.6))
      home("lisinopril", rng.Bernoulli(0.5) ? "10 mg" : "20 mg", "oral", "daily");
    else
      home("amlodipine", rng.Bernoulli(0.5) ? "5 mg" : "10 mg", "oral", "daily");
  }
  if (HasProblem(h, Chronic::kDiabetes)) {
    home("metformin", rng.Bernoulli(0.5) ? "500 mg" : "1000 mg", "oral", "twice daily");
    if (rng.Bernoulli(0.3))
      home("insulin_glargine", fmt::format("{} units", rng.UniformInt(2, 6) * 5), "subcutaneous",
           "nightly");
  }
  if (HasProblem(h, Chronic::kHeartFailure)) {
    home("furosemide", rng.Bernoulli(0.5) ? "20 mg" : "40 mg", "oral", "daily");
    home("carvedilol", rng.Bernoulli(0.5) ? "6.25 mg" : "12.5 mg", "oral", "twice daily");
  }
  if (HasProblem(h, Chronic::kCoronaryDisease)) {
    home("aspirin", "81 mg", "oral", "daily");
    home("atorvastatin", rng.Bernoulli(0.5) ? "40 mg" : "80 mg", "oral", "daily");
  }
  if (HasProblem(h, Chronic::kAtrialFibrillation)) {
    home("apixaban", "5 mg", "oral", "twice daily");
    home("metoprolol", rng.Bernoulli(0.5) ? "25 mg" : "50 mg", "oral", "daily");
  }
  if (HasProblem(h, Chronic::kCopd)) {
    home("tiotropium", "18 mcg", "inhaled", "daily");
    home("albuterol", "90 mcg 2 puffs", "inhaled", "every 4 hours as needed");
  }
  if (HasProblem(h, Chronic::kAsthma))
    home("albuterol", "90 mcg 2 puffs", "inhaled", "every 4 hours as needed");
  if (HasProblem(h, Chronic::kBreastCancer)) home("tamoxifen", "20 mg", "oral", "daily");
  if (rng.Bernoulli(0.2)) home("omeprazole", "20 mg", "oral", "daily");
  for (const MedOrder& m : s.home_meds) {
    s.discharge_meds.push_back(DischargeMed{m.drug, m.dose, m.route, m.frequency,
                                            MedChange::kContinued, "", "", 0, -1, -1});
  }
}

Acute PickPrincipal(const std::vector<Problem>& h, Rng& rng) {
  double w[kNumAcute] = {0.24, 0.14, 0.10, 0.08, 0.09, 0.10, 0.10, 0.08, 0.07, 0};
  w[static_cast<int>(Acute::kHeartFailure)] *= HasProblem(h, Chronic::kHeartFailure) ? 3 : 0.4;
  w[static_cast<int>(Acute::kCopdExacerbation)] *= HasProblem(h, Chronic::kCopd) ? 4 : 0;
  w[static_cast<int>(Acute::kHyperglycemia)] *= HasProblem(h, Chronic::kDiabetes) ? 3 : 0;
  w[static_cast<int>(Acute::kAtrialFibrillation)] *=
      HasProblem(h, Chronic::kAtrialFibrillation) ? 3 : 0.5;
  return static_cast<Acute>(rng.Weighted(w));
}

std::vector<Acute> Secondaries(Acute principal) {
  switch (principal) {
    case Acute::kPneumonia:
      return {Acute::kKidneyInjury, Acute::kHypokalemia, Acute::kAtrialFibrillation};
    case Acute::kHeartFailure:
      return {Acute::kKidneyInjury, Acute::kHypokalemia, Acute::kAtrialFibrillation};
    case Acute::kCopdExacerbation:
      return {Acute::kPneumonia, Acute::kHypokalemia};
    case Acute::kKidneyInjury:
      return {Acute::kHypokalemia, Acute::kUrinaryInfection};
    case Acute::kGiBleed:
      return {Acute::kKidneyInjury};
    case Acute::kCellulitis:
      return {Acute::kKidneyInjury};
    case Acute::kUrinaryInfection:
      return {Acute::kKidneyInjury, Acute::kHypokalemia};
    case Acute::kAtrialFibrillation:
      return {Acute::kHeartFailure, Acute::kHypokalemia};
    case Acute::kHyperglycemia:
      return {Acute::kUrinaryInfection, Acute::kPneumonia, Acute::kKidneyInjury};
    case Acute::kHypokalemia:
      return {};
  }
  return {};
}

std::string_view ChiefComplaint(Acute a, Rng& rng) {
  switch (a) {
    case Acute::kPneumonia:
      return rng.Bernoulli(0.5) ? "fever and productive cough" : "cough and shortness of breath";
    case Acute::kHeartFailure:
      return rng.Bernoulli(0.5) ? "worsening shortness of breath and leg swelling"
                                : "orthopnea and weight gain";
    case Acute::kCopdExacerbation:
      return "increased shortness of breath and wheezing";
    case Acute::kKidneyInjury:
      return "poor oral intake and decreased urine output";
    case Acute::kGiBleed:
      return rng.Bernoulli(0.5) ? "black stools and dizziness" : "coffee-ground emesis";
    case Acute::kCellulitis:
      return "redness and swelling of the leg";
    case Acute::kUrinaryInfection:
      return "fever, flank pain and dysuria";
    case Acute::kAtrialFibrillation:
      return "palpitations";
    case Acute::kHyperglycemia:
      return "nausea, vomiting and polyuria";
    case Acute::kHypokalemia:
      return "weakness";
  }
  return "";
}

// Days of stay the problems ask for.
int LengthOfStay(Acute principal, int secondaries, Rng& rng) {
  constexpr int kLo[kNumAcute] = {3, 3, 3, 2, 2, 3, 3, 2, 2, 2};
  constexpr int kHi[kNumAcute] = {6, 7, 5, 5, 5, 6, 5, 4, 4, 3};
  int d = static_cast<int>(
      rng.UniformInt(kLo[static_cast<int>(principal)], kHi[static_cast<int>(principal)]));
  for (int k = 0; k < secondaries; ++k) d += static_cast<int>(rng.UniformInt(0, 2));
  if (rng.Bernoulli(0.05)) d += static_cast<int>(rng.UniformInt(3, 6));  // a complicated stay
  return std::clamp(d, 2, 14);
}

std::string ChronicCourse(const Stay& s, Chronic c) {
  // The home medications that treat it, and what happened to them.
  std::vector<std::string_view> keys;
  switch (c) {
    case Chronic::kHypertension:
      keys = {"lisinopril", "amlodipine"};
      break;
    case Chronic::kDiabetes:
      keys = {"metformin", "insulin_glargine"};
      break;
    case Chronic::kHeartFailure:
      keys = {"furosemide", "carvedilol"};
      break;
    case Chronic::kCoronaryDisease:
      keys = {"aspirin", "atorvastatin"};
      break;
    case Chronic::kAtrialFibrillation:
      keys = {"metoprolol", "apixaban"};
      break;
    case Chronic::kCopd:
    case Chronic::kAsthma:
      keys = {"tiotropium", "albuterol"};
      break;
    case Chronic::kBreastCancer:
      keys = {"tamoxifen"};
      break;
    default:
      break;
  }
  std::vector<std::string> continued, other;
  for (const DischargeMed& m : s.discharge_meds) {
    if (std::find(keys.begin(), keys.end(), m.drug->key) == keys.end()) continue;
    if (m.change == MedChange::kNew) continue;
    if (m.change == MedChange::kContinued)
      continued.push_back(std::string(m.drug->name));
    else if (m.change == MedChange::kStopped)
      other.push_back(fmt::format("{} stopped ({})", m.drug->name, m.reason));
    else
      other.push_back(fmt::format("{} changed to {} {}", m.drug->name, m.dose, m.frequency));
  }
  std::vector<std::string> parts;
  if (c == Chronic::kDiabetes)
    parts.push_back("covered with sliding-scale insulin lispro in hospital");
  if (!continued.empty()) {
    std::string home = "home ";
    for (size_t k = 0; k < continued.size(); ++k) home += (k ? " and " : "") + continued[k];
    parts.push_back(home + " continued");
  }
  parts.insert(parts.end(), other.begin(), other.end());
  if (parts.empty()) return "no active issues during the stay";
  std::string out;
  for (size_t k = 0; k < parts.size(); ++k) out += (k ? "; " : "") + parts[k];
  return out;
}

}  // namespace

Stay PlanStay(uint64_t seed, int index, int patient, const Patient& p, const Date& admission,
              const std::vector<Problem>& history, int clinicians,
              const std::vector<std::string>& voices) {
  Rng rng = Rng::Stream(seed, HashString("stay"), index);
  Stay s;
  s.index = index;
  s.id = fmt::format("stay-{:06d}", index + 1);
  s.patient = patient;
  s.attending = static_cast<int>(rng.UniformInt(0, clinicians - 1));
  // By 22:00, so that the admission day's labs, orders and note fall on it.
  s.admitted = DateTime{admission, static_cast<int>(rng.UniformInt(8, 21)),
                        static_cast<int>(rng.UniformInt(0, 59)), 0};

  const Acute principal = PickPrincipal(history, rng);
  std::vector<Acute> acute = {principal};
  const std::vector<Acute> options = Secondaries(principal);
  const int extra = options.empty() ? 0 : rng.Bernoulli(0.5) ? (rng.Bernoulli(0.25) ? 2 : 1) : 0;
  for (int k = 0; k < extra; ++k) {
    const Acute a = rng.Pick(options);
    if (std::find(acute.begin(), acute.end(), a) == acute.end()) acute.push_back(a);
  }
  // Hypokalemia with diuresis is planned last so that it sees the furosemide decision.
  std::stable_partition(acute.begin(), acute.end(),
                        [](Acute a) { return a != Acute::kHypokalemia; });
  s.days = LengthOfStay(principal, static_cast<int>(acute.size()) - 1, rng);
  s.discharged = s.DayTime(s.days, static_cast<int>(rng.UniformInt(10, 16)),
                           static_cast<int>(rng.UniformInt(0, 59)));
  s.chief_complaint = std::string(ChiefComplaint(principal, rng));

  // Allergies.
  const int allergy =
      static_cast<int>(rng.Weighted(std::vector<double>{0.55, 0.2, 0.1, 0.1, 0.05}));
  if (allergy == 1) s.allergies.push_back({"penicillin", "7980", "hives"});
  if (allergy == 2) s.allergies.push_back({"sulfamethoxazole", "10180", "rash"});
  if (allergy == 3) s.allergies.push_back({"codeine", "2670", "nausea"});
  if (allergy == 4) s.allergies.push_back({"morphine", "7052", "itching"});

  Planner pl{s, rng, history, clinicians, allergy == 1};
  AddHomeMeds(pl);

  // Problems: acute first (principal first), then the chronic ones the stay touches.
  for (Acute a : acute) {
    StayProblem pr;
    pr.acute = true;
    pr.kind = a;
    pr.principal = a == principal;
    pr.code = AcuteCode(a);
    pr.phrase = std::string(AcutePhrase(a));
    if (a == Acute::kHeartFailure && !HasProblem(history, Chronic::kHeartFailure)) {
      pr.code = {std::string(kIcd10Cm), "I50.21", "Acute systolic (congestive) heart failure"};
      pr.phrase = "acute systolic heart failure";
    }
    const double r = rng.Uniform();
    pr.outcome = a == Acute::kHypokalemia || r < 0.55 ? Outcome::kResolved
                 : r < 0.97                           ? Outcome::kImproved
                                                      : Outcome::kStable;
    if (a == Acute::kHeartFailure || a == Acute::kCopdExacerbation)
      pr.outcome = r < 0.9 ? Outcome::kImproved : Outcome::kStable;
    s.problems.push_back(std::move(pr));
  }
  int chronic_listed = 0;
  for (const Problem& h : history) {
    const Chronic c = h.condition;
    const bool covered =
        (c == Chronic::kHeartFailure &&
         std::find(acute.begin(), acute.end(), Acute::kHeartFailure) != acute.end()) ||
        (c == Chronic::kCopd &&
         std::find(acute.begin(), acute.end(), Acute::kCopdExacerbation) != acute.end()) ||
        (c == Chronic::kAtrialFibrillation &&
         std::find(acute.begin(), acute.end(), Acute::kAtrialFibrillation) != acute.end()) ||
        (c == Chronic::kDiabetes &&
         std::find(acute.begin(), acute.end(), Acute::kHyperglycemia) != acute.end()) ||
        c == Chronic::kFormerSmoker;
    if (covered || chronic_listed >= 4) continue;
    StayProblem pr;
    pr.acute = false;
    pr.chronic = c;
    pr.outcome = Outcome::kStable;
    pr.code = {std::string(kIcd10Cm), std::string(ChronicCode(c)), std::string(ChronicDisplay(c))};
    pr.phrase = std::string(ChronicPhrase(c));
    s.problems.push_back(std::move(pr));
    ++chronic_listed;
  }

  // Treatments (which also decide the discharge list), then the courses.
  std::vector<std::string> treatment(s.problems.size());
  for (size_t i = 0; i < s.problems.size(); ++i)
    if (s.problems[i].acute) treatment[i] = PlanAcute(pl, static_cast<int>(i));
  const bool anticoagulated = pl.Out("apixaban") || pl.Home("apixaban");
  const bool bleeding = std::find(acute.begin(), acute.end(), Acute::kGiBleed) != acute.end();
  if (!anticoagulated && !bleeding)
    pl.Give("enoxaparin", "40 mg", "subcutaneous", "daily", 0, s.days - 1, -1);
  if (HasProblem(history, Chronic::kDiabetes) &&
      std::find(acute.begin(), acute.end(), Acute::kHyperglycemia) == acute.end())
    pl.Give("insulin_lispro", "4 units", "subcutaneous", "with meals by sliding scale", 0,
            s.days - 1, -1);
  pl.Give("acetaminophen", "650 mg", "oral", "every 6 hours as needed", 0, s.days - 1, -1);

  // Labs and vital signs: each analyte's baseline, moved by the problem that moves it most.
  std::map<std::string, double, std::less<>> base;
  auto base_of = [&](std::string_view key) {
    auto it = base.find(key);
    if (it == base.end()) it = base.emplace(std::string(key), Baseline(key, history, rng)).first;
    return it->second;
  };
  struct Driver {
    Effect effect;
    Outcome outcome;
  };
  std::map<std::string, Driver, std::less<>> drivers;
  for (const StayProblem& pr : s.problems) {
    if (!pr.acute) continue;
    for (const Effect& e : EffectsOf(pr.kind, base_of, rng)) {
      const LabSpec* spec = StayLab(e.lab);
      const double width = spec->high - spec->low;
      auto it = drivers.find(e.lab);
      if (it == drivers.end() ||
          std::abs(e.admit - e.goal) / width >
              std::abs(it->second.effect.admit - it->second.effect.goal) / width)
        drivers.insert_or_assign(std::string(e.lab), Driver{e, pr.outcome});
    }
  }
  const std::vector<std::string_view> daily = {"wbc",       "hemoglobin",  "platelets",  "sodium",
                                               "potassium", "bicarbonate", "creatinine", "glucose"};
  const std::vector<std::string_view> vitals = {"heart_rate", "temperature", "spo2", "resp_rate",
                                                "systolic_bp"};
  auto series = [&](std::string_view key, const std::vector<int>& days) {
    const LabSpec* spec = StayLab(key);
    LabSeries out{spec, {}};
    const double b = base_of(key);
    auto it = drivers.find(key);
    // Recovery: the share of the distance to the goal left after the last day.
    const double left = it == drivers.end()                        ? 0
                        : it->second.outcome == Outcome::kResolved ? 0.05
                        : it->second.outcome == Outcome::kImproved ? 0.3
                                                                   : 0.8;
    const double rate = -std::log(left > 0 ? left : 1) / std::max(1, s.days);
    for (int d : days) {
      double v = b;
      if (it != drivers.end()) {
        const Effect& e = it->second.effect;
        v = e.goal + (e.admit - e.goal) * std::exp(-rate * d);
      }
      const double width = spec->high - spec->low;
      v += rng.Normal(0, (d == 0 && it != drivers.end() ? 0.0 : 0.04) * width);
      if (key == "spo2") v = std::min(v, 100.0);
      v = std::max(v, spec->low > 0 ? spec->low * 0.2 : 0.0);
      v = RoundTo(v, spec->decimals);
      out.points.push_back(LabPoint{d, v, FlagOf(*spec, v)});
    }
    return out;
  };
  std::vector<int> every, alternate;
  for (int d = 0; d <= s.days; ++d) every.push_back(d);
  for (int d = 0; d < s.days; d += 2) alternate.push_back(d);
  if (alternate.back() != s.days) alternate.push_back(s.days);
  for (std::string_view key : daily) s.labs.push_back(series(key, every));
  for (std::string_view key : {"crp", "bnp", "troponin", "lactate"}) {
    if (drivers.count(key))
      s.labs.push_back(series(key, key == "troponin"  ? std::vector<int>{0, 1}
                                   : key == "lactate" ? std::vector<int>{0, 1}
                                                      : alternate));
  }
  if (std::find(acute.begin(), acute.end(), Acute::kHyperglycemia) != acute.end()) {
    LabSeries a1c{StayLab("hba1c"), {}};
    const double v = RoundTo(rng.Uniform(9.5, 13.0), 1);
    a1c.points.push_back(LabPoint{0, v, 'H'});
    s.labs.push_back(a1c);
  }
  for (std::string_view key : vitals) s.vitals.push_back(series(key, every));

  // Courses: the treatment, then the trend of the analyte that followed the problem.
  auto trend = [&](std::string_view key) -> std::string {
    for (const std::vector<LabSeries>* v : {&s.labs, &s.vitals}) {
      for (const LabSeries& ls : *v) {
        if (ls.spec->key != key || ls.points.size() < 2) continue;
        const std::string name = key == "wbc"           ? "WBC"
                                 : key == "crp"         ? "CRP"
                                 : key == "bnp"         ? "BNP"
                                 : key == "spo2"        ? "oxygen saturation"
                                 : key == "heart_rate"  ? "heart rate"
                                 : key == "systolic_bp" ? "systolic blood pressure"
                                                        : std::string(key);
        return fmt::format("{} {} to {} {}", name, FormatValue(*ls.spec, ls.Worst().value),
                           FormatValue(*ls.spec, ls.Last().value), ls.spec->unit);
      }
    }
    return "";
  };
  for (size_t i = 0; i < s.problems.size(); ++i) {
    StayProblem& pr = s.problems[i];
    if (!pr.acute) {
      pr.course = ChronicCourse(s, pr.chronic);
      continue;
    }
    const std::string t = trend(KeyAnalyte(pr.kind));
    pr.course = treatment[i] + (t.empty() ? "" : "; " + t);
    pr.course[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(pr.course[0])));
    pr.course += ".";
  }
  for (StayProblem& pr : s.problems) {
    if (pr.acute) continue;
    pr.course[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(pr.course[0])));
    pr.course += ".";
  }

  // Disposition.
  const int age = AgeInYears(p.birth_date, admission);
  const double snf = age >= 80 ? 0.3 : 0.06;
  const double r = rng.Uniform();
  s.disposition = r < snf          ? "skilled nursing facility"
                  : r < snf + 0.15 ? "home with home health services"
                                   : "home";
  s.condition = s.disposition == "skilled nursing facility" ? "fair"
                : rng.Bernoulli(0.5)                        ? "stable"
                                                            : "improved";
  pl.FollowUpWith("primary care", static_cast<int>(rng.UniformInt(7, 14)), "");
  s.notes_zh = p.chinese && rng.Bernoulli(0.6);
  s.dictated = rng.Bernoulli(0.4);
  s.voice = voices.empty() ? "en-us" : rng.Pick(voices);
  s.words_per_minute = static_cast<int>(rng.UniformInt(150, 175));
  return s;
}

}  // namespace medscribe::synth
