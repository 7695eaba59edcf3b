#include "eval/truth.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "synth/cohort.h"

namespace medscribe::eval {
namespace {

TEST(TruthTest, ReadsThisGeneratorsTruthAndRefusesOthers) {
  // eval reads what synth writes.
  EXPECT_EQ(kTruthGenerator, synth::kGeneratorVersion);
  const auto dir = std::filesystem::temp_directory_path() / "medscribe_truth_test";
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const std::string good = write(
      "good.jsonl",
      R"({"generator": "medscribe-synth 2", "encounter_id": "enc-000001", "report_text": "x",)"
      R"( "findings": [{"type": "consolidation"}, {"type": "chest_tube"}]})"
      "\n"
      R"({"generator": "medscribe-synth 2", "encounter_id": "enc-000002", "report_text": "y",)"
      R"( "findings": [{"type": "central_line"}]})"
      "\n");
  auto t = ReadTruth(good);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->size(), 2u);
  const Labels& a = (*t)[0].labels;
  EXPECT_TRUE(a.positive(kConsolidation) && a.positive(kLungOpacity) && a.positive(kPneumonia));
  EXPECT_TRUE(a.positive(kSupportDevices));
  EXPECT_FALSE(a.positive(kNoFinding));
  EXPECT_TRUE((*t)[1].labels.positive(kNoFinding));  // devices only
  const std::string old =
      write("old.jsonl", R"({"encounter_id": "enc-000001", "report_text": "x", "findings": []})"
                         "\n");
  const Status s = ReadTruth(old).status();
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("re-synthesize"), std::string::npos) << s.message();
  EXPECT_EQ(ReadTruth((dir / "missing.jsonl").string()).status().code(), ErrorCode::kNotFound);
  const Status bad = ReadTruth(write("bad.jsonl", "{\"a\": 1}\n")).status();
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.message().find(":1:"), std::string::npos) << bad.message();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medscribe::eval
