#include "eval/record_baseline.h"

#include <gtest/gtest.h>

#include "eval/phrasebook.h"

namespace medscribe::eval {
namespace {

using Json = nlohmann::json;

// A sample with every field a dataset sample has, pre- and post-study.
Json FullSample() {
  return Json::parse(R"({
    "schema_version": 2, "key": "ENC-0123456789ab", "task": "radiology_report",
    "patient_id": "P0123456789ABCDE", "encounter_id": "ENC-0123456789ab",
    "modalities": {
      "image": {"member": "img.npy", "shape": [1, 4, 4]},
      "structured": {
        "patient": {"sex": "female", "age": "67"},
        "encounter": {"class": "EMER", "department": "Emergency Department"},
        "labs": [{"code": "6690-2", "value": 17.2, "unit": "10*3/uL", "interpretation": "H",
                  "hours_before_study": 2.0}],
        "conditions": [
          {"code": "I50.9", "category": "problem-list-item", "hours_before_study": 40000},
          {"code": "R05.9", "category": "encounter-diagnosis", "verification": "provisional",
           "hours_before_study": 0.7}],
        "procedures": [{"code": "31500"}],
        "order": {"reason": "Cough and fever. Rule out pneumonia.", "codes": [{"code": "R05.9"}]}},
      "text_context": "Seen for cough. History: heart failure. 病人主訴發燒",
      "speech_transcript": "no prior studies are available"},
    "target_report": "FINDINGS: Right lower zone consolidation.\nIMPRESSION: Pneumonia.",
    "meta": {"modality_type": "DX", "department": "Emergency Department", "device_model": "X",
             "date_time": "2021-01-01T00:00:00", "annotator_id": "RAD-1",
             "primary_finding": "J18"}})");
}

TEST(RecordFeaturesTest, OnlyPreStudySourcesAndNothingPostStudyChangesThem) {
  const Json s = FullSample();
  const auto f = RecordFeatures(s);
  ASSERT_FALSE(f.empty());
  for (const std::string& x : f) {
    bool known = false;
    for (const char* p : kRecordFeaturePrefixes) known |= x.rfind(p, 0) == 0;
    EXPECT_TRUE(known) << "feature from an undeclared source: " << x;
  }
  EXPECT_TRUE(std::binary_search(f.begin(), f.end(), "problem:I50.9"));
  EXPECT_TRUE(std::binary_search(f.begin(), f.end(), "lab:6690-2:H"));
  EXPECT_TRUE(std::binary_search(f.begin(), f.end(), "order:pneumonia"));
  EXPECT_TRUE(std::binary_search(f.begin(), f.end(), "dict:prior"));
  EXPECT_TRUE(std::binary_search(f.begin(), f.end(), "note:病"));
  // What is known only after the study, and anything outside the record, changes nothing: the
  // report, the meta (primary finding, annotator), ids, the image, and encounter diagnoses
  // recorded after the study or without a time.
  std::vector<Json> post;
  for (const char* path :
       {"/target_report", "/meta/primary_finding", "/meta/annotator_id", "/meta/date_time", "/key",
        "/patient_id", "/encounter_id", "/modalities/image/member"}) {
    Json t = s;
    t[Json::json_pointer(path)] = "J93.9 pneumothorax consolidation";
    post.push_back(t);
  }
  for (const Json& dx : {Json{{"code", "J18.9"},
                              {"category", "encounter-diagnosis"},
                              {"verification", "confirmed"},
                              {"hours_before_study", -8.0}},
                         Json{{"code", "J18.9"}, {"category", "encounter-diagnosis"}}}) {
    Json t = s;
    t["modalities"]["structured"]["conditions"].push_back(dx);
    post.push_back(t);
  }
  for (const Json& t : post) EXPECT_EQ(RecordFeatures(t), f) << t.dump();
  // Without the dictation, its words are gone.
  const auto no_dict = RecordFeatures(s, /*dictation=*/false);
  EXPECT_FALSE(std::binary_search(no_dict.begin(), no_dict.end(), "dict:prior"));
}

TEST(RecordBaselineTest, LearnsWhatTheRecordSaysAndWritesItInThePhrasebooksWords) {
  // Leukocytosis predicts pneumonia in this toy world; department predicts devices.
  std::vector<std::vector<std::string>> x;
  std::vector<Labels> y;
  std::vector<std::string> reports;
  for (int i = 0; i < 400; ++i) {
    const bool pneumonia = i % 3 == 0, icu = i % 4 == 0;
    x.push_back({pneumonia ? "lab:6690-2:H" : "lab:6690-2:N", icu ? "dept:ICU" : "dept:ED"});
    std::string r = "FINDINGS: ";
    r += pneumonia ? "Right lower zone consolidation, consistent with pneumonia. "
                   : "No focal consolidation. ";
    r += icu ? "Endotracheal tube in place." : "";
    if (!pneumonia && !icu) r += "No acute cardiopulmonary process.";
    reports.push_back(r);
    y.push_back(LabelReport(r));
  }
  const RecordBaseline b = RecordBaseline::Train(x, y);
  const Labels p = b.Predict({"lab:6690-2:H", "dept:ED"});
  EXPECT_TRUE(p.positive(kConsolidation));
  EXPECT_TRUE(p.positive(kPneumonia));
  EXPECT_FALSE(p.positive(kSupportDevices));
  const Labels q = b.Predict({"lab:6690-2:N", "dept:ICU"});
  EXPECT_FALSE(q.positive(kConsolidation));
  EXPECT_TRUE(q.positive(kSupportDevices));
  EXPECT_TRUE(q.positive(kNoFinding));
  // The phrasebook writes labels back in the training reports' words, and the labeler reads
  // the same labels out of them.
  const Phrasebook book(reports);
  for (const Labels& l : {p, q}) {
    const std::string text = book.Write(l);
    const Labels back = LabelReport(text);
    for (int c = 0; c < kNumClasses; ++c) EXPECT_EQ(back.positive(c), l.positive(c)) << text;
  }
}

}  // namespace
}  // namespace medscribe::eval
