#include "monitor/live.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "common/files.h"

namespace medscribe::monitor {
namespace {
namespace fs = std::filesystem;

class LiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("live_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ProfileBuilder b;
    for (int i = 0; i < 500; ++i) {
      b.AddCategory("department", i % 2 ? "ED" : "ICU");
      b.AddNumber("lab:6690-2", 4 + (i % 100) * 0.1);
    }
    reference_ = b.Build();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Sample(const char* department, double wbc) {
    return std::string(R"({"modalities": {"structured": {"encounter": {"department": ")") +
           department + R"("}, "labs": [{"code": "6690-2", "value": )" + std::to_string(wbc) +
           "}]}}}";
  }

  fs::path dir_;
  Profile reference_;
  int64_t now_ = 1'800'000'000;  // a Unix time on an hour boundary
};

TEST_F(LiveTest, CountsPerWindowBinnedAtTheReferenceWithoutRawValues) {
  auto r = LiveRecorder::Open(dir_.string(), reference_, 3600, [&] { return now_; });
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::vector<float> px(16, 0.25f);
  ASSERT_TRUE((*r)->Drafted(Sample("ED", 12.3456), px.data(), px.size(), "No effusion.").ok());
  ASSERT_TRUE((*r)->Drafted(Sample("ONCOLOGY", 5.5), nullptr, 0, "Left effusion.",
                            {"laterality", "laterality", "wbc-addressed"})
                  .ok());
  now_ += 3600;  // the next window
  ASSERT_TRUE((*r)->Signed("Small left effusion.", "Moderate left effusion.").ok());

  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "live-20270115T080000Z.json");
  const std::string text = *ReadFile(dir_ / names[0]);
  EXPECT_EQ(text.find("12.3456"), std::string::npos) << "a raw value reached the disk";
  auto first = WindowFromJson(text);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->drafts, 2);
  EXPECT_EQ(first->hints,
            (std::map<std::string, int64_t>{{"laterality", 2}, {"wbc-addressed", 1}}));
  EXPECT_EQ(first->reference, ProfileFingerprint(reference_));
  EXPECT_EQ(first->profile.features.at("department").counts.at("ONCOLOGY"), 1);
  EXPECT_EQ(first->profile.features.at("lab:6690-2").edges,
            reference_.features.at("lab:6690-2").edges);
  EXPECT_EQ(first->profile.features.at("finding:Pleural Effusion").counts.at("present"), 1);
  // image_mean is not in the reference: one bin, so windows add up.
  EXPECT_EQ(first->profile.features.at("image_mean").counts.at("all"), 1);

  auto total = ReadWindows(dir_.string(), 0, ProfileFingerprint(reference_));
  ASSERT_TRUE(total.ok()) << total.status().message();
  EXPECT_EQ(total->drafts, 2);
  EXPECT_EQ(total->hints.at("laterality"), 2);
  EXPECT_EQ(total->signed_reports, 1);
  EXPECT_DOUBLE_EQ(total->edit_rate(), 2.0 / 3.0);  // "Small" out, "Moderate" in; 3 drafted
  auto later = ReadWindows(dir_.string(), now_, "");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->drafts, 0);  // only the second window ends after now
  EXPECT_EQ(later->signed_reports, 1);
  EXPECT_EQ(ReadWindows(dir_.string(), now_ + 3600, "").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ReadWindows(dir_.string(), 0, "another").status().code(),
            ErrorCode::kFailedPrecondition);
}

TEST_F(LiveTest, ARestartGoesOnCountingIntoTheSameWindow) {
  for (int process = 0; process < 2; ++process) {
    auto r = LiveRecorder::Open(dir_.string(), reference_, 3600, [&] { return now_; });
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE((*r)->Drafted(Sample("ED", 6), nullptr, 0, "Normal.").ok());
    now_ += 60;
  }
  auto total = ReadWindows(dir_.string(), 0, "");
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total->drafts, 2);
  EXPECT_EQ(total->profile.features.at("department").counts.at("ED"), 2);
}

