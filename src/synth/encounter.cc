#include "synth/encounter.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "common/uid.h"

namespace medscribe::synth {
namespace {

Severity PickSeverity(Rng& rng, double mild = 0.45, double moderate = 0.35) {
  const double r = rng.Uniform();
  if (r < mild) return Severity::kMild;
  if (r < mild + moderate) return Severity::kModerate;
  return Severity::kSevere;
}

Side PickSide(Rng& rng, double right = 0.55, double bilateral = 0.0) {
  const double r = rng.Uniform();
  if (r < bilateral) return Side::kBilateral;
  return r < bilateral + (1 - bilateral) * right ? Side::kRight : Side::kLeft;
}

Zone PickZone(Rng& rng, double upper, double middle) {
  const double r = rng.Uniform();
  if (r < upper) return Zone::kUpper;
  if (r < upper + middle) return Zone::kMiddle;
  return Zone::kLower;
}

double Round(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

}  // namespace

const std::vector<LabSpec>& LabSpecs() {
  static const std::vector<LabSpec> kSpecs = {
      {"wbc", "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10^3/uL", "10*3/uL",
       4.0, 11.0, 1, false},
      {"crp", "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", "mg/L", 0.0,
       5.0, 1, false},
      {"procalcitonin", "33959-8", "Procalcitonin [Mass/volume] in Serum or Plasma", "ng/mL",
       "ng/mL", 0.0, 0.5, 2, false},
      {"bnp", "30934-4", "Natriuretic peptide B [Mass/volume] in Serum or Plasma", "pg/mL", "pg/mL",
       0.0, 100.0, 0, false},
      {"troponin", "10839-9", "Troponin I.cardiac [Mass/volume] in Serum or Plasma", "ng/mL",
       "ng/mL", 0.0, 0.04, 2, false},
      {"spo2", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%", 95.0,
       100.0, 0, true},
      {"temperature", "8310-5", "Body temperature", "C", "Cel", 36.1, 37.8, 1, true},
      {"hemoglobin", "718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 12.0, 17.5, 1,
       false},
      {"creatinine", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0.6,
       1.3, 2, false},
      {"ddimer", "48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma", "ug/mL FEU",
       "ug/mL{FEU}", 0.0, 0.5, 2, false},
  };
  return kSpecs;
}

const Finding* Encounter::Primary() const {
  for (const Finding& f : findings)
    if (!IsSupportDevice(f.type)) return &f;
  return nullptr;
}

bool Encounter::Has(FindingType t) const {
  return std::any_of(findings.begin(), findings.end(),
                     [t](const Finding& f) { return f.type == t; });
}

const LabResult* Encounter::Lab(std::string_view key) const {
  for (const LabResult& l : labs)
    if (l.spec->key == key) return &l;
  return nullptr;
}

std::string Encounter::AnnotatorId() const { return fmt::format("rad-{:02d}", radiologist + 1); }

std::string_view IndicationKindName(IndicationKind k) {
  switch (k) {
    case IndicationKind::kSuspected:
      return "suspected";
    case IndicationKind::kRuleOut:
      return "rule_out";
    case IndicationKind::kRoutine:
      break;
  }
  return "routine";
}

std::vector<Finding> SampleFindings(Department d, const Anatomy& a,
                                    const std::vector<Problem>& history, Rng& rng) {
  std::array<double, kNumFindingTypes> p{};
  for (int t = 0; t < kNumFindingTypes; ++t) {
    const auto type = static_cast<FindingType>(t);
    p[t] = std::min(0.9, BasePrevalence(d, type) * HistoryFactor(history, type));
  }
  auto P = [&](FindingType t) -> double& { return p[static_cast<int>(t)]; };
  std::vector<Finding> out;
  auto add = [&](Finding f) { out.push_back(f); };
  auto has = [&](FindingType t) {
    return std::any_of(out.begin(), out.end(), [t](const Finding& f) { return f.type == t; });
  };
  auto side_of = [&](FindingType t) {
    for (const Finding& f : out)
      if (f.type == t) return f.side;
    return Side::kNone;
  };

  if (rng.Bernoulli(P(FindingType::kCardiomegaly))) {
    Finding f{FindingType::kCardiomegaly};
    f.ctr = Round(rng.Uniform(0.54, 0.68), 2);
    f.severity = f.ctr < 0.58   ? Severity::kMild
                 : f.ctr < 0.63 ? Severity::kModerate
                                : Severity::kSevere;
    add(f);
    P(FindingType::kEdema) = std::min(0.85, P(FindingType::kEdema) * 2.2);
    P(FindingType::kPleuralEffusion) = std::min(0.85, P(FindingType::kPleuralEffusion) * 1.8);
    P(FindingType::kPacemaker) *= 1.5;
  }
  if (rng.Bernoulli(P(FindingType::kEdema))) {
    add({FindingType::kEdema, Side::kBilateral, Zone::kNone, PickSeverity(rng)});
    P(FindingType::kPleuralEffusion) = std::min(0.9, P(FindingType::kPleuralEffusion) * 1.8);
  }
  if (rng.Bernoulli(P(FindingType::kPleuralEffusion))) {
    const Side s = PickSide(rng, 0.55, has(FindingType::kEdema) ? 0.6 : 0.15);
    add({FindingType::kPleuralEffusion, s, Zone::kLower, PickSeverity(rng)});
    if (s != Side::kBilateral) P(FindingType::kAtelectasis) *= 1.5;
  }
  if (rng.Bernoulli(P(FindingType::kConsolidation))) {
    Finding f{FindingType::kConsolidation, PickSide(rng, 0.55, 0.1), PickZone(rng, 0.2, 0.3),
              PickSeverity(rng)};
    add(f);
  }
  if (rng.Bernoulli(P(FindingType::kRibFracture))) {
    Finding f{FindingType::kRibFracture, PickSide(rng)};
    f.rib = static_cast<int>(rng.UniformInt(3, 9));
    add(f);
    P(FindingType::kPneumothorax) += 0.25;
  }
  if (rng.Bernoulli(P(FindingType::kPneumothorax))) {
    Side s = has(FindingType::kRibFracture) ? side_of(FindingType::kRibFracture) : PickSide(rng);
    Finding f{FindingType::kPneumothorax, s, Zone::kUpper, PickSeverity(rng, 0.4, 0.35)};
    // Apical distance; the smallest (12 mm) is 7 pixels at 256 px.
    const double lo[] = {0, 12, 20, 40}, hi[] = {0, 19, 39, 70};
    f.size_mm =
        static_cast<double>(rng.UniformInt(static_cast<int64_t>(lo[static_cast<int>(f.severity)]),
                                           static_cast<int64_t>(hi[static_cast<int>(f.severity)])));
    add(f);
    P(FindingType::kChestTube) = std::max(P(FindingType::kChestTube), 0.45);
  }
  if (rng.Bernoulli(P(FindingType::kNodule))) {
    Finding f{FindingType::kNodule, PickSide(rng), PickZone(rng, 0.45, 0.35)};
    // The smallest nodule (8 mm) is about 5 pixels across at 256 px.
    f.size_mm = static_cast<double>(rng.UniformInt(8, 28));
    add(f);
    P(FindingType::kMass) *= 0.2;
  }
  if (rng.Bernoulli(P(FindingType::kMass))) {
    Finding f{FindingType::kMass, PickSide(rng), PickZone(rng, 0.45, 0.4)};
    f.size_mm = static_cast<double>(rng.UniformInt(32, 75));
    add(f);
  }
  if (rng.Bernoulli(P(FindingType::kAtelectasis))) {
    Side s = has(FindingType::kPleuralEffusion) &&
                     side_of(FindingType::kPleuralEffusion) != Side::kBilateral
                 ? side_of(FindingType::kPleuralEffusion)
                 : PickSide(rng, 0.5, 0.2);
    add({FindingType::kAtelectasis, s, Zone::kLower, PickSeverity(rng, 0.6, 0.3)});
  }
  if (rng.Bernoulli(P(FindingType::kEndotrachealTube))) {
    add({FindingType::kEndotrachealTube});
    P(FindingType::kCentralLine) = std::max(P(FindingType::kCentralLine), 0.7);
  }
  if (rng.Bernoulli(P(FindingType::kCentralLine))) add({FindingType::kCentralLine, Side::kRight});
  if (rng.Bernoulli(P(FindingType::kPacemaker))) add({FindingType::kPacemaker, Side::kLeft});
  if (rng.Bernoulli(P(FindingType::kChestTube))) {
    Side s = has(FindingType::kPneumothorax)      ? side_of(FindingType::kPneumothorax)
             : has(FindingType::kPleuralEffusion) ? side_of(FindingType::kPleuralEffusion)
                                                  : PickSide(rng);
    if (s == Side::kBilateral) s = Side::kRight;
    add({FindingType::kChestTube, s});
  }
  for (Finding& f : out) {
    if (f.type == FindingType::kConsolidation || f.type == FindingType::kNodule ||
        f.type == FindingType::kMass) {
      PlaceFinding(a, f, rng.Uniform(-1, 1), rng.Uniform(-1, 1));
    }
  }
  return out;
}

namespace {

// Log-normal draw around a median.
double LogNormal(Rng& rng, double median, double sigma) {
  return median * std::exp(rng.Normal(0, sigma));
}

// Which labs the clinician ordered: the basic panel always, the rest by department, suspicion
// and history (never by what the image will show).
bool LabDrawn(std::string_view key, const Encounter& e, bool suspect_infection, bool suspect_heart,
              Rng& rng) {
  const Department d = e.department;
  if (key == "procalcitonin")
    return suspect_infection ? rng.Bernoulli(0.7)
                             : rng.Bernoulli(d == Department::kICU ? 0.4 : 0.15);
  if (key == "bnp")
    return suspect_heart || d == Department::kCardiology || d == Department::kICU ||
           HasProblem(e.history, Chronic::kHeartFailure) || rng.Bernoulli(0.3);
  if (key == "troponin")
    return d == Department::kCardiology || d == Department::kED || rng.Bernoulli(0.2);
  if (key == "ddimer") return d == Department::kED ? rng.Bernoulli(0.5) : rng.Bernoulli(0.15);
  return true;
}

}  // namespace

std::vector<LabResult> SampleLabs(const Encounter& e, int age, char sex, Rng& rng) {
  const Department d = e.department;
  auto has = [&](FindingType t) { return e.Has(t); };
  auto hx = [&](Chronic c) { return HasProblem(e.history, c); };
  auto severity = [&](FindingType t) {
    for (const Finding& f : e.findings)
      if (f.type == t) return static_cast<double>(f.severity);
    return 0.0;
  };
  const bool suspected = e.indication != IndicationKind::kRoutine;
  const bool suspect_infection = suspected && e.suspected == FindingType::kConsolidation;
  const bool suspect_heart = suspected && (e.suspected == FindingType::kEdema ||
                                           e.suspected == FindingType::kCardiomegaly ||
                                           e.suspected == FindingType::kPleuralEffusion);
  const bool pneumonia = has(FindingType::kConsolidation);
  const bool edema = has(FindingType::kEdema);
  const bool heart = edema || has(FindingType::kCardiomegaly);
  // Inflammation from causes outside the chest (urinary infection, flare of a chronic disease).
  const bool other_inflammation = rng.Bernoulli(d == Department::kICU ? 0.3 : 0.15);
  const bool pneumonia_response = pneumonia && rng.Bernoulli(0.8);  // 20% mount no response
  std::vector<LabResult> out;
  for (const LabSpec& s : LabSpecs()) {
    if (!LabDrawn(s.key, e, suspect_infection, suspect_heart, rng)) continue;
    double v = 0;
    if (s.key == "wbc") {
      v = rng.Normal(7.3, 1.7);
      if (other_inflammation && rng.Bernoulli(0.6)) v = rng.Normal(12.5, 2.5);
      if (pneumonia_response) v = rng.Normal(13.5, 3.5);
      if (d == Department::kOncology && rng.Bernoulli(0.12)) v = rng.Uniform(2.0, 4.0);
    } else if (s.key == "crp") {
      v = LogNormal(rng, 2.5, 0.9);
      if (other_inflammation) v = LogNormal(rng, 30, 0.9);
      if (heart) v *= 1.6;
      if (pneumonia_response) v = LogNormal(rng, 70, 0.8);
    } else if (s.key == "procalcitonin") {
      v = LogNormal(rng, 0.07, 0.7);
      if (other_inflammation && rng.Bernoulli(0.3)) v = LogNormal(rng, 0.9, 0.8);
      if (pneumonia_response && rng.Bernoulli(0.6)) v = LogNormal(rng, 1.4, 0.9);
    } else if (s.key == "bnp") {
      double median = 35 * std::exp(0.025 * (age - 50));
      if (hx(Chronic::kHeartFailure)) median *= 3.5;
      if (hx(Chronic::kKidneyDisease)) median *= 2.2;
      if (hx(Chronic::kAtrialFibrillation)) median *= 1.8;
      if (has(FindingType::kCardiomegaly)) median *= 2.0;
      if (edema) median *= 2.5 + severity(FindingType::kEdema);
      v = LogNormal(rng, median, 0.8);
    } else if (s.key == "troponin") {
      v = LogNormal(rng, 0.012, 0.6);
      if (hx(Chronic::kKidneyDisease) || hx(Chronic::kCoronaryDisease)) v *= 2.2;
      if (d == Department::kCardiology && rng.Bernoulli(0.25)) v = rng.Uniform(0.06, 2.5);
      if (d == Department::kED && rng.Bernoulli(0.06)) v = rng.Uniform(0.05, 1.0);
    } else if (s.key == "spo2") {
      v = rng.Normal(97.3, 1.3);
      if (hx(Chronic::kCopd)) v -= rng.Uniform(1, 6);
      if (age > 75) v -= 1;
      if (pneumonia) v -= rng.Uniform(0, 7);
      if (edema) v -= rng.Uniform(1, 3 + 2 * severity(FindingType::kEdema));
      v -= rng.Uniform(0, 1.5) * severity(FindingType::kPleuralEffusion);
      v -= rng.Uniform(0, 3) * severity(FindingType::kPneumothorax);
      if (d == Department::kICU) v -= rng.Uniform(0, 4);  // ventilated, sedated, septic
      v = std::clamp(v, 72.0, 100.0);
    } else if (s.key == "temperature") {
      v = rng.Normal(36.9, 0.35);
      if (other_inflammation && rng.Bernoulli(0.4)) v = rng.Normal(38.3, 0.5);
      if (pneumonia_response && rng.Bernoulli(0.75)) v = rng.Normal(38.5, 0.5);
    } else if (s.key == "hemoglobin") {
      v = rng.Normal(sex == 'F' ? 13.2 : 14.6, 1.3);
      if (d == Department::kOncology) v -= rng.Uniform(0, 3.5);
      if (hx(Chronic::kKidneyDisease)) v -= rng.Uniform(0.5, 2.5);
    } else if (s.key == "creatinine") {
      v = rng.Normal(sex == 'F' ? 0.8 : 1.0, 0.17);
      if (hx(Chronic::kKidneyDisease)) v = rng.Uniform(1.4, 3.2);
      if (d == Department::kICU && rng.Bernoulli(0.2)) v += rng.Uniform(0.4, 2.0);
      if (hx(Chronic::kHeartFailure) && rng.Bernoulli(0.3)) v += rng.Uniform(0.2, 0.8);
    } else if (s.key == "ddimer") {
      v = LogNormal(rng, 0.25 * std::exp(0.015 * (age - 50)), 0.7);
      if (d == Department::kOncology || d == Department::kICU) v *= 2;
    }
    LabResult r;
    r.spec = &s;
    r.value = Round(std::max(0.0, v), s.decimals);
    r.flag = r.value > s.high ? 'H' : r.value < s.low ? 'L' : 'N';
    out.push_back(r);
  }
  return out;
}

void ScaleLabs(std::vector<LabResult>& labs, const std::map<std::string, double>& factors) {
  for (LabResult& r : labs) {
    const auto it = factors.find(std::string(r.spec->key));
    if (it == factors.end()) continue;
    r.value = Round(r.value * it->second, r.spec->decimals);
    r.flag = r.value > r.spec->high ? 'H' : r.value < r.spec->low ? 'L' : 'N';
  }
}

std::vector<Code> ConditionsFor(const std::vector<Finding>& fs, bool discrepant, Rng& rng,
                                std::string* what) {
  std::vector<Code> out;
  const std::string icd(kIcd10Cm);
  for (const Finding& f : fs) {
    switch (f.type) {
      case FindingType::kConsolidation:
        out.push_back({icd, "J18.9", "Pneumonia, unspecified organism"});
        break;
      case FindingType::kPleuralEffusion:
        out.push_back({icd, "J90", "Pleural effusion, not elsewhere classified"});
        break;
      case FindingType::kCardiomegaly:
        out.push_back({icd, "I51.7", "Cardiomegaly"});
        break;
      case FindingType::kEdema:
        out.push_back({icd, "J81.0", "Acute pulmonary edema"});
        break;
      case FindingType::kPneumothorax:
        out.push_back({icd, "J93.9", "Pneumothorax, unspecified"});
        break;
      case FindingType::kNodule:
        out.push_back({icd, "R91.1", "Solitary pulmonary nodule"});
        break;
      case FindingType::kMass:
        out.push_back({icd, "R91.8", "Other nonspecific abnormal finding of lung field"});
        break;
      case FindingType::kAtelectasis:
        out.push_back({icd, "J98.11", "Atelectasis"});
        break;
      case FindingType::kRibFracture:
        out.push_back(
            f.side == Side::kLeft
                ? Code{icd, "S22.32XA",
                       "Fracture of one rib, left side, initial encounter for closed fracture"}
                : Code{icd, "S22.31XA",
                       "Fracture of one rib, right side, initial encounter for closed fracture"});
        break;
      case FindingType::kPacemaker:
        out.push_back({icd, "Z95.0", "Presence of cardiac pacemaker"});
        break;
      case FindingType::kEndotrachealTube:
        out.push_back({icd, "Z99.11", "Dependence on respirator [ventilator] status"});
        break;
      case FindingType::kCentralLine:
      case FindingType::kChestTube:
        break;
    }
  }
  if (discrepant) {
    // Either a diagnosis the image does not support, or a finding left uncoded.
    const bool has_pneumonia =
        std::any_of(out.begin(), out.end(), [](const Code& c) { return c.code == "J18.9"; });
    if (!out.empty() && rng.Bernoulli(0.5)) {
      const size_t i = static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(out.size()) - 1));
      *what = "finding not coded: " + out[i].code + " (" + out[i].display + ")";
      out.erase(out.begin() + static_cast<long>(i));
    } else if (!has_pneumonia) {
      out.push_back({icd, "J18.9", "Pneumonia, unspecified organism"});
      *what = "code without image support: J18.9 (Pneumonia, unspecified organism)";
    } else {
      out.push_back({icd, "J93.9", "Pneumothorax, unspecified"});
      *what = "code without image support: J93.9 (Pneumothorax, unspecified)";
    }
  }
  return out;
}

