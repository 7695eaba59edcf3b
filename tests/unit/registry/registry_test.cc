#include "registry/registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "testing/temp_dir.h"

namespace medscribe::registry {
namespace {

namespace fs = std::filesystem;

void FakeRun(const fs::path& run) {
  fs::create_directories(run / "model");
  std::ofstream(run / "model" / "config.json") << "{}";
  std::ofstream(run / "model" / "model.safetensors") << std::string(1000, 'w');
  std::ofstream(run / "model" / "tokenizer.model") << "sp";
  std::ofstream(run / "run.json")
      << R"({"dataset_id":"abc123","code_commit":"deadbeef","config":{}})";
  std::ofstream(run / "metrics.jsonl") << R"({"step":1,"loss":2.0})"
                                       << "\n";
}

TEST(RegistryTest, RegistersVersionsAliasesAndResolves) {
  medscribe::testing::TempDir home;
  FakeRun(home / "run");
  auto r = Registry::Open(home.path().string());
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto v1 = r->Register((home / "run").string(), "chest");
  auto v2 = r->Register((home / "run").string(), "chest");
  ASSERT_TRUE(v1.ok() && v2.ok()) << v1.status().message();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v1->dataset_id, "abc123");
  EXPECT_EQ(r->Resolve("chest")->version, 2);  // latest
  EXPECT_EQ(r->Resolve("chest@1")->version, 1);
  ASSERT_TRUE(r->Alias("chest", 1, "production").ok());
  EXPECT_EQ(r->Resolve("chest@production")->version, 1);
  ASSERT_TRUE(r->Alias("chest", 2, "production").ok());  // aliases move
  EXPECT_EQ(r->Resolve("chest@production")->version, 2);
  EXPECT_EQ(r->Resolve("chest@staging").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r->Resolve("chest@9").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r->Alias("chest", 9, "staging").code(), ErrorCode::kNotFound);
  EXPECT_EQ(r->List()->size(), 2u);
  EXPECT_FALSE(ParseModelRef("bad name").ok());
  EXPECT_FALSE(ParseModelRef("a@b@c").ok());
  EXPECT_EQ(r->Register((home / "nowhere").string(), "chest").status().code(),
            ErrorCode::kNotFound);
}

TEST(RegistryTest, RefusesAFlippedByteOrAForgedManifest) {
  medscribe::testing::TempDir home;
  FakeRun(home / "run");
  auto r = Registry::Open(home.path().string());
  ASSERT_TRUE(r.ok());
  auto e = r->Register((home / "run").string(), "chest");
  ASSERT_TRUE(e.ok());
  const fs::path weights = fs::path(e->dir) / "model.safetensors";
  std::string bytes = ReadFile(weights).value();
  bytes[500] ^= 0x01;
  fs::permissions(weights, fs::perms::owner_write, fs::perm_options::add);
  ASSERT_TRUE(WriteFile(weights, bytes).ok());
  auto bad = r->Resolve("chest@1");
  EXPECT_EQ(bad.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("model.safetensors"), std::string::npos)
      << bad.status().message();
  // Re-hashing the file into the manifest does not help: the signature no longer matches.
  const fs::path manifest = fs::path(e->dir) / "manifest.json";
  std::string m = ReadFile(manifest).value();
  m.replace(m.find("\"version\": 1"), 12, "\"version\": 7");
  fs::permissions(manifest, fs::perms::owner_write, fs::perm_options::add);
  ASSERT_TRUE(WriteFile(manifest, m).ok());
  auto forged = r->Resolve("chest@1");
  EXPECT_EQ(forged.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(forged.status().message().find("signature"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::registry

namespace medscribe::registry {
namespace {

TEST(RegistryTest, ASignedDirectoryMovedUnderAnotherEntryIsRefused) {
  medscribe::testing::TempDir home;
  FakeRun(home / "run");
  auto r = Registry::Open(home.path().string());
  ASSERT_TRUE(r.ok());
  auto v1 = r->Register((home / "run").string(), "chest");
  auto v2 = r->Register((home / "run").string(), "chest");
  ASSERT_TRUE(v1.ok() && v2.ok());
  // Version 1's files, signature included, copied over version 2's: every file verifies against
  // its signed manifest, but that manifest names chest@1.
  for (const auto& f : std::filesystem::directory_iterator(v1->dir)) {
    const std::filesystem::path to = std::filesystem::path(v2->dir) / f.path().filename();
    std::filesystem::permissions(to, std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
    std::filesystem::copy_file(f.path(), to, std::filesystem::copy_options::overwrite_existing);
  }
  auto moved = r->Resolve("chest@2");
  EXPECT_EQ(moved.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(moved.status().message().find("names chest@1"), std::string::npos)
      << moved.status().message();
  EXPECT_TRUE(r->Resolve("chest@1").ok());
}

}  // namespace
}  // namespace medscribe::registry

namespace medscribe::registry {
namespace {

TEST(RegistryTest, AServingHostVerifiesWithThePublicKeyAlone) {
  medscribe::testing::TempDir home;
  FakeRun(home / "run");
  {
    auto r = Registry::Open((home / "build").string());
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->Register((home / "run").string(), "chest").ok());
  }
  ASSERT_TRUE(std::filesystem::exists(home / "build" / "keys" / "registry_signing.pub"));
  // The serving host gets the registry and the public key, never the signing key.
  std::filesystem::create_directories(home / "serve" / "keys");
  std::filesystem::copy(home / "build" / "registry", home / "serve" / "registry",
                        std::filesystem::copy_options::recursive);
  std::filesystem::copy_file(home / "build" / "keys" / "registry_signing.pub",
                             home / "serve" / "keys" / "registry_signing.pub");
  auto serving = Registry::Open((home / "serve").string());
  ASSERT_TRUE(serving.ok()) << serving.status().message();
  EXPECT_FALSE(std::filesystem::exists(home / "serve" / "keys" / "registry_signing.key"));
  auto e = serving->Resolve("chest");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(serving->Register((home / "run").string(), "chest").status().code(),
            ErrorCode::kFailedPrecondition);
  // Another key's public half does not verify the models.
  medscribe::testing::TempDir other;
  ASSERT_TRUE(Registry::Open(other.path().string()).ok());
  std::filesystem::copy_file(other / "keys" / "registry_signing.pub",
                             home / "serve" / "keys" / "registry_signing.pub",
                             std::filesystem::copy_options::overwrite_existing);
  auto wrong = Registry::Open((home / "serve").string());
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->Resolve("chest").status().code(), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace medscribe::registry
