#include "crypto/hmac.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/files.h"
#include "testing/temp_dir.h"

namespace medscribe::crypto {
namespace {

TEST(HmacTest, Rfc4231TestCase2) {
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(KeyFileTest, CreatedOnceWithOwnerOnlyPermissionsAndReloaded) {
  testing::TempDir tmp;
  const std::string path = (tmp / "deid.key").string();
  auto a = LoadOrCreateKeyFile(path);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->size(), 32u);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = LoadOrCreateKeyFile(path);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  chmod(path.c_str(), 0644);
  EXPECT_EQ(LoadOrCreateKeyFile(path).status().code(), ErrorCode::kFailedPrecondition);
  chmod(path.c_str(), 0600);
  ASSERT_TRUE(WriteFile(path, "not hex\n").ok());
  EXPECT_EQ(LoadOrCreateKeyFile(path).status().code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace medscribe::crypto
