#include "synth/report.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace medscribe::synth {
namespace {

std::string Cap(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::string Ordinal(int n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

// How each radiologist writes; derived from the radiologist index so it is stable.
struct Style {
  bool verbose;        // full sentences vs telegraphic
  bool numbered;       // numbered impression items
  bool negatives;      // lists pertinent negatives
  int normal_phrase;   // which "normal" impression the radiologist uses
  bool mm_for_masses;  // mm or cm for masses
};

Style StyleFor(int radiologist) {
  const uint64_t h = Mix64(static_cast<uint64_t>(radiologist) + 17);
  return Style{(h & 1) != 0, (h & 2) != 0, (h & 4) != 0 || radiologist % 3 == 0,
               static_cast<int>((h >> 3) % 4), (h & 64) != 0};
}

std::string SevWord(Severity s, bool size_words = false) {
  if (size_words) {
    switch (s) {
      case Severity::kMild:
        return "small";
      case Severity::kModerate:
        return "moderate";
      case Severity::kSevere:
        return "large";
      case Severity::kNone:
        break;
    }
  }
  return std::string(SeverityName(s));
}

std::string SidePhrase(Side s) {
  return s == Side::kBilateral ? "bilateral" : std::string(SideName(s));
}

std::string ZonePhrase(const Finding& f) {
  if (f.side == Side::kBilateral) return fmt::format("bilateral {} zones", ZoneName(f.zone));
  return fmt::format("{} {} zone", SideName(f.side), ZoneName(f.zone));
}

std::string FindingSentence(const Finding& f, const Style& st, Rng& rng) {
  const std::string side = SidePhrase(f.side);
  switch (f.type) {
    case FindingType::kCardiomegaly: {
      const std::string sev = f.severity == Severity::kSevere     ? "markedly"
                              : f.severity == Severity::kModerate ? "moderately"
                                                                  : "mildly";
      const std::string opts[] = {
          fmt::format("The heart is {} enlarged, with a cardiothoracic ratio of {:.2f}.", sev,
                      f.ctr),
          fmt::format("Cardiomegaly, cardiothoracic ratio {:.2f}.", f.ctr),
          fmt::format("Enlarged cardiac silhouette (cardiothoracic ratio approximately {:.2f}).",
                      f.ctr)};
      return rng.Pick(opts);
    }
    case FindingType::kPleuralEffusion: {
      if (f.side == Side::kBilateral) {
        const std::string opts[] = {
            fmt::format("{} bilateral pleural effusions with blunting of both costophrenic angles.",
                        Cap(SevWord(f.severity, true))),
            fmt::format("There are {} bilateral pleural effusions.", SevWord(f.severity, true)),
            fmt::format("Bilateral pleural fluid, {} in volume.", SevWord(f.severity, true))};
        return rng.Pick(opts);
      }
      const std::string opts[] = {
          fmt::format("{} {} pleural effusion with blunting of the costophrenic angle.",
                      Cap(SevWord(f.severity, true)), side),
          fmt::format("There is a {} {} pleural effusion with a meniscus.",
                      SevWord(f.severity, true), side),
          fmt::format("{} pleural fluid, {} in volume, obscuring the {} costophrenic angle.",
                      Cap(side), SevWord(f.severity, true), side)};
      return rng.Pick(opts);
    }
    case FindingType::kConsolidation: {
      const std::string kind = f.severity == Severity::kMild       ? "patchy"
                               : f.severity == Severity::kModerate ? "confluent"
                                                                   : "dense";
      const std::string opts[] = {
          fmt::format("{} consolidation in the {}.", Cap(kind), ZonePhrase(f)),
          fmt::format("There is {} airspace opacity in the {}.", kind, ZonePhrase(f)),
          fmt::format("Focal {} airspace disease involving the {}.", kind, ZonePhrase(f))};
      return rng.Pick(opts);
    }
    case FindingType::kEdema: {
      const std::string opts[] = {
          fmt::format("{} pulmonary edema with perihilar vascular indistinctness and "
                      "interstitial lines.",
                      Cap(SevWord(f.severity))),
          fmt::format("Bilateral perihilar vascular blurring and Kerley B lines consistent with "
                      "{} pulmonary edema.",
                      SevWord(f.severity)),
          fmt::format("Pulmonary vascular congestion with {} interstitial edema.",
                      SevWord(f.severity))};
      return rng.Pick(opts);
    }
    case FindingType::kPneumothorax: {
      const std::string opts[] = {
          fmt::format("{} apical pneumothorax measuring approximately {:.0f} mm, with a visible "
                      "visceral pleural line.",
                      Cap(side), f.size_mm),
          fmt::format("There is a {} {} pneumothorax ({:.0f} mm at the apex).",
                      SevWord(f.severity, true), side, f.size_mm),
          fmt::format("{} {} pneumothorax; the pleural line lies {:.0f} mm from the chest wall "
                      "with absent lung markings peripherally.",
                      Cap(SevWord(f.severity, true)), side, f.size_mm)};
      return rng.Pick(opts);
    }
    case FindingType::kNodule: {
      const std::string opts[] = {
          fmt::format("{:.0f} mm nodule in the {}.", f.size_mm, ZonePhrase(f)),
          fmt::format("There is a {:.0f} mm pulmonary nodule projecting over the {}.", f.size_mm,
                      ZonePhrase(f)),
          fmt::format("A {:.0f}-mm nodular opacity is seen in the {}.", f.size_mm, ZonePhrase(f))};
      return rng.Pick(opts);
    }
    case FindingType::kMass: {
      const std::string size = st.mm_for_masses ? fmt::format("{:.0f} mm", f.size_mm)
                                                : fmt::format("{:.1f} cm", f.size_mm / 10);
      const std::string opts[] = {
          fmt::format("Lobulated {} mass in the {}.", size, ZonePhrase(f)),
          fmt::format("There is a {} mass with lobulated margins in the {}.", size, ZonePhrase(f)),
          fmt::format("{} masslike opacity measuring {}.", Cap(ZonePhrase(f)), size)};
      return rng.Pick(opts);
    }
    case FindingType::kAtelectasis: {
      if (f.side == Side::kBilateral)
        return rng.Bernoulli(0.5) ? "Bibasilar atelectasis."
                                  : "Linear atelectasis at both lung bases.";
      if (f.severity == Severity::kSevere) {
        return fmt::format(
            "{} lower lobe collapse with volume loss and elevation of the {} hemidiaphragm.",
            Cap(side), side);
      }
      const std::string opts[] = {
          fmt::format("Linear atelectasis at the {} lung base.", side),
          fmt::format("Subsegmental atelectasis in the {} lower zone.", side),
          fmt::format("Plate-like atelectasis in the {} lower zone.", side)};
      return rng.Pick(opts);
    }
    case FindingType::kRibFracture: {
      const std::string opts[] = {
          fmt::format("Displaced fracture of the {} {} posterior rib.", side, Ordinal(f.rib)),
          fmt::format("Acute fracture of the {} {} rib.", side, Ordinal(f.rib)),
          fmt::format("{} {} posterior rib fracture with slight displacement.", Cap(side),
                      Ordinal(f.rib))};
      return rng.Pick(opts);
    }
    case FindingType::kEndotrachealTube:
      return rng.Bernoulli(0.5)
                 ? "Endotracheal tube in place, tip approximately 5 cm above the carina."
                 : "The endotracheal tube terminates about 5 cm above the carina.";
    case FindingType::kCentralLine:
      return rng.Bernoulli(0.5)
                 ? "Right-sided central venous catheter with tip in the superior vena cava."
                 : "Right central line terminating in the SVC.";
    case FindingType::kPacemaker:
      return rng.Bernoulli(0.5)
                 ? "Left chest wall pacemaker with leads in the right atrium and right ventricle."
                 : "Dual-chamber cardiac pacemaker, leads in expected position.";
    case FindingType::kChestTube:
      return rng.Bernoulli(0.5)
                 ? fmt::format("{} chest tube in place, tip projecting over the apex.", Cap(side))
                 : fmt::format("{}-sided thoracostomy tube in place.", Cap(side));
  }
  return "";
}

std::string LabPhrase(const LabResult* lab) {
  return fmt::format("{} {}", lab->value, lab->spec->unit);
}

// The impression item for one finding, integrating labs where they support it.
std::string ImpressionItem(const Finding& f, const Encounter& e, Rng& rng) {
  const std::string side = SidePhrase(f.side);
  switch (f.type) {
    case FindingType::kConsolidation: {
      const LabResult* wbc = e.Lab("wbc");
      const LabResult* temp = e.Lab("temperature");
      const LabResult* pct = e.Lab("procalcitonin");
      std::string base = fmt::format("{} consolidation", Cap(ZonePhrase(f)));
      if (wbc && wbc->flag == 'H')
        return base +
               fmt::format(", consistent with pneumonia in the setting of leukocytosis (WBC {})",
                           LabPhrase(wbc));
      if (temp && temp->flag == 'H')
        return base +
               fmt::format(", consistent with pneumonia in this febrile patient (temperature {} C)",
                           temp->value);
      if (pct && pct->flag == 'H')
        return base + ", consistent with bacterial pneumonia given the elevated procalcitonin";
      return base + ", which may represent pneumonia";
    }
    case FindingType::kEdema: {
      const LabResult* bnp = e.Lab("bnp");
      std::string base = fmt::format("{} pulmonary edema", Cap(SevWord(f.severity)));
      if (bnp && bnp->flag == 'H')
        return base +
               fmt::format(", consistent with congestive heart failure given the elevated BNP ({})",
                           LabPhrase(bnp));
      return base;
    }
    case FindingType::kPneumothorax: {
      const LabResult* spo2 = e.Lab("spo2");
      std::string base = fmt::format("{} {} pneumothorax", Cap(SevWord(f.severity, true)), side);
      if (spo2 && spo2->flag == 'L')
        return base + fmt::format(" with hypoxemia (SpO2 {:.0f}%)", spo2->value);
      return base;
    }
    case FindingType::kPleuralEffusion:
      return f.side == Side::kBilateral
                 ? fmt::format("{} bilateral pleural effusions", Cap(SevWord(f.severity, true)))
                 : fmt::format("{} {} pleural effusion", Cap(SevWord(f.severity, true)), side);
    case FindingType::kCardiomegaly:
      return rng.Bernoulli(0.5) ? "Cardiomegaly" : "Enlarged cardiac silhouette";
    case FindingType::kNodule:
      return fmt::format("{:.0f} mm {} nodule", f.size_mm, ZonePhrase(f));
    case FindingType::kMass:
      return fmt::format("{} mass ({:.0f} mm), suspicious for malignancy", Cap(ZonePhrase(f)),
                         f.size_mm);
    case FindingType::kAtelectasis:
      return f.side == Side::kBilateral ? "Bibasilar atelectasis"
                                        : fmt::format("{} basilar atelectasis", Cap(side));
    case FindingType::kRibFracture:
      return fmt::format("Acute {} {} rib fracture", side, Ordinal(f.rib));
    default:
      break;
  }
  return "";
}

int ImpressionRank(FindingType t) {
  switch (t) {
    case FindingType::kPneumothorax:
      return 0;
    case FindingType::kConsolidation:
      return 1;
    case FindingType::kMass:
      return 2;
    case FindingType::kEdema:
      return 3;
    case FindingType::kPleuralEffusion:
      return 4;
    case FindingType::kRibFracture:
      return 5;
    case FindingType::kNodule:
      return 6;
    case FindingType::kCardiomegaly:
      return 7;
    case FindingType::kAtelectasis:
      return 8;
    default:
      return 9;
  }
}

std::string ChangeClause(Change c, Rng& rng) {
  switch (c) {
    case Change::kNew:
      return rng.Bernoulli(0.5) ? ", new since the prior study"
                                : ", new compared with the prior study";
    case Change::kIncreased:
      return rng.Bernoulli(0.5) ? ", increased compared with the prior study"
                                : ", increased since the prior study";
    case Change::kDecreased:
      return rng.Bernoulli(0.5) ? ", decreased compared with the prior study"
                                : ", improved since the prior study";
    case Change::kUnchanged:
      return rng.Bernoulli(0.5) ? ", unchanged from the prior study"
                                : ", stable compared with the prior study";
    case Change::kNoPrior:
      break;
  }
  return "";
}

std::string ChangeSpoken(Change c, const std::string& what, Rng& rng) {
  switch (c) {
    case Change::kNew:
      return fmt::format("The {} is new compared with the prior study.", what);
    case Change::kIncreased:
      return rng.Bernoulli(0.5)
                 ? fmt::format("The {} has increased compared with the prior study.", what)
                 : fmt::format("Compared with the previous film, the {} is larger.", what);
    case Change::kDecreased:
      return rng.Bernoulli(0.5)
                 ? fmt::format("The {} has decreased compared with the prior study.", what)
                 : fmt::format("Compared with the previous film, the {} is smaller.", what);
    case Change::kUnchanged:
      return fmt::format("The {} is unchanged compared with the prior study.", what);
    case Change::kNoPrior:
      break;
  }
  return "";
}

// The change without naming the finding: the dictation's most common form.
std::string ChangeSpokenGeneric(Change c, Rng& rng) {
  switch (c) {
    case Change::kNew:
      return rng.Bernoulli(0.5) ? "Compared with the prior study, the abnormality is new."
                                : "This is a new finding since the previous film.";
    case Change::kIncreased:
      return rng.Bernoulli(0.5) ? "Compared with the prior study, the main finding has increased."
                                : "Interval worsening since the previous film.";
    case Change::kDecreased:
      return rng.Bernoulli(0.5) ? "Compared with the prior study, the main finding has decreased."
                                : "Interval improvement since the previous film.";
    case Change::kUnchanged:
      return rng.Bernoulli(0.5) ? "Compared with the prior study, the main finding is unchanged."
                                : "No interval change since the previous film.";
    case Change::kNoPrior:
      break;
  }
  return "";
}

}  // namespace

std::string Report::Text() const {
  return "EXAMINATION: " + examination + "\nINDICATION: " + indication +
         "\nCOMPARISON: " + comparison + "\nFINDINGS: " + findings + "\nIMPRESSION: " + impression +
         "\nRECOMMENDATION: " + recommendation + "\n";
}

std::string ComposeDictation(const Encounter& e, Rng& rng) {
  std::vector<std::string> parts;
  parts.push_back(rng.Bernoulli(0.5) ? "Addendum." : "Dictation addendum.");
  const Finding* p = e.Primary();
  if (e.change == Change::kNoPrior) {
    parts.push_back("No prior studies are available for comparison.");
  } else if (p == nullptr) {
    parts.push_back("Compared with the prior study, there is no interval change.");
  } else if (rng.Bernoulli(0.4)) {
    // Sometimes the radiologist names the finding (and its side) in the dictation.
    std::string what(FindingLabel(p->type));
    if (p->side == Side::kRight || p->side == Side::kLeft)
      what = std::string(SideName(p->side)) + " " + what;
    parts.push_back(ChangeSpoken(e.change, what, rng));
  } else {
    parts.push_back(ChangeSpokenGeneric(e.change, rng));
  }
  std::string q = e.reason.substr(0, e.reason.find('.'));
  if (!q.empty()) q[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(q[0])));
  parts.push_back(fmt::format("Clinical question: {}.", q.empty() ? "none given" : q));
  if (e.urgent) {
    parts.push_back(rng.Bernoulli(0.5)
                        ? "This is urgent, please call the ordering physician with the result."
                        : "Urgent. Please notify the referring team by phone.");
  } else if (rng.Bernoulli(0.5)) {
    parts.push_back("Routine reading.");
  }
  std::string out;
  for (const std::string& s : parts) out += (out.empty() ? "" : " ") + s;
  return out;
}

Report ComposeReport(const Encounter& e, const CohortPlan& cohort, Rng& rng,
                     std::vector<std::string>* phi) {
  const Style st = StyleFor(e.radiologist);
  Report r;
  const bool ap = e.anatomy.ap_view;
  r.examination = st.verbose ? fmt::format("Chest radiograph, single frontal {} view.",
                                           ap ? "AP portable" : "PA")
                             : fmt::format("XR CHEST {} 1 VIEW", ap ? "AP PORTABLE" : "PA");
  r.indication = e.reason;
  if (e.prior >= 0) {
    const Date d = cohort.encounters[static_cast<size_t>(e.prior)].study_time.date;
    r.comparison = fmt::format("Chest radiograph of {}.", d.Iso());
    phi->push_back(d.Iso());
  } else {
    r.comparison = "None.";
  }

  // FINDINGS: devices first, then findings, then pertinent negatives.
  std::vector<std::string> sentences;
  for (const Finding& f : e.findings)
    if (IsSupportDevice(f.type)) sentences.push_back(FindingSentence(f, st, rng));
  for (const Finding& f : e.findings)
    if (!IsSupportDevice(f.type)) sentences.push_back(FindingSentence(f, st, rng));
  if (st.negatives || e.Primary() == nullptr) {
    if (!e.Has(FindingType::kCardiomegaly))
      sentences.push_back(st.verbose ? "The cardiomediastinal silhouette is within normal limits."
                                     : "Heart size is normal.");
    if (!e.Has(FindingType::kConsolidation) && !e.Has(FindingType::kMass))
      sentences.push_back("No focal consolidation.");
    if (!e.Has(FindingType::kPleuralEffusion) && !e.Has(FindingType::kPneumothorax))
      sentences.push_back("No pleural effusion or pneumothorax.");
    else if (!e.Has(FindingType::kPneumothorax))
      sentences.push_back("No pneumothorax.");
    else if (!e.Has(FindingType::kPleuralEffusion))
      sentences.push_back("No pleural effusion.");
    if (!e.Has(FindingType::kEdema) && st.verbose) sentences.push_back("No pulmonary edema.");
    if (!e.Has(FindingType::kRibFracture)) sentences.push_back("No acute osseous abnormality.");
  }
  for (const std::string& s : sentences) r.findings += (r.findings.empty() ? "" : " ") + s;

  // IMPRESSION: ranked findings; the primary finding carries the change from the dictation.
  std::vector<const Finding*> ranked;
  for (const Finding& f : e.findings)
    if (!IsSupportDevice(f.type)) ranked.push_back(&f);
  std::stable_sort(ranked.begin(), ranked.end(), [](const Finding* a, const Finding* b) {
    return ImpressionRank(a->type) < ImpressionRank(b->type);
  });
  std::vector<std::string> items;
  for (const Finding* f : ranked) {
    std::string item = ImpressionItem(*f, e, rng);
    if (f == e.Primary()) item += ChangeClause(e.change, rng);
    items.push_back(item + ".");
  }
  bool devices = false;
  for (const Finding& f : e.findings) devices = devices || IsSupportDevice(f.type);
  if (devices) items.push_back("Support devices as described above.");
  if (ranked.empty()) {
    constexpr const char* kNormal[] = {
        "No acute cardiopulmonary process.", "No acute cardiopulmonary abnormality.",
        "Normal chest radiograph.", "No active disease in the chest."};
    std::string normal = kNormal[st.normal_phrase];
    if (e.change == Change::kUnchanged)
      normal.insert(normal.size() - 1, ", no interval change from the prior study");
    items.insert(items.begin(), normal);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!r.impression.empty()) r.impression += st.numbered ? "\n" : " ";
    r.impression += st.numbered ? fmt::format("{}. {}", i + 1, items[i]) : items[i];
  }

