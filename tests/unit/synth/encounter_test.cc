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
    const auto icu = SampleFindings(Department::kICU, Anatomy{}, rng);
    const auto out = SampleFindings(Department::kOutpatient, Anatomy{}, rng);
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
    const auto fs = SampleFindings(Department::kCardiology, Anatomy{}, rng);
    const bool c = HasType(fs, FindingType::kCardiomegaly), e = HasType(fs, FindingType::kEdema);
    (c ? cardio : other)++;
    (c ? cardio_edema : other_edema) += e;
    const auto ed = SampleFindings(Department::kED, Anatomy{}, rng);
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
    for (const Finding& f : SampleFindings(Department::kOncology, Anatomy{}, rng)) {
      if (f.type == FindingType::kNodule) {
        EXPECT_TRUE(f.size_mm >= 5 && f.size_mm <= 28);
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

TEST(SampleLabsTest, LabsCorrelateWithFindings) {
  Rng rng(4);
  const std::vector<Finding> pneumonia = {
      {FindingType::kConsolidation, Side::kRight, Zone::kLower, Severity::kModerate}};
  const std::vector<Finding> chf = {{FindingType::kEdema, Side::kBilateral},
                                    {FindingType::kCardiomegaly}};
  const std::vector<Finding> ptx = {{FindingType::kPneumothorax, Side::kLeft}};
  int wbc_high = 0, wbc_high_normal = 0, bnp_high = 0, spo2_low = 0;
  const int n = 500;
  auto flag = [](const std::vector<LabResult>& labs, std::string_view key) {
    for (const LabResult& l : labs)
      if (l.spec->key == key) return l.flag;
    return '-';
  };
  for (int i = 0; i < n; ++i) {
    wbc_high += flag(SampleLabs(Department::kED, pneumonia, rng), "wbc") == 'H';
    wbc_high_normal += flag(SampleLabs(Department::kED, {}, rng), "wbc") == 'H';
    bnp_high += flag(SampleLabs(Department::kCardiology, chf, rng), "bnp") == 'H';
    spo2_low += flag(SampleLabs(Department::kED, ptx, rng), "spo2") == 'L';
  }
  EXPECT_GT(wbc_high, n * 7 / 10);
  EXPECT_LT(wbc_high_normal, n / 20);
  EXPECT_GT(bnp_high, n * 8 / 10);
  EXPECT_EQ(spo2_low, n);
  for (const LabResult& l : SampleLabs(Department::kICU, chf, rng)) {
    EXPECT_EQ(l.flag, l.value > l.spec->high ? 'H' : l.value < l.spec->low ? 'L' : 'N');
  }
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

}  // namespace
}  // namespace medscribe::synth
