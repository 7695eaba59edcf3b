#include "ingest/combine.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/files.h"
#include "ingest/manifest.h"
#include "ingest/pipeline.h"
#include "testing/synth_plan.h"
#include "testing/temp_dir.h"

namespace medscribe::ingest {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kKey = "a combine test key of 32 bytes!!";

class CombineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new medscribe::testing::TempDir();
    auto s = medscribe::testing::WriteSmallCohort(dir_->path() / "cohort", 30, 5);
    ASSERT_TRUE(s.ok()) << s.status().message();
    // The base version, and the same cohort split with another seed (every key again, some
    // patients in another split), and under another key (every sample new).
    ASSERT_TRUE(RunIngest(Options(base(), kKey, 0)).ok());
    ASSERT_TRUE(RunIngest(Options(resplit(), kKey, 3)).ok());
    ASSERT_TRUE(RunIngest(Options(other(), "another key, also of 32 bytes!!", 0)).ok());
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path base() { return dir_->path() / "base"; }
  static fs::path resplit() { return dir_->path() / "resplit"; }
  static fs::path other() { return dir_->path() / "other"; }

  static IngestOptions Options(const fs::path& out, const std::string& key, uint64_t seed) {
    IngestOptions o;
    o.dicom_root = (dir_->path() / "cohort" / "dicom").string();
    o.fhir_paths = {(dir_->path() / "cohort" / "fhir").string()};
    o.out = out;
    o.key = key;
    o.seed = seed;
    o.jobs = 2;
    o.image_size = 32;
    o.progress = false;
    return o;
  }

  // key -> index line.
  static std::map<std::string, Json> Index(const fs::path& dataset) {
    std::map<std::string, Json> out;
    std::ifstream in(dataset / "index.jsonl");
    for (std::string line; std::getline(in, line);) {
      Json j = Json::parse(line);
      out[j["key"]] = j;
    }
    return out;
  }

  medscribe::testing::TempDir tmp_;
  static medscribe::testing::TempDir* dir_;
};
medscribe::testing::TempDir* CombineTest::dir_ = nullptr;

TEST_F(CombineTest, TheAdditionReplacesSamplesOfItsKeysAndPatientsKeepTheBaseSplit) {
  const auto b = Index(base()), a = Index(resplit());
  ASSERT_FALSE(b.empty());
  ASSERT_EQ(b.size(), a.size());
  size_t differ = 0;
  for (const auto& [key, e] : a) differ += b.at(key)["split"] != e["split"];
  ASSERT_GT(differ, 0u) << "the other seed must move some patients for this test";

  auto r = CombineDatasets({.base = base(), .added = resplit(), .out = tmp_.path() / "c"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->samples, b.size());
  EXPECT_EQ(r->replaced, b.size());
  EXPECT_EQ(r->moved, differ);
  const auto c = Index(tmp_.path() / "c");
  ASSERT_EQ(c.size(), b.size());
  for (const auto& [key, e] : c) EXPECT_EQ(e["split"], b.at(key)["split"]) << key;
  auto v = VerifyDataset(tmp_.path() / "c");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty()) << v->problems.front();
  EXPECT_EQ(v->samples, b.size());
  EXPECT_EQ(DatasetId(tmp_.path() / "c").value(), r->dataset_id);
}

TEST_F(CombineTest, NewSamplesAreAddedAndTheLineageNamesBothVersions) {
  auto r = CombineDatasets({.base = base(), .added = other(), .out = tmp_.path() / "c"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const size_t n = Index(base()).size(), m = Index(other()).size();
  EXPECT_EQ(r->samples, n + m);
  EXPECT_EQ(r->replaced, 0u);
  EXPECT_EQ(r->moved, 0u);
  auto v = VerifyDataset(tmp_.path() / "c");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty()) << v->problems.front();

  const Json manifest = Json::parse(ReadFile(tmp_.path() / "c" / "manifest.json").value());
  EXPECT_EQ(manifest["settings"]["kind"], "combined");
  EXPECT_EQ(manifest["settings"]["base"]["dataset_id"], DatasetId(base()).value());
  EXPECT_EQ(manifest["settings"]["added"]["dataset_id"], DatasetId(other()).value());
  EXPECT_EQ(manifest["counts"]["samples"], n + m);
  EXPECT_TRUE(manifest.contains("drift_profile"));  // rebuilt from the combined train split
  std::set<std::string> versions;
  std::ifstream in(tmp_.path() / "c" / "lineage.jsonl");
  for (std::string line; std::getline(in, line);) {
    const Json l = Json::parse(line);
    if (l["kind"] == "dataset") versions.insert(l["sha256"]);
  }
  EXPECT_EQ(versions,
            (std::set<std::string>{DatasetId(base()).value(), DatasetId(other()).value()}));
  // Input tallies add up across both versions.
  const Json b = Json::parse(ReadFile(base() / "manifest.json").value());
  EXPECT_EQ(manifest["counts"]["inputs"]["dicom"]["inputs"],
            2 * b["counts"]["inputs"]["dicom"]["inputs"].get<uint64_t>());
  // Combining again gives the same version.
  auto again = CombineDatasets({.base = base(), .added = other(), .out = tmp_.path() / "d"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->dataset_id, r->dataset_id);
}

TEST_F(CombineTest, RefusesImagesPreparedDifferentlyAnExistingOutputAndAnInputAsOutput) {
  IngestOptions o = Options(tmp_.path() / "spaced", kKey, 0);
  o.mm_per_pixel = 1.68;
  ASSERT_TRUE(RunIngest(o).ok());
  auto r =
      CombineDatasets({.base = base(), .added = tmp_.path() / "spaced", .out = tmp_.path() / "c"});
  EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("1.68 mm per pixel"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(tmp_.path() / "c"));

  fs::create_directories(tmp_.path() / "taken");
  std::ofstream(tmp_.path() / "taken" / "notes.txt") << "keep me";
  r = CombineDatasets({.base = base(), .added = other(), .out = tmp_.path() / "taken"});
  EXPECT_EQ(r.status().code(), ErrorCode::kAlreadyExists);
  r = CombineDatasets(
      {.base = base(), .added = other(), .out = tmp_.path() / "taken", .force = true});
  EXPECT_EQ(r.status().code(), ErrorCode::kAlreadyExists);  // not a dataset: never removed
  EXPECT_TRUE(fs::exists(tmp_.path() / "taken" / "notes.txt"));

  r = CombineDatasets({.base = base(), .added = other(), .out = base()});
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  r = CombineDatasets({.base = tmp_.path() / "none", .added = other(), .out = tmp_.path() / "c"});
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
}

TEST_F(CombineTest, AShardThatNoLongerMatchesItsManifestIsRefused) {
  fs::copy(base(), tmp_.path() / "copy", fs::copy_options::recursive);
  const Json manifest = Json::parse(ReadFile(base() / "manifest.json").value());
  const fs::path shard = tmp_.path() / "copy" / manifest["shards"][0]["name"].get<std::string>();
  std::string bytes = ReadFile(shard).value();
  bytes[bytes.size() / 2] ^= 1;
  ASSERT_TRUE(WriteFile(shard, bytes).ok());
  auto r =
      CombineDatasets({.base = tmp_.path() / "copy", .added = other(), .out = tmp_.path() / "c"});
  EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.status().message().find("digest"), std::string::npos) << r.status().message();
  EXPECT_FALSE(fs::exists(tmp_.path() / "c"));  // nothing half-written is left
}

}  // namespace
}  // namespace medscribe::ingest