TEST_F(LiveTest, AWindowOfAnotherReferenceIsSetAsideNotAddedTo) {
  {
    auto r = LiveRecorder::Open(dir_.string(), reference_, 3600, [&] { return now_; });
    ASSERT_TRUE((*r)->Drafted(Sample("ED", 6), nullptr, 0, "Normal.").ok());
  }
  Profile other = reference_;
  other.features["department"].counts["ED"] += 1;
  auto r = LiveRecorder::Open(dir_.string(), other, 3600, [&] { return now_; });
  ASSERT_TRUE((*r)->Drafted(Sample("ICU", 6), nullptr, 0, "Normal.").ok());
  auto total = ReadWindows(dir_.string(), 0, ProfileFingerprint(other));
  ASSERT_TRUE(total.ok()) << total.status().message();
  EXPECT_EQ(total->drafts, 1);
  EXPECT_EQ(total->profile.features.at("department").counts.count("ED"), 0u);
}

TEST(Live, EditedWordsIsALongestCommonSubsequenceDiff) {
  EXPECT_EQ(EditedWords("a b c", "a b c"), 0);
  EXPECT_EQ(EditedWords("a b c", "a  b\nc"), 0);  // whitespace only separates
  EXPECT_EQ(EditedWords("a b c", "a x c"), 2);
  EXPECT_EQ(EditedWords("a b c", ""), 3);
  EXPECT_EQ(EditedWords("", "a b"), 2);
  EXPECT_EQ(EditedWords("a b c d", "b c d e"), 2);
}

TEST(Live, TheReferenceProfileIsFoundInARunADatasetOrAProfileFile) {
  const fs::path dir = fs::temp_directory_path() / ("live_ref_" + std::to_string(::getpid()));
  fs::create_directories(dir / "run");
  ProfileBuilder b;
  b.AddCategory("sex", "F");
  const std::string profile = ToJson(b.Build());
  ASSERT_TRUE(WriteFile(dir / "p.json", profile).ok());
  ASSERT_TRUE(WriteFile(dir / "run" / "run.json", "{\"drift_profile\": " + profile + "}").ok());
  ASSERT_TRUE(WriteFile(dir / "bare.json", "{\"dataset\": \"x\"}").ok());
  EXPECT_TRUE(LoadReferenceProfile((dir / "p.json").string()).ok());
  auto from_run = LoadReferenceProfile((dir / "run").string());
  ASSERT_TRUE(from_run.ok()) << from_run.status().message();
  EXPECT_EQ(from_run->features.at("sex").counts.at("F"), 1);
  const Status none = LoadReferenceProfile((dir / "bare.json").string()).status();
  EXPECT_EQ(none.code(), ErrorCode::kNotFound);
  EXPECT_NE(none.message().find("drift_profile"), std::string::npos);
  EXPECT_EQ(LoadReferenceProfile(dir.string()).status().code(), ErrorCode::kNotFound);
  fs::remove_all(dir);
}

TEST(Live, AccumulateRefusesProfilesBinnedDifferently) {
  Profile a, b;
  a.features["x"].numeric = b.features["x"].numeric = true;
  a.features["x"].edges = {1, 2};
  b.features["x"].edges = {1, 3};
  EXPECT_EQ(Accumulate(a, b).code(), ErrorCode::kFailedPrecondition);
  b.features["x"].edges = {1, 2};
  b.features["x"].counts["<=1"] = 2;
  ASSERT_TRUE(Accumulate(a, b).ok());
  ASSERT_TRUE(Accumulate(a, b).ok());
  EXPECT_EQ(a.features["x"].counts["<=1"], 4);
}

TEST(Live, ThePictureEscapesFeatureNames) {
  FeatureDrift d;
  d.feature = "lab:<script>";
  d.psi = 0.5;
  d.alert = true;
  const std::string svg = DriftSvg({d}, Thresholds{}, "a & b");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_EQ(svg.find("<script>"), std::string::npos);
  EXPECT_NE(svg.find("lab:&lt;script&gt;"), std::string::npos);
  EXPECT_NE(svg.find("a &amp; b"), std::string::npos);
  EXPECT_NE(svg.find("#c0392b"), std::string::npos);  // the alerting bar in red
}

}  // namespace
}  // namespace medscribe::monitor
