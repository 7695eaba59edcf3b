#include "model/discharge_prompt.h"

#include <gtest/gtest.h>

namespace medscribe::model {
namespace {

// A stay sample as ingest writes it (ingest/stay_sample.h), small.
constexpr const char* kSample = R"({
 "task": "discharge_summary", "target_report": "DISCHARGE SUMMARY ...",
 "modalities": {"speech_transcript": null, "structured": {
  "patient": {"sex": "female", "age": "67"},
  "encounter": {"class": "IMP", "length_of_stay_days": 4, "disposition": "home"},
  "problems": [
   {"id": "P1", "code": "J18.9", "display": "Pneumonia, unspecified organism",
    "category": "encounter-diagnosis", "day": 0},
   {"id": "P2", "code": "I10", "display": "Essential (primary) hypertension",
    "category": "problem-list-item", "day": null}],
  "allergies": [{"id": "A1", "display": "penicillin", "reactions": ["hives"]}],
  "medications": [
   {"id": "M1", "display": "lisinopril", "category": "community", "status": "stopped",
    "dosage": "10 mg oral daily", "status_reason": "held on admission: acute kidney injury",
    "for": [], "start_day": null, "days_given": []},
   {"id": "M2", "display": "levofloxacin", "category": "inpatient", "status": "completed",
    "dosage": "750 mg intravenous daily", "status_reason": null, "for": ["P1"], "start_day": 0,
    "days_given": [0, 1]},
   {"id": "M3", "display": "levofloxacin", "category": "inpatient", "status": "active",
    "dosage": "750 mg oral daily", "status_reason": null, "for": ["P1"], "start_day": 2,
    "days_given": [2, 3, 4]}],
  "labs": [
   {"code": "6690-2", "display": "Leukocytes", "unit": "10*3/uL", "low": 4, "high": 11,
    "values": [{"id": "L1", "day": 0, "value": 14.1, "flag": "H"},
               {"id": "L2", "day": 1, "value": 16.0, "flag": "H"},
               {"id": "L3", "day": 2, "value": 11.2, "flag": "H"},
               {"id": "L4", "day": 4, "value": 8.0, "flag": "N"}]},
   {"code": "2951-2", "display": "Sodium", "unit": "mmol/L", "low": 135, "high": 145,
    "values": [{"id": "L5", "day": 0, "value": 139, "flag": "N"},
               {"id": "L6", "day": 4, "value": 140, "flag": "N"}]}],
  "vitals": [
   {"code": "8310-5", "display": "Body temperature", "unit": "Cel", "low": 36.1, "high": 37.8,
    "values": [{"id": "V1", "day": 0, "value": 38.9, "flag": "H"},
               {"id": "V2", "day": 4, "value": 36.8, "flag": "N"}]}],
  "procedures": [],
  "pending": [{"id": "L7", "code": "600-7", "display": "Bacteria identified in Blood by Culture",
               "day": 0, "status": "preliminary", "result": "No growth to date"}],
  "imaging": [{"id": "I1", "day": 0, "conclusion": "Consolidation in the right lower lobe.",
               "text": "EXAM: XR Chest 2 views\nIMPRESSION: Consolidation in the right lower lobe.\n"}],
  "notes": [
   {"id": "N1", "type": "34117-2", "day": 0, "language": "en",
    "text": "HISTORY AND PHYSICAL\nPatient: [NAME] MRN: [MRN]\nCHIEF COMPLAINT: Cough.\nASSESSMENT AND PLAN:\n1. Community-acquired pneumonia: start levofloxacin 750 mg intravenous daily\n"},
   {"id": "N2", "type": "11506-3", "day": 1, "language": "en",
    "text": "PROGRESS NOTE - Hospital day 2\nS: Better.\nA/P:\n1. Community-acquired pneumonia: WBC 16.0 (admission 14.1); continue levofloxacin\nUpdated daughter [NAME] by phone at [PHONE].\n"},
   {"id": "N3", "type": "11506-3", "day": 3, "language": "zh-TW",
    "text": "病程紀錄\n評估與計畫：\n1. Community-acquired pneumonia：WBC normalized 8.0；continue levofloxacin 750 mg oral daily\n"}]}}})";

