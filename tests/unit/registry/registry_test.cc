#include "registry/registry.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "crypto/envelope.h"
#include "registry/plaintext_dir.h"
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

namespace medscribe::registry {
namespace {

TEST(RegistryTest, AnEncryptedEntryKeepsItsWeightsOffTheDiskAndOpensOnlyWithItsRing) {
  medscribe::testing::TempDir home;
  FakeRun(home / "run");
  const std::string weights(4096, 'W');  // what a model memorized, in the clear in the run
  ASSERT_TRUE(WriteFile(home / "run" / "model" / "model.safetensors", weights).ok());
  auto r = Registry::Open(home.path().string());  // creates HOME/keys
  ASSERT_TRUE(r.ok());
  auto ring = crypto::KeyRing::LoadOrCreate(Registry::KeyRingPath(home.path().string()));
  ASSERT_TRUE(ring.ok()) << ring.status().message();
  auto e = r->Register((home / "run").string(), "chest", {&*ring});
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_TRUE(e->encrypted);
  // Stored: ciphertext only, and the lineage readable without any key.
  const fs::path stored(e->stored_dir);
  EXPECT_FALSE(fs::exists(stored / "model.safetensors"));
  EXPECT_FALSE(fs::exists(stored / "tokenizer.model"));
  const std::string enc = ReadFile(stored / "model.safetensors.enc").value();
  EXPECT_EQ(enc.find("WWWWWWWW"), std::string::npos);
  EXPECT_NE(ReadFile(stored / "run.json").value().find("abc123"), std::string::npos);
  const std::string manifest = ReadFile(stored / "manifest.json").value();
  EXPECT_NE(manifest.find("\"kek_id\": \"" + ring->active_id() + "\""), std::string::npos);

  // Resolved: the plaintext, in a private directory in memory-backed storage.
  auto got = r->Resolve("chest@1");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(got->encrypted);
  EXPECT_NE(got->dir, got->stored_dir);
  EXPECT_TRUE(IsMemoryBacked(got->dir)) << got->dir;
  EXPECT_EQ((fs::status(got->dir).permissions() & fs::perms::all), fs::perms::owner_all);
  EXPECT_EQ(ReadFile(fs::path(got->dir) / "model.safetensors").value(), weights);
  EXPECT_EQ(ReadFile(fs::path(got->dir) / "tokenizer.model").value(), "sp");
  EXPECT_EQ(ReadFile(fs::path(got->dir) / "config.json").value(), "{}");
  // Verify needs no key and decrypts nothing.
  auto verified = r->Verify("chest@1");
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->dir, verified->stored_dir);

  // Another host without the ring: refused, saying what to do; with another ring: refused.
  fs::remove(Registry::KeyRingPath(home.path().string()));
  auto no_ring = Registry::Open(home.path().string());
  ASSERT_TRUE(no_ring.ok());
  auto refused = no_ring->Resolve("chest@1");
  EXPECT_EQ(refused.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(refused.status().message().find("registry key ring"), std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(no_ring->Verify("chest@1").ok());
  auto other = crypto::KeyRing::LoadOrCreate((home / "other.ring").string());
  ASSERT_TRUE(other.ok());
  no_ring->SetKeySource([&]() -> StatusOr<crypto::KeyRing> { return *other; });
  EXPECT_EQ(no_ring->Resolve("chest@1").status().code(), ErrorCode::kNotFound);  // no such kek

  // With its ring it opens again, and an altered byte of its ciphertext is refused.
  auto r2 = Registry::Open(home.path().string());
  ASSERT_TRUE(r2.ok());
  r2->SetKeySource([&]() -> StatusOr<crypto::KeyRing> { return *ring; });
  auto v2 = r2->Register((home / "run").string(), "chest", {&*ring});
  ASSERT_TRUE(v2.ok());
  const fs::path enc1 = stored / "model.safetensors.enc";
  std::string flipped = enc;
  flipped[100] ^= 1;
  fs::permissions(enc1, fs::perms::owner_write, fs::perm_options::add);
  ASSERT_TRUE(WriteFile(enc1, flipped).ok());
  EXPECT_EQ(r2->Resolve("chest@1").status().code(), ErrorCode::kDataLoss);
  ASSERT_TRUE(WriteFile(enc1, enc).ok());
  EXPECT_TRUE(r2->Resolve("chest@1").ok());
}

TEST(PlaintextDirTest, PrivateDirectoriesInMemoryAndAWrongRuntimeDirRefused) {
  auto d = MakePlaintextDir("test");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(IsMemoryBacked(*d));
  EXPECT_NE(fs::path(*d).filename().string().find("medscribe-test-" + std::to_string(getpid())),
            std::string::npos);
  medscribe::testing::TempDir disk;
  if (!IsMemoryBacked(disk.path().string())) {
    setenv("MEDSCRIBE_RUNTIME_DIR", disk.path().c_str(), 1);
    auto refused = MakePlaintextDir("test");
    unsetenv("MEDSCRIBE_RUNTIME_DIR");
    EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
    EXPECT_NE(refused.status().message().find("MEDSCRIBE_RUNTIME_DIR"), std::string::npos);
  }
  // A directory left by a process that no longer runs is swept by the next call.
  const fs::path root = fs::path(*d).parent_path();
  const fs::path stale = root / "medscribe-test-999999999-abcdef";
  fs::create_directories(stale);
  ASSERT_TRUE(MakePlaintextDir("test").ok());
  EXPECT_FALSE(fs::exists(stale));
}

}  // namespace
}  // namespace medscribe::registry
