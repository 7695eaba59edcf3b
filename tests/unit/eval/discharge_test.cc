#include "eval/discharge.h"

#include <gtest/gtest.h>

#include "eval/discharge_baselines.h"

namespace medscribe::eval {
namespace {

// One stay's truth, as `medscribe synth --kind inpatient` writes it (fields the scorer reads).
constexpr const char* kTruth = R"({"generator":"medscribe-synth 2","kind":"inpatient",
 "encounter_id":"stay-000001","patient_id":"pat-000001",
 "problems":[
  {"name":"heart_failure","phrase":"acute on chronic systolic heart failure","outcome":"improved"},
  {"name":"acute_kidney_injury","phrase":"acute kidney injury","outcome":"resolved"},
  {"name":"I10","phrase":"hypertension","outcome":"stable"}],
 "discharge_medications":[
  {"drug":"lisinopril","name":"lisinopril","change":"stopped"},
  {"drug":"furosemide","name":"furosemide","change":"changed"},
  {"drug":"aspirin","name":"aspirin","change":"continued"}],
 "inpatient_only_medications":[{"drug":"sodium_chloride","name":"sodium chloride 0.9%"}],
 "procedures":[{"phrase":"transthoracic echocardiogram"}],
 "consults":[{"specialty":"cardiology"}],
 "follow_up":[{"with":"cardiology","within_days":14},{"with":"primary care","within_days":5}],
 "pending":[],
 "summary_document":"DocumentReference/doc-s000001-ds"})";

// Another stay of the cohort, so that the lexicons know its drug and problem.
constexpr const char* kOther = R"({"generator":"medscribe-synth 2","kind":"inpatient",
 "encounter_id":"stay-000002","patient_id":"pat-000002",
 "problems":[{"name":"pneumonia","phrase":"community-acquired pneumonia","outcome":"resolved"}],
 "discharge_medications":[{"drug":"amoxicillin","name":"amoxicillin","change":"new"}],
 "inpatient_only_medications":[],"procedures":[],"consults":[],
 "follow_up":[{"with":"primary care","within_days":7}],"pending":[{"test":"blood cultures"}]})";

constexpr const char* kGrouped = R"(DISCHARGE SUMMARY
Patient: Jane Doe  MRN: MRN1

ADMISSION DIAGNOSIS:
Acute on chronic systolic heart failure.

HOSPITAL COURSE:
A 70-year-old woman with hypertension admitted with orthopnea and found to have acute on chronic systolic heart failure.
1. Acute on chronic systolic heart failure: Diuresed; home furosemide increased from 20 mg to 40 mg daily. Clinically improved.
2. Acute kidney injury: Treated with intravenous fluids; lisinopril stopped. Resolved.
3. Hypertension: Lisinopril stopped (acute kidney injury). Stable.

PROCEDURES:
- Transthoracic echocardiogram (01/02/2024): Left ventricular ejection fraction 30 to 35%.

CONSULTATIONS:
- Cardiology (Dr. A B): Diuresis.

DISCHARGE DIAGNOSES:
1. Acute on chronic systolic heart failure (principal)
2. Acute kidney injury
3. Hypertension

DISCHARGE MEDICATIONS:
CHANGE:
- furosemide 40 mg oral daily (previously 20 mg daily; volume overload)
CONTINUE:
- aspirin 81 mg oral daily
STOP:
- lisinopril (acute kidney injury)

ALLERGIES:
NKDA.

CONDITION AT DISCHARGE:
Stable.

DISPOSITION:
Home.

FOLLOW-UP:
- Cardiology within 2 weeks: heart failure follow-up
- Primary care within 5 days: repeat basic metabolic panel

PENDING RESULTS:
None.
)";

class DischargeScoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = ParseDischargeTruth(kTruth);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auto b = ParseDischargeTruth(kOther);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    truths_ = {*a, *b};
    lexicon_ = BuildDischargeLexicon(truths_);
  }
  DischargeScores Score(const std::string& draft) {
    return ScoreDischarge({{&truths_[0], draft, kGrouped}}, lexicon_, 50);
  }
  static std::string Replace(std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  }
  std::vector<DischargeTruth> truths_;
  DischargeLexicon lexicon_;
};

TEST_F(DischargeScoreTest, TheSignedSummaryScoresPerfectly) {
  const DischargeScores s = Score(kGrouped);
  EXPECT_DOUBLE_EQ(s.problem_coverage.value, 1.0);
  EXPECT_DOUBLE_EQ(s.med_f1.value, 1.0);
  EXPECT_DOUBLE_EQ(s.unsupported_rate, 0.0);  // "heart failure follow-up" names its own problem
  EXPECT_DOUBLE_EQ(s.follow_up_completeness, 1.0);  // "2 weeks" is 14 days
  EXPECT_DOUBLE_EQ(s.invented_medication_rate, 0.0);
  EXPECT_NEAR(s.rouge_l, 1.0, 1e-9);
  EXPECT_GT(s.statements, 10u);
}

TEST_F(DischargeScoreTest, MarkedListReadsLikeGroupedList) {
  std::string marked = kGrouped;
  const size_t from = marked.find("CHANGE:\n"), to = marked.find("\nALLERGIES:");
  marked.replace(from, to - from,
                 "- furosemide 40 mg oral daily [CHANGED: previously 20 mg daily]\n"
                 "- aspirin 81 mg oral daily [CONTINUED]\n"
                 "- lisinopril [STOPPED: acute kidney injury]\n");
  const SummaryReading r = ReadSummary(marked, lexicon_);
  ASSERT_EQ(r.medications.size(), 3u);
  EXPECT_EQ(r.medications[0].drug, "furosemide");
  EXPECT_EQ(r.medications[0].change, "changed");
  EXPECT_EQ(r.medications[2].change, "stopped");
  EXPECT_DOUBLE_EQ(Score(marked).med_f1.value, 1.0);
}

