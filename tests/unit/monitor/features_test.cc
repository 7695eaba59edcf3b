#include "monitor/features.h"

#include <gtest/gtest.h>

#include <vector>

namespace medscribe::monitor {
namespace {

const char* kSample = R"({
  "modalities": {
    "structured": {
      "encounter": {"department": "ICU", "class": "IMP"},
      "patient": {"sex": "F", "age": "90+"},
      "labs": [{"code": "6690-2", "value": 15.1}, {"code": "1988-5", "value": 80},
               {"code": "8310-5", "value": "high"}]
    },
    "image": {"sources": [{"device_model": "HX-Flex", "modality": "CR", "view_position": "AP",
                           "pixel_spacing_mm": [0.139, 0.139]}]},
    "speech_transcript": "small left effusion, increased"
  }
})";

TEST(Features, InputSideOfASample) {
  ProfileBuilder b;
  ASSERT_TRUE(AddSampleFeatures(kSample, b));
  const Profile p = b.Build();
  EXPECT_EQ(p.features.at("department").counts.at("ICU"), 1);
  EXPECT_EQ(p.features.at("encounter_class").counts.at("IMP"), 1);
  EXPECT_EQ(p.features.at("sex").counts.at("F"), 1);
  EXPECT_EQ(p.features.at("device_model").counts.at("HX-Flex"), 1);
  EXPECT_EQ(p.features.at("modality").counts.at("CR"), 1);
  EXPECT_EQ(p.features.at("view").counts.at("AP"), 1);
  EXPECT_EQ(p.features.at("pixel_spacing_mm").total(), 1);
  EXPECT_EQ(p.features.at("dictation").counts.at("present"), 1);
  EXPECT_TRUE(p.features.at("age").numeric);  // "90+" counted as 90
  EXPECT_EQ(p.features.at("lab:6690-2").total(), 1);
  EXPECT_EQ(p.features.count("lab:8310-5"), 0u);  // not a number: skipped
  EXPECT_EQ(p.features.at("labs_per_encounter").total(), 1);
  // No free text, identifier or date ever becomes a feature.
  for (const auto& [f, h] : p.features)
    for (const auto& [bin, n] : h.counts) EXPECT_EQ(bin.find("effusion"), std::string::npos);
}

TEST(Features, NotASampleAddsNothing) {
  ProfileBuilder b;
  EXPECT_FALSE(AddSampleFeatures("[1, 2]", b));
  EXPECT_FALSE(AddSampleFeatures("{not json", b));
  EXPECT_TRUE(b.empty());
  ProfileBuilder c;
  ASSERT_TRUE(AddSampleFeatures("{}", c));  // every feature, as unknown
  EXPECT_EQ(c.Build().features.at("department").counts.at("unknown"), 1);
}

TEST(Features, ImageMeanAndPopulationSpread) {
  ProfileBuilder b;
  const std::vector<float> px = {0.0f, 1.0f, 0.0f, 1.0f};
  AddImageFeatures(px.data(), px.size(), b);
  AddImageFeatures(nullptr, 0, b);  // nothing
  const std::string state = b.StateJson();
  EXPECT_NE(state.find("\"image_mean\":[0.5]"), std::string::npos) << state;
  EXPECT_NE(state.find("\"image_std\":[0.5]"), std::string::npos) << state;
}

TEST(Features, ReportLengthAndFindingPrevalence) {
  ProfileBuilder b;
  AddReportFeatures("FINDINGS: Small left pleural effusion. No pneumothorax.", b);
  const Profile p = b.Build();
  EXPECT_EQ(p.features.at("finding:Pleural Effusion").counts.at("present"), 1);
  EXPECT_EQ(p.features.at("finding:Pneumothorax").counts.at("absent"), 1);
  EXPECT_EQ(p.features.at("finding:No Finding").counts.at("absent"), 1);
  EXPECT_NE(b.StateJson().find("\"report_words\":[7.0]"), std::string::npos) << b.StateJson();
}

TEST(Features, StatesOfWorkersMergeIntoTheSameProfileAsOneBuilder) {
  ProfileBuilder one, a, b;
  for (int i = 0; i < 200; ++i) {
    ProfileBuilder& half = i % 2 ? a : b;
    for (ProfileBuilder* x : {&one, &half}) {
      x->AddNumber("lab:1988-5", i * 0.5);
      x->AddCategory("department", i % 3 ? "ED" : "ICU");
    }
  }
  ProfileBuilder merged;
  ASSERT_TRUE(merged.MergeState(b.StateJson()).ok());
  ASSERT_TRUE(merged.MergeState(a.StateJson()).ok());
  EXPECT_EQ(ToJson(merged.Build()), ToJson(one.Build()));
  EXPECT_FALSE(merged.MergeState("{\"numbers\": {\"x\": [\"a\"]}}").ok());
  EXPECT_FALSE(merged.MergeState("nope").ok());
}

}  // namespace
}  // namespace medscribe::monitor
