#include "synth/encounter.h"

#include <gtest/gtest.h>

#include <set>

#include "synth/cohort.h"
#include "testing/synth_plan.h"

namespace medscribe::synth {
namespace {

bool HasType(const std::vector<Finding>& fs, FindingType t) {
  for (const Finding& f : fs)
    if (f.type == t) return true;
  return false;
}

TEST(SampleFindingsTest, PrevalenceDependsOnDepartment) {
  Rng rng(1);
  int icu_devices = 0, outpatient_devices = 0, outpatient_normal = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto icu = SampleFindings(Department::kICU, Anatomy{}, {}, rng);
    const auto out = SampleFindings(Department::kOutpatient, Anatomy{}, {}, rng);
    icu_devices +=
        HasType(icu, FindingType::kEndotrachealTube) || HasType(icu, FindingType::kCentralLine);
    outpatient_devices +=
        HasType(out, FindingType::kEndotrachealTube) || HasType(out, FindingType::kCentralLine);
    bool abnormal = false;
    for (const Finding& f : out) abnormal = abnormal || !IsSupportDevice(f.type);
    outpatient_normal += !abnormal;
  }
  EXPECT_GT(icu_devices, 1000);
  EXPECT_LT(outpatient_devices, 20);
  EXPECT_GT(outpatient_normal, 1400);
}

TEST(SampleFindingsTest, FindingsCoOccurAsClinically) {
  Rng rng(2);
  int cardio = 0, cardio_edema = 0, other = 0, other_edema = 0, ptx = 0, ptx_tube_same_side = 0;
  for (int i = 0; i < 4000; ++i) {
    const auto fs = SampleFindings(Department::kCardiology, Anatomy{}, {}, rng);
    const bool c = HasType(fs, FindingType::kCardiomegaly), e = HasType(fs, FindingType::kEdema);
    (c ? cardio : other)++;
    (c ? cardio_edema : other_edema) += e;
    const auto ed = SampleFindings(Department::kED, Anatomy{}, {}, rng);
    for (const Finding& f : ed) {
      if (f.type != FindingType::kPneumothorax) continue;
      ++ptx;
      for (const Finding& g : ed)
        ptx_tube_same_side += g.type == FindingType::kChestTube && g.side == f.side;
    }
  }
  EXPECT_GT(static_cast<double>(cardio_edema) / cardio, 1.5 * other_edema / other);
  EXPECT_GT(ptx_tube_same_side, ptx / 4);
}

TEST(SampleFindingsTest, AttributesAreInRange) {
  Rng rng(3);
  for (int i = 0; i < 3000; ++i) {
    for (const Finding& f : SampleFindings(Department::kOncology, Anatomy{}, {}, rng)) {
      if (f.type == FindingType::kNodule) {
        EXPECT_TRUE(f.size_mm >= 8 && f.size_mm <= 28);
      }
      if (f.type == FindingType::kMass) {
        EXPECT_TRUE(f.size_mm > 30 && f.size_mm <= 75);
      }
      if (f.type == FindingType::kCardiomegaly) {
        EXPECT_GT(f.ctr, 0.5);
      }
      if (f.type == FindingType::kConsolidation || f.type == FindingType::kNodule) {
        EXPECT_NE(f.side, Side::kNone);
        EXPECT_NE(f.zone, Zone::kNone);
        EXPECT_GT(f.u, 0.0);
      }
    }
  }
}

Encounter EncounterWith(Department d, std::vector<Finding> findings,
                        std::vector<Problem> history = {}) {
  Encounter e;
  e.department = d;
  e.findings = std::move(findings);
  e.history = std::move(history);
  return e;
}

char Flag(const std::vector<LabResult>& labs, std::string_view key) {
  for (const LabResult& l : labs)
    if (l.spec->key == key) return l.flag;
  return '-';
}

TEST(SampleLabsTest, LabsShiftWithFindingsButOverlapAsInPractice) {
  Rng rng(4);
  const Encounter pneumonia = EncounterWith(
      Department::kED,
      {{FindingType::kConsolidation, Side::kRight, Zone::kLower, Severity::kModerate}});
  const Encounter normal = EncounterWith(Department::kED, {});
  const Encounter chf =
      EncounterWith(Department::kCardiology,
                    {{FindingType::kEdema, Side::kBilateral}, {FindingType::kCardiomegaly}});
  const Encounter hf_history =
      EncounterWith(Department::kCardiology, {}, {{Chronic::kHeartFailure, Date{2015, 1, 1}}});
  const Encounter plain = EncounterWith(Department::kCardiology, {});
  int wbc_high = 0, wbc_high_normal = 0, crp_high_normal = 0, crp_normal_pneumonia = 0;
  int bnp_chf = 0, bnp_history = 0, bnp_plain = 0;
  const int n = 1000;
  for (int i = 0; i < n; ++i) {
    const auto p = SampleLabs(pneumonia, 60, 'F', rng), q = SampleLabs(normal, 60, 'F', rng);
    wbc_high += Flag(p, "wbc") == 'H';
    crp_normal_pneumonia += Flag(p, "crp") == 'N';
    wbc_high_normal += Flag(q, "wbc") == 'H';
    crp_high_normal += Flag(q, "crp") == 'H';
    bnp_chf += Flag(SampleLabs(chf, 70, 'M', rng), "bnp") == 'H';
    bnp_history += Flag(SampleLabs(hf_history, 70, 'M', rng), "bnp") == 'H';
    bnp_plain += Flag(SampleLabs(plain, 70, 'M', rng), "bnp") == 'H';
  }
  // The findings shift the labs...
  EXPECT_GT(wbc_high, 3 * wbc_high_normal);
  EXPECT_GT(bnp_chf, n * 7 / 10);
  // ...but the distributions overlap: raised CRP and WBC in normal films, normal values in
  // pneumonia, BNP raised by a history of heart failure without edema.
  EXPECT_GT(crp_high_normal, n / 10);
  EXPECT_GT(wbc_high_normal, n / 40);
  EXPECT_GT(crp_normal_pneumonia, n / 20);
  EXPECT_GT(bnp_history, 2 * bnp_plain);
  EXPECT_LT(wbc_high, n * 9 / 10);
  for (const LabResult& l : SampleLabs(chf, 80, 'F', rng)) {
    EXPECT_EQ(l.flag, l.value > l.spec->high ? 'H' : l.value < l.spec->low ? 'L' : 'N');
  }
}

TEST(OrderTest, TheOrderNamesTheFindingOnlySometimesAndNeverASide) {
  const CohortPlan plan = testing::SmallPlan(2000, 11);
  int abnormal = 0, suspected = 0, rule_out = 0, routine = 0, normal_rule_out = 0, normal = 0;
  for (const Encounter& e : plan.encounters) {
    EXPECT_EQ(e.reason.find("right"), std::string::npos) << e.reason;
    EXPECT_EQ(e.reason.find("left"), std::string::npos) << e.reason;
    EXPECT_FALSE(e.working_diagnosis.code.empty());
    EXPECT_TRUE(e.priority == "stat" || e.priority == "urgent" || e.priority == "routine");
    switch (e.indication) {
      case IndicationKind::kSuspected:
        ++suspected;
        ASSERT_NE(e.Primary(), nullptr);
        EXPECT_EQ(e.suspected, e.Primary()->type);
        break;
      case IndicationKind::kRuleOut:
        ++rule_out;
        EXPECT_FALSE(e.Has(e.suspected));
        break;
      case IndicationKind::kRoutine:
        ++routine;
        break;
    }
    if (e.Primary()) {
      ++abnormal;
    } else {
      ++normal;
      normal_rule_out += e.indication == IndicationKind::kRuleOut;
    }
  }
  EXPECT_GT(suspected, abnormal * 35 / 100);
  EXPECT_LT(suspected, abnormal * 55 / 100);
  EXPECT_GT(normal_rule_out, normal * 4 / 10);
  EXPECT_GT(routine, 200);
  EXPECT_GT(rule_out, suspected);
}

TEST(HistoryTest, ProblemsPrecedeTheFirstVisitAndRaiseRelatedFindings) {
  const Date visit{2024, 6, 1};
  int with_problems = 0;
  for (int i = 0; i < 500; ++i) {
    const auto h = MakeHistory(3, i, 75, 'M', visit);
    with_problems += !h.empty();
    for (const Problem& p : h) {
      EXPECT_LT(p.onset, visit);
      EXPECT_FALSE(ChronicCode(p.condition).empty());
      EXPECT_NE(p.condition, Chronic::kBreastCancer);  // women only in this cohort
    }
  }
  EXPECT_GT(with_problems, 300);
  const std::vector<Problem> hf = {{Chronic::kHeartFailure, Date{2010, 1, 1}}};
  EXPECT_GT(HistoryFactor(hf, FindingType::kEdema), 1.5);
  EXPECT_EQ(HistoryFactor(hf, FindingType::kRibFracture), 1.0);
  EXPECT_EQ(HistoryFactor({}, FindingType::kEdema), 1.0);
}

TEST(CodesTest, ConditionsMatchFindingsUnlessDiscrepant) {
  Rng rng(5);
  std::string what;
  const std::vector<Finding> fs = {{FindingType::kPleuralEffusion, Side::kRight},
                                   {FindingType::kPacemaker}};
  const auto codes = ConditionsFor(fs, false, rng, &what);
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_EQ(codes[0].code, "J90");
  EXPECT_EQ(codes[0].system, kIcd10Cm);
  EXPECT_EQ(codes[1].code, "Z95.0");
  EXPECT_TRUE(what.empty());
  const auto bad = ConditionsFor({}, true, rng, &what);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].code, "J18.9");
  EXPECT_NE(what.find("J18.9"), std::string::npos);
  const auto procs = ProceduresFor(fs, rng);
  EXPECT_EQ(procs[0].code, "71045");
  EXPECT_EQ(procs[0].system, kCpt);
}