TEST_F(DischargeScoreTest, AWrongChangeCostsReconciliationAndIsUnsupported) {
  // Lisinopril continued where the truth stopped it.
  const std::string draft =
      Replace(Replace(kGrouped, "STOP:\n- lisinopril (acute kidney injury)\n", ""),
              "- aspirin 81 mg oral daily\n",
              "- aspirin 81 mg oral daily\n- lisinopril 10 mg oral daily\n");
  const DischargeScores s = Score(draft);
  EXPECT_NEAR(s.med_precision, 2.0 / 3, 1e-9);
  EXPECT_NEAR(s.med_recall, 2.0 / 3, 1e-9);
  EXPECT_DOUBLE_EQ(s.drug_f1, 1.0);
  EXPECT_GT(s.unsupported_rate, 0.0);
}

TEST_F(DischargeScoreTest, AnotherPatientsDrugIsInventedAndUnsupported) {
  const std::string draft = Replace(
      kGrouped, "CONTINUE:\n", "START:\n- amoxicillin 1 g oral three times daily\nCONTINUE:\n");
  const DischargeScores s = Score(draft);
  EXPECT_NEAR(s.invented_medication_rate, 1.0 / 4, 1e-9);
  EXPECT_NEAR(s.med_precision, 3.0 / 4, 1e-9);
  EXPECT_GT(s.unsupported_rate, 0.0);
}

TEST_F(DischargeScoreTest, AProblemWithoutItsOutcomeIsMentionedNotCovered) {
  const DischargeScores s =
      Score(Replace(kGrouped, "lisinopril stopped. Resolved.", "lisinopril stopped."));
  EXPECT_NEAR(s.problem_coverage.value, 2.0 / 3, 1e-9);
  EXPECT_DOUBLE_EQ(s.problem_mentioned, 1.0);
  // Another problem's outcome word does not cover it.
  const DischargeScores w = Score(Replace(kGrouped, "Clinically improved.", "Resolved."));
  EXPECT_NEAR(w.problem_coverage.value, 2.0 / 3, 1e-9);
}

TEST_F(DischargeScoreTest, AProblemTheStayDoesNotHaveIsUnsupported) {
  const DischargeScores s = Score(Replace(kGrouped, "3. Hypertension\n\n",
                                          "3. Hypertension\n4. Community-acquired pneumonia\n\n"));
  EXPECT_NEAR(s.unsupported_rate, 1.0 / static_cast<double>(s.statements), 1e-9);
}

TEST_F(DischargeScoreTest, FollowUpNeedsTheRightTiming) {
  const DischargeScores s = Score(Replace(kGrouped, "within 2 weeks", "within 4 weeks"));
  EXPECT_DOUBLE_EQ(s.follow_up_completeness, 0.5);
}

TEST(DischargeTruthTest, ARadiologyTruthLineIsRefusedWithAHint) {
  auto t = ParseDischargeTruth(R"({"generator":"medscribe-synth 2","encounter_id":"enc-1"})");
  EXPECT_EQ(t.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("--kind inpatient"), std::string::npos);
  EXPECT_EQ(ParseDischargeTruth("{oops").status().code(), ErrorCode::kInvalidArgument);
  // A field of the wrong type is an error, not a crash.
  EXPECT_EQ(ParseDischargeTruth(R"({"generator":"medscribe-synth 2","kind":"inpatient",
    "encounter_id":"s","problems":[{"name":7}],"discharge_medications":[]})")
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ReadDischargeTruth("/nonexistent/stays.jsonl").status().code(), ErrorCode::kNotFound);
}

TEST(DischargeBaselinesTest, ExtractiveCopiesTheLastPlanAndTheHomeList) {
  BaselineStay s;
  s.last_progress_note =
      "PROGRESS NOTE - Hospital day 4\nS: Feels better.\nO: T 36.8 C.\nA/P:\n"
      "1. Community-acquired pneumonia: WBC normalized; continue amoxicillin\n"
      "Dispo: anticipate discharge tomorrow.\nDr. A B\n";
  s.home_medications = {"aspirin 81 mg oral daily"};
  const std::string x = ExtractiveSummary(s);
  EXPECT_NE(x.find("HOSPITAL COURSE:\n1. Community-acquired pneumonia: WBC normalized"),
            std::string::npos)
      << x;
  EXPECT_EQ(x.find("Dispo"), std::string::npos) << x;
  EXPECT_NE(x.find("- aspirin 81 mg oral daily [CONTINUED]"), std::string::npos) << x;
  // A Chinese progress note's plan is found by its heading.
  s.last_progress_note =
      "病程紀錄\n評估與計畫：\n1. Cellulitis of the left lower leg：持續觀察\n主治醫師：A B\n";
  EXPECT_NE(ExtractiveSummary(s).find("1. Cellulitis of the left lower leg"), std::string::npos);
}

TEST(DischargeBaselinesTest, RetrievalTakesTheNearestOtherPatientsSummary) {
  BaselineStay q{"s1", "p1", {"J18.9", "I10"}, {"2193"}, {}, "", ""};
  std::vector<BaselineStay> pool = {
      {"s2", "p1", {"J18.9", "I10"}, {"2193"}, {}, "", "same patient"},
      {"s3", "p3", {"N10"}, {"2551"}, {}, "", "pyelonephritis"},
      {"s4", "p4", {"J18.9"}, {"2193"}, {}, "", "pneumonia"},
  };
  EXPECT_EQ(RetrievalSummary(q, pool), "pneumonia");
  EXPECT_EQ(RetrievalSummary(q, {pool[0]}), "");
}

}  // namespace
}  // namespace medscribe::eval