std::vector<Code> ProceduresFor(const std::vector<Finding>& fs, Rng& rng) {
  const std::string cpt(kCpt);
  std::vector<Code> out = {{cpt, "71045", "Radiologic examination, chest; single view"}};
  for (const Finding& f : fs) {
    if (!rng.Bernoulli(0.5)) continue;  // otherwise placed in an earlier encounter
    switch (f.type) {
      case FindingType::kEndotrachealTube:
        out.push_back({cpt, "31500", "Intubation, endotracheal, emergency procedure"});
        break;
      case FindingType::kCentralLine:
        out.push_back({cpt, "36556",
                       "Insertion of non-tunneled centrally inserted central venous catheter; age "
                       "5 years or older"});
        break;
      case FindingType::kPacemaker:
        out.push_back({cpt, "33208",
                       "Insertion of new or replacement of permanent pacemaker with transvenous "
                       "electrode(s); atrial and ventricular"});
        break;
      case FindingType::kChestTube:
        out.push_back({cpt, "32551",
                       "Tube thoracostomy, includes connection to drainage system (eg, water "
                       "seal), when performed, open (separate procedure)"});
        break;
      default:
        break;
    }
  }
  return out;
}

std::string MakeUid(uint64_t seed, std::string_view kind, int index) {
  const uint64_t hi = Mix64(seed ^ HashString(kind) ^ Mix64(static_cast<uint64_t>(index)));
  const uint64_t lo = Mix64(hi ^ 0x5bd1e9955bd1e995ULL ^ static_cast<uint64_t>(index));
  return Uid2_25(hi, lo);
}

}  // namespace medscribe::synth
