#include "crypto/envelope.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace medscribe::crypto {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const char* name) {
  fs::path d = fs::temp_directory_path() /
               (std::string("medscribe-envelope-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(Aead, RoundTripsAndFailsClosed) {
  auto key = RandomKey();
  ASSERT_TRUE(key.ok());
  auto sealed = Seal(*key, "chest pain, Jane Doe", "row-1");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("Jane"), std::string::npos);
  auto opened = Open(*key, *sealed, "row-1");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "chest pain, Jane Doe");
  // Another row's aad, another key, a flipped byte, a truncation: all refused.
  EXPECT_EQ(Open(*key, *sealed, "row-2").status().code(), ErrorCode::kDataLoss);
  auto other = RandomKey();
  EXPECT_EQ(Open(*other, *sealed, "row-1").status().code(), ErrorCode::kDataLoss);
  std::string flipped = *sealed;
  flipped[15] ^= 1;
  EXPECT_EQ(Open(*key, flipped, "row-1").status().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(Open(*key, sealed->substr(0, 20), "row-1").status().code(), ErrorCode::kDataLoss);
  // Two seals of the same text differ (fresh nonce).
  EXPECT_NE(*Seal(*key, "x", ""), *Seal(*key, "x", ""));
}

TEST(KeyRing, CreatesRotatesAndRetires) {
  const fs::path dir = TempDir("ring");
  const std::string path = (dir / "kek.ring").string();
  EXPECT_EQ(KeyRing::Load(path).status().code(), ErrorCode::kNotFound);
  auto ring = KeyRing::LoadOrCreate(path);
  ASSERT_TRUE(ring.ok()) << ring.status().message();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  const std::string first = ring->active_id();
  auto wrapped = ring->Wrap("0123456789abcdef0123456789abcdef", "d-1");
  ASSERT_TRUE(wrapped.ok());

  ASSERT_TRUE(ring->Rotate(path).ok());
  EXPECT_NE(ring->active_id(), first);
  auto reloaded = KeyRing::Load(path);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(reloaded->ids().size(), 2u);
  EXPECT_EQ(reloaded->active_id(), ring->active_id());
  // The old key still unwraps what it wrapped; the context must match.
  auto dek = reloaded->Unwrap(first, *wrapped, "d-1");
  ASSERT_TRUE(dek.ok());
  EXPECT_EQ(*dek, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(reloaded->Unwrap(first, *wrapped, "d-2").status().code(), ErrorCode::kDataLoss);

  ASSERT_TRUE(reloaded->Retire(path).ok());
  auto retired = KeyRing::Load(path);
  ASSERT_TRUE(retired.ok());
  EXPECT_EQ(retired->ids().size(), 1u);
  EXPECT_EQ(retired->Unwrap(first, *wrapped, "d-1").status().code(), ErrorCode::kNotFound);
  fs::remove_all(dir);
}

TEST(KeyRing, RefusesUnsafeOrMalformedFiles) {
  const fs::path dir = TempDir("bad");
  const std::string path = (dir / "kek.ring").string();
  std::ofstream(path) << "kek-1 " << std::string(64, 'a') << "\n";
  ::chmod(path.c_str(), 0644);
  auto open = KeyRing::Load(path);
  EXPECT_EQ(open.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos);
  ::chmod(path.c_str(), 0600);
  EXPECT_TRUE(KeyRing::Load(path).ok());
  std::ofstream(path) << "kek-1 notahexkey\n";
  auto bad = KeyRing::Load(path);
  EXPECT_EQ(bad.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace medscribe::crypto