json::Value Sample() {
  auto v = json::Parse(kSample);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return *v;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(DischargePromptTest, QuotesTheRecordWithSourceTags) {
  auto p = BuildDischargePrompt(Sample());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string& t = p->text;
  EXPECT_EQ(t.rfind("<discharge>\n<patient> 67 female; inpatient, 4 days; disposition home\n", 0),
            0u)
      << t;
  EXPECT_TRUE(
      Has(t, "[P1] J18.9 Pneumonia (day 0); [P2] I10 Essential (primary) hypertension (history)"))
      << t;
  EXPECT_TRUE(Has(t, "<allergies> [A1] penicillin: hives")) << t;
  EXPECT_TRUE(Has(t,
                  "<home medications> [M1] lisinopril 10 mg oral daily: stopped (held on "
                  "admission: acute kidney injury)"))
      << t;
  EXPECT_TRUE(Has(t,
                  "[M2] levofloxacin 750 mg intravenous daily, days 0-1, completed, for P1; "
                  "[M3] levofloxacin 750 mg oral daily, days 2-4, active, for P1"))
      << t;
  // WBC: first, most abnormal, last; sodium never abnormal, left out.
  EXPECT_TRUE(Has(t, "<labs> WBC 10*3/uL: day 0 14.1 H [L1], day 1 16 H [L2], day 4 8 [L4]\n"))
      << t;
  EXPECT_FALSE(Has(t, "sodium")) << t;
  EXPECT_TRUE(Has(t, "<vitals> temperature Cel: day 0 38.9 H [V1], day 4 36.8 [V2]")) << t;
  EXPECT_TRUE(
      Has(t, "<imaging> [I1] day 0 XR Chest 2 views: Consolidation in the right lower lobe."))
      << t;
  EXPECT_TRUE(Has(t,
                  "<pending> [L7] day 0 Bacteria identified in Blood by Culture: preliminary, "
                  "No growth to date\n"))
      << t;
  // Notes: plans only, without the segments that held identifiers.
  EXPECT_TRUE(Has(t, "[N1] day 0 admission: 1. Community-acquired pneumonia: start levofloxacin"))
      << t;
  EXPECT_FALSE(Has(t, "CHIEF COMPLAINT")) << t;
  EXPECT_FALSE(Has(t, "[NAME]")) << t;
  EXPECT_FALSE(Has(t, "[PHONE]")) << t;
  EXPECT_TRUE(Has(t, "[N3] day 3 progress: 1. Community-acquired pneumonia：WBC normalized")) << t;
  const std::string ending = "\n<dictation> none\n<summary>";
  EXPECT_EQ(t.substr(t.size() - ending.size()), ending) << t;
  EXPECT_EQ(p->target, "DISCHARGE SUMMARY ...");
  // The same sample gives the same bytes.
  EXPECT_EQ(BuildDischargePrompt(Sample())->text, t);
}

TEST(DischargePromptTest, ABudgetDropsEarlierProgressNotesFirst) {
  const std::string full = BuildDischargePrompt(Sample())->text;
  DischargePromptOptions o;
  o.max_chars = full.size() - 20;  // no room for every note
  auto p = BuildDischargePrompt(Sample(), o);
  ASSERT_TRUE(p.ok());
  EXPECT_LE(p->text.size(), o.max_chars);
  EXPECT_TRUE(Has(p->text, "[N1]")) << p->text;  // admission
  EXPECT_TRUE(Has(p->text, "[N3]")) << p->text;  // latest progress note
  EXPECT_FALSE(Has(p->text, "[N2]")) << p->text;
  EXPECT_TRUE(Has(p->text, "day 1 16 H [L2]")) << p->text;  // the labs keep their detail
  // Tighter still: the labs lose their most abnormal value before a first-priority note goes.
  const size_t n2 = full.find(" [N3]") - full.find("[N2]");
  o.max_chars = full.size() - n2 - std::string(", day 1 16 H [L2]").size() + 5;
  auto q = BuildDischargePrompt(Sample(), o);
  ASSERT_TRUE(q.ok());
  EXPECT_LE(q->text.size(), o.max_chars);
  EXPECT_TRUE(Has(q->text, "WBC 10*3/uL: day 0 14.1 H [L1], day 4 8 [L4]")) << q->text;
  EXPECT_TRUE(Has(q->text, "[N1]") && Has(q->text, "[N3]")) << q->text;
}

TEST(DischargePromptTest, RefusesARadiologySample) {
  auto v = json::Parse(R"({"task": "radiology_report", "modalities": {}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(BuildDischargePrompt(*v).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace medscribe::model