  // RECOMMENDATION.
  std::vector<std::string> recs;
  for (const Finding* f : ranked) {
    if (f->type == FindingType::kNodule) {
      if (f->size_mm < 6)
        recs.push_back(
            "No routine follow-up is required for a nodule under 6 mm in a low-risk patient.");
      else if (f->size_mm <= 8)
        recs.push_back("Follow-up chest CT in 6 to 12 months is recommended for the nodule.");
      else
        recs.push_back(
            "Chest CT in 3 months, PET/CT or tissue sampling is recommended for the nodule.");
    }
    if (f->type == FindingType::kMass)
      recs.push_back("Contrast-enhanced chest CT and tissue sampling are recommended.");
    if (f->type == FindingType::kConsolidation)
      recs.push_back("Follow-up radiograph in 6 to 8 weeks to document resolution.");
  }
  if (e.urgent) {
    const Clinician& ref = cohort.referring[static_cast<size_t>(e.referring)];
    const DateTime t = AddMinutes(e.study_time, 25);
    const std::string when = fmt::format("{:02d}:{:02d}", t.hour, t.minute);
    recs.push_back(
        fmt::format("Findings communicated to {} by telephone at {}.", ref.Display(), when));
    phi->push_back(ref.Display());
  }
  r.recommendation = recs.empty() ? "None." : "";
  for (const std::string& s : recs) r.recommendation += (r.recommendation.empty() ? "" : " ") + s;
  return r;
}

}  // namespace medscribe::synth
