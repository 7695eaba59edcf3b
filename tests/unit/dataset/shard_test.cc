#include "dataset/shard.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/subprocess.h"
#include "testing/temp_dir.h"

namespace medscribe::dataset {
namespace {

StatusOr<ShardSummary> WriteSample(const std::string& path) {
  ASSIGN_OR_RETURN(auto w, ShardWriter::Create(path));
  RETURN_IF_ERROR(w->Add("enc-000001.json", R"({"task":"report"})"));
  RETURN_IF_ERROR(
      w->Add("enc-000001.img.npy", std::string("\x93NUMPY\x01\x00", 8) + std::string(600, 'x')));
  RETURN_IF_ERROR(w->Add("enc-000001.txt", "IMPRESSION: Normal."));
  RETURN_IF_ERROR(w->Add("enc-000002.json", "{}"));
  RETURN_IF_ERROR(w->Add("enc-000002.txt", ""));
  return w->Finish();
}

TEST(ShardTest, RoundTripsAndIsDeterministic) {
  testing::TempDir tmp;
  auto a = WriteSample((tmp / "a.tar").string());
  auto b = WriteSample((tmp / "b.tar").string());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->members, 5u);
  EXPECT_EQ(a->sha256, b->sha256);
  EXPECT_EQ(a->sha256.size(), 64u);
  EXPECT_EQ(*ReadFile(tmp / "a.tar"), *ReadFile(tmp / "b.tar"));
  auto members = ReadShard(*ReadFile(tmp / "a.tar"));
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  ASSERT_EQ(members->size(), 5u);
  EXPECT_EQ((*members)[1].key(), "enc-000001");
  EXPECT_EQ((*members)[1].field(), "img.npy");
  EXPECT_EQ((*members)[2].data, "IMPRESSION: Normal.");
  EXPECT_EQ((*members)[4].data, "");
}

TEST(ShardTest, StandardTarReadsIt) {
  testing::TempDir tmp;
  ASSERT_TRUE(WriteSample((tmp / "a.tar").string()).ok());
  auto r = RunProcess({"tar", "-tvf", (tmp / "a.tar").string()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->out.find("enc-000001.img.npy"), std::string::npos);
  EXPECT_NE(r->out.find("1970-01-01"), std::string::npos) << r->out;  // mtime 0: deterministic
}

TEST(ShardTest, BadNamesAndBadShardsAreRefused) {
  testing::TempDir tmp;
  auto w = ShardWriter::Create((tmp / "c.tar").string());
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->Add("../etc.passwd", "x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ((*w)->Add("nodot", "x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ShardWriter::Create((tmp / "missing" / "d.tar").string()).status().code(),
            ErrorCode::kIoError);

  ASSERT_TRUE(WriteSample((tmp / "a.tar").string()).ok());
  const std::string good = *ReadFile(tmp / "a.tar");
  EXPECT_EQ(ReadShard(good.substr(0, 700)).status().code(), ErrorCode::kDataLoss);  // truncated
  EXPECT_EQ(ReadShard("definitely not a tar file").status().code(), ErrorCode::kDataLoss);
  ShardLimits small;
  small.max_member_bytes = 100;
  EXPECT_EQ(ReadShard(good, small).status().code(), ErrorCode::kResourceExhausted);
  // A directory member is refused.
  auto r = RunProcess(
      {"bash", "-c", "cd " + tmp.path().string() + " && mkdir -p d.x && tar -cf dir.tar d.x"});
  ASSERT_TRUE(r.ok() && r->exit_code == 0);
  EXPECT_EQ(ReadShard(*ReadFile(tmp / "dir.tar")).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace medscribe::dataset
