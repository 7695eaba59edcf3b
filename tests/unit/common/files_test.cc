#include "common/files.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "common/durable_file.h"
#include "testing/temp_dir.h"

namespace medscribe {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  const fs::path& dir_ = tmp_.path();
};

TEST_F(FilesTest, CommitMovesStagedOutputIntoPlace) {
  auto staged = StagedDirectory::Create(dir_ / "out", false);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_TRUE(WriteFile((*staged)->path() / "a.txt", "hello").ok());
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  ASSERT_TRUE((*staged)->Commit().ok());
  EXPECT_EQ(*ReadFile(dir_ / "out" / "a.txt"), "hello");
}

TEST_F(FilesTest, AbandonedStagingLeavesNothingBehind) {
  {
    auto staged = StagedDirectory::Create(dir_ / "out", false);
    ASSERT_TRUE(staged.ok());
    ASSERT_TRUE(WriteFile((*staged)->path() / "partial", "x").ok());
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(FilesTest, NonEmptyTargetNeedsForceAndIsKeptOnRefusal) {
  fs::create_directories(dir_ / "out");
  ASSERT_TRUE(WriteFile(dir_ / "out" / "keep.txt", "precious").ok());
  auto refused = StagedDirectory::Create(dir_ / "out", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find("--force"), std::string::npos);
  EXPECT_EQ(*ReadFile(dir_ / "out" / "keep.txt"), "precious");

  auto forced = StagedDirectory::Create(dir_ / "out", true);
  ASSERT_TRUE(forced.ok());
  ASSERT_TRUE(WriteFile((*forced)->path() / "new.txt", "n").ok());
  ASSERT_TRUE((*forced)->Commit().ok());
  EXPECT_FALSE(fs::exists(dir_ / "out" / "keep.txt"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "new.txt"));
}

TEST_F(FilesTest, ParentThatIsAFileIsRejected) {
  ASSERT_TRUE(WriteFile(dir_ / "file", "x").ok());
  auto s = StagedDirectory::Create(dir_ / "file" / "out", false);
  EXPECT_FALSE(s.ok());
}

TEST_F(FilesTest, DurableWritesReplaceWholeFilesWithTheirMode) {
  const fs::path key = dir_ / "k.key";
  ASSERT_TRUE(WriteFileDurably(key, "first", 0600).ok());
  ASSERT_TRUE(WriteFileDurably(key, "second", 0600).ok());
  EXPECT_EQ(*ReadFile(key), "second");
  EXPECT_EQ(fs::status(key).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(dir_ / "k.key.tmp"));
  // A target that cannot be replaced (a directory) leaves it as it was, and no temporary file.
  fs::create_directories(dir_ / "taken");
  auto s = WriteFileDurably(dir_ / "taken", "x");
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  EXPECT_NE(s.message().find("taken"), std::string::npos) << s.message();
  EXPECT_TRUE(fs::is_directory(dir_ / "taken"));
  EXPECT_FALSE(fs::exists(dir_ / "taken.tmp"));
  EXPECT_EQ(WriteFileDurably(dir_ / "no" / "such" / "dir", "x").code(), ErrorCode::kIoError);
}

TEST_F(FilesTest, ResolveHomePrefersFlagThenEnvironment) {
  EXPECT_EQ(ResolveHome("/x/y"), fs::path("/x/y"));
  setenv("MEDSCRIBE_HOME", "/from/env", 1);
  EXPECT_EQ(ResolveHome(""), fs::path("/from/env"));
  unsetenv("MEDSCRIBE_HOME");
  setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(ResolveHome(""), fs::path("/home/someone/.medscribe"));
}

}  // namespace
}  // namespace medscribe
