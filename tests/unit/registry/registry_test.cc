#include "registry/registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "testing/temp_dir.h"
#include "warehouse/sqlite_db.h"

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
  ASSERT_TRUE(r->Alias("chest", 1, "production", "alice@ward").ok());
  EXPECT_EQ(r->Resolve("chest@production")->version, 1);
  ASSERT_TRUE(r->Alias("chest", 2, "production", "bob@ward").ok());  // aliases move
  EXPECT_EQ(r->Resolve("chest@production")->version, 2);
  EXPECT_EQ(r->Resolve("chest@staging").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r->Resolve("chest@9").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r->Alias("chest", 9, "staging", "alice@ward").code(), ErrorCode::kNotFound);
  EXPECT_EQ(r->List()->size(), 2u);
  EXPECT_FALSE(ParseModelRef("bad name").ok());
  EXPECT_FALSE(ParseModelRef("a@b@c").ok());
  EXPECT_EQ(r->Register((home / "nowhere").string(), "chest").status().code(),
            ErrorCode::kNotFound);
}

TEST(RegistryTest, AliasMovesAreSignedAndSayWhoMovedThem) {
  medscribe::testing::TempDir home;
  FakeRun(home / "run");
  {
    auto r = Registry::Open(home.path().string());
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->Register((home / "run").string(), "chest").ok());
    ASSERT_TRUE(r->Register((home / "run").string(), "chest").ok());
    ASSERT_TRUE(r->Alias("chest", 1, "production", "alice@ward").ok());
    ASSERT_TRUE(r->Alias("chest", 2, "production", "bob@ward").ok());
    EXPECT_EQ(r->Alias("chest", 1, "production", "").code(), ErrorCode::kInvalidArgument);
    auto h = r->AliasHistory("chest");
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->size(), 2u);
    EXPECT_EQ((*h)[0].moved_by, "alice@ward");
    EXPECT_EQ((*h)[1].moved_by, "bob@ward");
    EXPECT_EQ((*h)[1].version, 2);
    EXPECT_TRUE((*h)[0].signature_ok && (*h)[1].signature_ok);
    EXPECT_EQ(r->Resolve("chest@2")->aliases, std::vector<std::string>{"production"});
    EXPECT_TRUE(r->Resolve("chest@1")->aliases.empty());
  }
  const std::string db = (home / "registry" / "registry.sqlite").string();
  {  // Someone with write access to the database points production back at version 1.
    auto sql = sqlite::SqliteDb::Open(db, "");
    ASSERT_TRUE(sql.ok());
    ASSERT_TRUE((*sql)->Run("UPDATE alias_moves SET version = 1 WHERE moved_by = 'bob@ward'").ok());
    ASSERT_TRUE((*sql)->Run("UPDATE aliases SET version = 1").ok());
  }
  auto r = Registry::Open(home.path().string());
  ASSERT_TRUE(r.ok());
  auto forged = r->Resolve("chest@production");
  EXPECT_EQ(forged.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(forged.status().message().find("bob@ward"), std::string::npos)
      << forged.status().message();
  {  // Deleting the signed moves and writing the plain table, as older versions did, does not
     // help: an alias without a signed move is refused, naming the command that sets it.
    auto sql = sqlite::SqliteDb::Open(db, "");
    ASSERT_TRUE(sql.ok());
    ASSERT_TRUE((*sql)->Run("DELETE FROM alias_moves").ok());
    ASSERT_TRUE((*sql)->Run("INSERT OR REPLACE INTO aliases VALUES ('chest', 'staging', 1)").ok());
  }
  auto unsigned_alias = r->Resolve("chest@staging");
  EXPECT_EQ(unsigned_alias.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(unsigned_alias.status().message().find("registry alias chest@1 staging"),
            std::string::npos)
      << unsigned_alias.status().message();
  // A serving host holds only the public key: it verifies aliases but cannot move them.
  fs::remove(home / "keys" / "registry_signing.key");
  auto serving = Registry::Open(home.path().string());
  ASSERT_TRUE(serving.ok());
  EXPECT_EQ(serving->Alias("chest", 1, "production", "mallory").code(),
            ErrorCode::kFailedPrecondition);
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
