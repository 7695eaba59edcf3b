#include "synth/report.h"

#include <gtest/gtest.h>

#include "testing/synth_plan.h"

namespace medscribe::synth {
namespace {

using medscribe::testing::SmallPlan;

TEST(ReportTest, HasAllSectionsInOrder) {
  const CohortPlan plan = SmallPlan(40);
  for (const Encounter& e : plan.encounters) {
    Rng rng(1);
    std::vector<std::string> phi;
    const std::string text = ComposeReport(e, plan, rng, &phi).Text();
    size_t pos = 0;
    for (const char* h : {"EXAMINATION: ", "INDICATION: ", "COMPARISON: ", "FINDINGS: ",
                          "IMPRESSION: ", "RECOMMENDATION: "}) {
      const size_t at = text.find(h, pos);
      ASSERT_NE(at, std::string::npos) << h << "\n" << text;
      pos = at;
    }
  }
}

TEST(ReportTest, ImpressionIntegratesLabsAndFindingsAreDescribed) {
  CohortPlan plan = SmallPlan(1);
  Encounter& e = plan.encounters[0];
  e.findings = {{FindingType::kConsolidation, Side::kRight, Zone::kLower, Severity::kModerate},
                {FindingType::kPleuralEffusion, Side::kLeft, Zone::kLower, Severity::kMild}};
  Rng lab_rng(1);
  Encounter plain = e;
  plain.department = Department::kED;
  plain.findings.clear();
  e.labs = SampleLabs(plain, 50, 'F', lab_rng);
  for (LabResult& l : e.labs)
    if (l.spec->key == "wbc") l.value = 17.2, l.flag = 'H';
  Rng rng(2);
  std::vector<std::string> phi;
  const Report r = ComposeReport(e, plan, rng, &phi);
  EXPECT_NE(r.impression.find("leukocytosis"), std::string::npos) << r.impression;
  EXPECT_NE(r.impression.find("17.2"), std::string::npos);
  EXPECT_NE(r.findings.find("right lower zone"), std::string::npos) << r.findings;
  EXPECT_NE(r.findings.find("left"), std::string::npos);
  EXPECT_NE(r.recommendation.find("6 to 8 weeks"), std::string::npos);
}

TEST(ReportTest, ComparisonComesFromTheDictation) {
  CohortPlan plan = SmallPlan(300);
  int checked = 0;
  for (const Encounter& e : plan.encounters) {
    if (e.prior < 0 || e.Primary() == nullptr || e.change != Change::kIncreased) continue;
    Rng rng(4);
    std::vector<std::string> phi;
    const Report r = ComposeReport(e, plan, rng, &phi);
    const std::string dictation = ComposeDictation(e, rng);
    EXPECT_NE(r.impression.find("increased"), std::string::npos) << r.impression;
    EXPECT_TRUE(dictation.find("increased") != std::string::npos ||
                dictation.find("larger") != std::string::npos ||
                dictation.find("worsening") != std::string::npos)
        << dictation;
    EXPECT_NE(
        r.comparison.find(plan.encounters[static_cast<size_t>(e.prior)].study_time.date.Iso()),
        std::string::npos);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(ReportTest, NormalStudyHasNormalImpression) {
  CohortPlan plan = SmallPlan(1);
  Encounter& e = plan.encounters[0];
  e.findings.clear();
  e.change = Change::kNoPrior;
  e.prior = -1;
  Rng rng(1);
  std::vector<std::string> phi;
  const Report r = ComposeReport(e, plan, rng, &phi);
  EXPECT_TRUE(r.impression.find("No acute") != std::string::npos ||
              r.impression.find("Normal") != std::string::npos ||
              r.impression.find("No active") != std::string::npos)
      << r.impression;
  EXPECT_EQ(r.comparison, "None.");
  EXPECT_NE(r.findings.find("No pleural effusion or pneumothorax"), std::string::npos);
}

TEST(DictationTest, SaysWhatOnlyTheDictationKnows) {
  CohortPlan plan = SmallPlan(1);
  Encounter& e = plan.encounters[0];
  e.findings = {{FindingType::kPleuralEffusion, Side::kRight, Zone::kLower, Severity::kModerate}};
  e.change = Change::kDecreased;
  e.urgent = true;
  // The change is always stated; the finding and its side only sometimes (the image says them).
  int named = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Rng rng(seed);
    const std::string d = ComposeDictation(e, rng);
    named += d.find("right pleural effusion") != std::string::npos;
    EXPECT_TRUE(d.find("decreased") != std::string::npos ||
                d.find("smaller") != std::string::npos ||
                d.find("improvement") != std::string::npos)
        << d;
    EXPECT_TRUE(d.find("rgent") != std::string::npos) << d;
  }
  EXPECT_GT(named, 40);
  EXPECT_LT(named, 120);
  Rng rng(1);
  e.change = Change::kNoPrior;
  EXPECT_NE(ComposeDictation(e, rng).find("No prior studies"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::synth