TEST(UidTest, UidsAreValidStableAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    for (const char* kind : {"study", "series", "sop"}) {
      const std::string uid = MakeUid(7, kind, i);
      ASSERT_LE(uid.size(), 64u);
      ASSERT_EQ(uid.rfind("2.25.", 0), 0u);
      ASSERT_NE(uid[5], '0');
      ASSERT_EQ(uid.find_first_not_of("0123456789", 5), std::string::npos);
      ASSERT_TRUE(seen.insert(uid).second) << uid;
    }
  }
  EXPECT_EQ(MakeUid(7, "study", 3), MakeUid(7, "study", 3));
  EXPECT_NE(MakeUid(7, "study", 3), MakeUid(8, "study", 3));
}

TEST(PlanCohortTest, PlansPatientsWithOrderedPriorVisits) {
  const CohortPlan plan = testing::SmallPlan(300, 9);
  ASSERT_EQ(plan.encounters.size(), 300u);
  EXPECT_LT(plan.patients.size(), 280u);
  EXPECT_GT(plan.patients.size(), 150u);
  int missing_accession = 0, zh = 0, priors = 0;
  std::set<std::string> accessions;
  for (const Encounter& e : plan.encounters) {
    EXPECT_TRUE(accessions.insert(e.accession).second);
    missing_accession += !e.accession_in_dicom;
    zh += e.note_zh;
    EXPECT_LT(e.labs_time, e.study_time);
    EXPECT_LT(e.study_time, e.report_time);
    if (e.prior >= 0) {
      ++priors;
      const Encounter& p = plan.encounters[static_cast<size_t>(e.prior)];
      EXPECT_EQ(p.patient, e.patient);
      EXPECT_LT(p.study_time, e.study_time);
      EXPECT_NE(e.change, Change::kNoPrior);
    } else {
      EXPECT_EQ(e.change, Change::kNoPrior);
    }
  }
  EXPECT_GT(missing_accession, 0);
  EXPECT_LT(missing_accession, 30);
  EXPECT_GT(zh, 10);
  EXPECT_LT(zh, 60);
  EXPECT_GT(priors, 20);
}

