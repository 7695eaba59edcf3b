#include "synth/cohort.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/files.h"
#include "synth/fhir_export.h"
#include "testing/temp_dir.h"

namespace medscribe::synth {
namespace {

namespace fs = std::filesystem;

class CohortTest : public ::testing::Test {
 protected:
  SynthOptions Options(const std::string& name, int jobs) {
    SynthOptions o;
    o.out_dir = (dir_ / name).string();
    o.encounters = 12;
    o.seed = 21;
    o.image_size = 128;
    o.speech = false;
    o.jobs = jobs;
    return o;
  }

  static std::map<std::string, std::string> ReadTree(const fs::path& root) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.is_regular_file())
        files[fs::relative(entry.path(), root).string()] = *ReadFile(entry.path());
    }
    return files;
  }

  medscribe::testing::TempDir tmp_;
  const fs::path& dir_ = tmp_.path();
};

TEST_F(CohortTest, SameSeedIsByteIdenticalWhateverTheThreadCount) {
  auto a = WriteCohort(Options("a", 1), nullptr);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = WriteCohort(Options("b", 2), nullptr);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const auto ta = ReadTree(dir_ / "a"), tb = ReadTree(dir_ / "b");
  ASSERT_EQ(ta.size(), tb.size());
  for (const auto& [path, bytes] : ta) {
    ASSERT_TRUE(tb.count(path)) << path;
    EXPECT_TRUE(tb.at(path) == bytes) << path << " differs";
  }
  SynthOptions other = Options("c", 2);
  other.seed = 22;
  ASSERT_TRUE(WriteCohort(other, nullptr).ok());
  EXPECT_NE(*ReadFile(dir_ / "c" / "truth" / "labels.jsonl"), ta.at("truth/labels.jsonl"));
}

TEST_F(CohortTest, DictatesTheFirstEncountersOnlyWhenAsked) {
  SynthOptions o = Options("s", 0);
  o.encounters = 4;
  o.speech = true;
  o.speech_encounters = 2;
  auto s = WriteCohort(o, nullptr);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->audio_files, 2);
  const fs::path audio = dir_ / "s" / "audio";
  EXPECT_TRUE(fs::exists(audio / "enc-000001.wav"));
  EXPECT_TRUE(fs::exists(audio / "enc-000002.wav"));
  EXPECT_FALSE(fs::exists(audio / "enc-000003.wav"));
  EXPECT_NE(ReadFile(dir_ / "s" / "cohort.json")->find("\"speech_encounters\": 2"),
            std::string::npos);
  // Without speech there is nothing to dictate: a clear error, and nothing written.
  SynthOptions silent = Options("t", 0);
  silent.speech_encounters = 2;
  const Status refused = ValidateOptions(silent);
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("--no-speech"), std::string::npos);
  EXPECT_FALSE(WriteCohort(silent, nullptr).ok());
  EXPECT_FALSE(fs::exists(dir_ / "t"));
}

TEST_F(CohortTest, WritesTheDocumentedLayout) {
  auto s = WriteCohort(Options("x", 0), nullptr);
  ASSERT_TRUE(s.ok());
  const fs::path root = dir_ / "x";
  EXPECT_TRUE(fs::exists(root / "cohort.json"));
  for (const std::string& type : FhirResourceTypes())
    EXPECT_TRUE(fs::exists(root / "fhir" / (type + ".ndjson"))) << type;
  EXPECT_FALSE(fs::exists(root / "audio"));  // speech off
  const std::string transcripts = *ReadFile(root / "transcripts" / "dictations.txt");
  EXPECT_EQ(std::count(transcripts.begin(), transcripts.end(), '\n'), 200);  // at least 200
  EXPECT_EQ(s->historical_transcripts, 200);
  int dcm = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root / "dicom")) {
    if (!entry.is_regular_file()) continue;
    ++dcm;
    // dicom/<study>/<series>/<sop>.dcm
    EXPECT_EQ(fs::relative(entry.path(), root / "dicom").begin()->string().rfind("2.25.", 0), 0u);
    EXPECT_EQ(entry.path().extension(), ".dcm");
  }
  EXPECT_EQ(dcm, 12);
  std::ifstream truth(root / "truth" / "labels.jsonl");
  int lines = 0;
  for (std::string line; std::getline(truth, line);) {
    const Json j = Json::parse(line);
    EXPECT_TRUE(j.contains("planted_phi"));
    EXPECT_TRUE(j.contains("findings"));
    EXPECT_FALSE(j["report_text"].get<std::string>().empty());
    ++lines;
  }
  EXPECT_EQ(lines, 12);
  EXPECT_EQ(s->encounters, 12);
  EXPECT_EQ(s->resources.at("Encounter"), 12);
  EXPECT_NE(FormatSummary(*s, "x").find("encounters 12"), std::string::npos);
}

TEST_F(CohortTest, InvalidOptionsAreRejectedBeforeAnythingIsWritten) {
  SynthOptions o = Options("bad", 1);
  o.encounters = 0;
  EXPECT_EQ(WriteCohort(o, nullptr).status().code(), ErrorCode::kInvalidArgument);
  o.encounters = -5;
  EXPECT_EQ(ValidateOptions(o).code(), ErrorCode::kInvalidArgument);
  o.encounters = 3;
  o.image_size = 10;
  EXPECT_EQ(ValidateOptions(o).code(), ErrorCode::kInvalidArgument);
  o.image_size = 128;
  o.out_dir.clear();
  EXPECT_EQ(ValidateOptions(o).code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
}

TEST_F(CohortTest, NonEmptyOutputIsKeptWithoutForce) {
  fs::create_directories(dir_ / "busy");
  ASSERT_TRUE(WriteFile(dir_ / "busy" / "mine.txt", "do not touch").ok());
  auto s = WriteCohort(Options("busy", 1), nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(*ReadFile(dir_ / "busy" / "mine.txt"), "do not touch");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()),
            1);  // no staging left
  SynthOptions forced = Options("busy", 1);
  forced.force = true;
  ASSERT_TRUE(WriteCohort(forced, nullptr).ok());
  EXPECT_FALSE(fs::exists(dir_ / "busy" / "mine.txt"));
  EXPECT_TRUE(fs::exists(dir_ / "busy" / "cohort.json"));
}

}  // namespace
}  // namespace medscribe::synth
