#include "synth/plan.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "synth/order.h"
#include "synth/voice.h"

namespace medscribe::synth {
namespace {

Department PickDepartment(Rng& rng, const std::vector<bool>& allowed) {
  double w[kNumDepartments] = {0.25, 0.15, 0.15, 0.12, 0.13, 0.20};
  if (!allowed.empty())
    for (int d = 0; d < kNumDepartments; ++d)
      if (!allowed[static_cast<size_t>(d)]) w[d] = 0;
  return static_cast<Department>(rng.Weighted(w));
}

Encounter PlanEncounter(const CohortPlan& plan, int index, int patient, int visit, const Date& date,
                        const std::vector<Problem>& history,
                        const std::vector<std::string>& voices) {
  Rng rng = Rng::Stream(plan.seed, HashString("encounter"), index);
  Encounter e;
  e.index = index;
  e.id = fmt::format("enc-{:06d}", index + 1);
  e.patient = patient;
  e.visit = visit;
  e.department = PickDepartment(rng, plan.departments);
  const bool office =
      e.department == Department::kOutpatient || e.department == Department::kOncology;
  e.start =
      DateTime{date, static_cast<int>(office ? rng.UniformInt(8, 16) : rng.UniformInt(0, 23)),
               static_cast<int>(rng.UniformInt(0, 59)), static_cast<int>(rng.UniformInt(0, 59))};
  e.labs_time = AddMinutes(e.start, rng.UniformInt(10, 50));
  e.study_time = AddMinutes(e.start, rng.UniformInt(60, 240));
  e.report_time = AddMinutes(e.study_time, rng.UniformInt(15, 600));
  e.accession = fmt::format("ACC{:02d}{:06d}", date.year % 100, index + 1);
  e.accession_in_dicom = !rng.Bernoulli(0.04);
  const std::vector<double> dev_w =
      plan.device_mix.empty() ? std::vector<double>{0.3, 0.2, 0.3, 0.2} : plan.device_mix;
  e.device = static_cast<int>(rng.Weighted(dev_w));
  const double ap_p = e.department == Department::kICU  ? 0.9
                      : e.department == Department::kED ? 0.5
                                                        : 0.1;
  e.anatomy.ap_view = rng.Bernoulli(ap_p);
  e.anatomy.habitus = rng.Uniform(0.9, 1.06);
  e.anatomy.diaphragm = e.anatomy.ap_view ? rng.Uniform(0.65, 0.70) : rng.Uniform(0.68, 0.73);
  e.anatomy.ctr = std::round(rng.Uniform(0.38, 0.48) * 100) / 100;
  e.anatomy.texture_seed = rng.Next();
  e.history = history;
  e.findings = SampleFindings(e.department, e.anatomy, e.history, rng);
  for (const Finding& f : e.findings)
    if (f.type == FindingType::kCardiomegaly) e.anatomy.ctr = f.ctr;
  PlanOrder(e, rng);
  const Patient& p = plan.patients[static_cast<size_t>(patient)];
  e.labs = SampleLabs(e, AgeInYears(p.birth_date, date), p.sex, rng);
  ScaleLabs(e.labs, plan.lab_shift);
  e.coding_discrepancy = rng.Bernoulli(0.04);
  e.conditions = ConditionsFor(e.findings, e.coding_discrepancy, rng, &e.discrepancy);
  e.procedures = ProceduresFor(e.findings, rng);
  e.radiologist = static_cast<int>(rng.UniformInt(0, kNumRadiologists - 1));
  e.referring = static_cast<int>(rng.UniformInt(0, kNumReferring - 1));
  e.note_zh = plan.patients[static_cast<size_t>(patient)].chinese && rng.Bernoulli(0.7);
  if (visit > 0) {
    e.prior = index - 1;
    const double w[] = {0.25, 0.25, 0.25, 0.25};
    e.change = e.Primary() ? static_cast<Change>(1 + rng.Weighted(w)) : Change::kUnchanged;
  }
  e.urgent = e.Has(FindingType::kPneumothorax) ? rng.Bernoulli(0.8) : rng.Bernoulli(0.08);
  e.voice = voices[static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(voices.size()) - 1))];
  e.words_per_minute = static_cast<int>(rng.UniformInt(130, 190));
  e.noise_snr_db = rng.Bernoulli(0.25) ? std::round(rng.Uniform(10, 25)) : 0.0;
  e.burned_in = rng.Bernoulli(0.03);
  e.study_uid = MakeUid(plan.seed, "study", index);
  e.series_uid = MakeUid(plan.seed, "series", index);
  e.sop_uid = MakeUid(plan.seed, "sop", index);
  return e;
}

}  // namespace

CohortPlan PlanCohort(const SynthOptions& o) {
  CohortPlan plan;
  plan.seed = o.seed;
  plan.device_mix = o.device_mix;
  plan.lab_shift = o.lab_shift;
  if (!o.departments.empty()) {
    plan.departments.assign(kNumDepartments, false);
    for (int d = 0; d < kNumDepartments; ++d)
      for (const std::string& name : o.departments)
        if (name == DepartmentName(static_cast<Department>(d)))
          plan.departments[static_cast<size_t>(d)] = true;
  }
  const std::vector<std::string>& voices = o.voices.empty() ? DefaultVoices() : o.voices;
  for (int i = 0; i < kNumRadiologists; ++i) plan.radiologists.push_back(MakeClinician(o.seed, i));
  for (int i = 0; i < kNumReferring; ++i) plan.referring.push_back(MakeClinician(o.seed, 100 + i));
  for (int i = 0; i < 6; ++i) plan.operators.push_back(MakeClinician(o.seed, 200 + i));
  int patient = 0;
  while (static_cast<int>(plan.encounters.size()) < o.encounters) {
    plan.patients.push_back(MakePatient(o.seed, patient));
    Rng rng = Rng::Stream(o.seed, HashString("visits"), patient);
    const double w[] = {0.7, 0.2, 0.1};
    const int visits = std::min(static_cast<int>(rng.Weighted(w)) + 1,
                                o.encounters - static_cast<int>(plan.encounters.size()));
    Date date = AddDays(Date{2023, 1, 1}, rng.UniformInt(0, 900));
    const Patient& p = plan.patients.back();
    const std::vector<Problem> history =
        MakeHistory(o.seed, patient, AgeInYears(p.birth_date, date), p.sex, date);
    for (int v = 0; v < visits; ++v) {
      const int index = static_cast<int>(plan.encounters.size());
      plan.encounters.push_back(PlanEncounter(plan, index, patient, v, date, history, voices));
      date = AddDays(date, rng.UniformInt(7, 180));
    }
    ++patient;
  }
  return plan;
}

}  // namespace medscribe::synth