TEST(PlanCohortTest, ADeviceMixAndALabShiftChangeOnlyWhatTheyName) {
  SynthOptions o;
  o.encounters = 200;
  o.seed = 9;
  const CohortPlan base = PlanCohort(o);
  o.device_mix = {0, 0, 0, 1};
  o.lab_shift = {{"crp", 2.0}};
  o.out_dir = "x";
  ASSERT_TRUE(ValidateOptions(o).ok());
  const CohortPlan shifted = PlanCohort(o);
  ASSERT_EQ(base.encounters.size(), shifted.encounters.size());
  int crp = 0;
  for (size_t i = 0; i < base.encounters.size(); ++i) {
    const Encounter& a = base.encounters[i];
    const Encounter& b = shifted.encounters[i];
    EXPECT_EQ(b.device, 3);
    EXPECT_EQ(a.department, b.department);
    ASSERT_EQ(a.findings.size(), b.findings.size());
    ASSERT_EQ(a.labs.size(), b.labs.size());
    for (size_t k = 0; k < a.labs.size(); ++k) {
      const LabResult& x = a.labs[k];
      const LabResult& y = b.labs[k];
      if (x.spec->key != "crp") {
        EXPECT_EQ(x.value, y.value);
        continue;
      }
      ++crp;
      EXPECT_NEAR(y.value, 2 * x.value, 0.051 + 1e-9 * x.value);
      EXPECT_EQ(y.flag, y.value > y.spec->high ? 'H' : y.value < y.spec->low ? 'L' : 'N');
    }
  }
  EXPECT_GT(crp, 20);
}

TEST(PlanCohortTest, ABadDeviceMixOrLabShiftIsRefusedNamingIt) {
  SynthOptions o;
  o.out_dir = "x";
  o.encounters = 1;
  o.device_mix = {1, 1};
  Status s = ValidateOptions(o);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--device-mix takes 4 weights"), std::string::npos) << s.message();
  o.device_mix = {0, 0, 0, 0};
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.device_mix = {1, -1, 1, 1};
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.device_mix.clear();
  o.lab_shift = {{"sodium", 1.1}};
  s = ValidateOptions(o);
  EXPECT_NE(s.message().find("no lab 'sodium'"), std::string::npos) << s.message();
  o.lab_shift = {{"crp", 0}};
  EXPECT_FALSE(ValidateOptions(o).ok());
}

}  // namespace
}  // namespace medscribe::synth
