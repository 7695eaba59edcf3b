#include "clinical/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "clinical/feedback.h"
#include "common/files.h"

namespace medscribe::clinical {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("medscribe-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ring_path_ = (dir_ / "kek.ring").string();
    db_ = (dir_ / "drafts.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<DraftStore> Open() {
    auto ring = crypto::KeyRing::LoadOrCreate(ring_path_);
    EXPECT_TRUE(ring.ok());
    auto s = OpenDraftStore(db_, *std::move(ring));
    EXPECT_TRUE(s.ok()) << s.status().message();
    return std::move(s).value();
  }

  static DraftRow Row(const std::string& id, const std::string& phi) {
    DraftRow r;
    r.id = id;
    r.status = "draft";
    r.department = "ED";
    r.encounter_key = "ENC-1";
    r.model_version = "tiny@1";
    r.input_digest = "abc";
    r.created_at = r.updated_at = "2026-01-01T00:00:00.000Z";
    r.phi = phi;
    return r;
  }

  fs::path dir_;
  std::string ring_path_, db_;
};

// Stores a row that is not in the store yet.
Status PutNew(DraftStore& store, DraftRow row) { return store.Put(row); }

constexpr char kCanary[] = "CANARY-Zyxwvut Quintana MRN99887766";

TEST_F(StoreTest, NoPlaintextReachesTheDatabaseFile) {
  auto store = Open();
  ASSERT_TRUE(PutNew(*store, Row("d-1", std::string("{\"text\":\"") + kCanary +
                                            " right pleural effusion\"}"))
                  .ok());
  auto got = store->Get("d-1");
  ASSERT_TRUE(got.ok());
  EXPECT_NE(got->phi.find(kCanary), std::string::npos);
  EXPECT_EQ(got->department, "ED");
  store.reset();
  auto bytes = ReadFile(db_);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->find("CANARY"), std::string::npos);
  EXPECT_EQ(bytes->find("Quintana"), std::string::npos);
  EXPECT_EQ(bytes->find("pleural"), std::string::npos);
}

TEST_F(StoreTest, ListsFiltersAndReplaces) {
  auto store = Open();
  ASSERT_TRUE(PutNew(*store, Row("d-1", "{\"n\":1}")).ok());
  DraftRow b = Row("d-2", "{\"n\":2}");
  b.department = "ICU";
  b.created_at = "2026-01-02T00:00:00.000Z";
  ASSERT_TRUE(store->Put(b).ok());
  // An empty scope is refused, not read as "any department".
  EXPECT_EQ(store->List({}).status().code(), ErrorCode::kPermissionDenied);
  DraftQuery every;
  every.all_departments = true;
  auto all = store->List(every);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "d-2");  // newest first
  DraftQuery q;
  q.department = "ED";
  EXPECT_EQ(store->List(q)->size(), 1u);
  b.status = "signed";
  b.signed_at = "2026-01-03T00:00:00.000Z";
  b.phi = "{\"n\":3}";
  ASSERT_TRUE(store->Put(b).ok());
  q = {};
  q.all_departments = true;
  q.signed_since = "2026-01-03";
  auto signed_rows = store->List(q);
  ASSERT_EQ(signed_rows->size(), 1u);
  EXPECT_EQ((*signed_rows)[0].phi, "{\"n\":3}");
  EXPECT_EQ(store->Get("d-9").status().code(), ErrorCode::kNotFound);
}

TEST_F(StoreTest, RotationRewrapsAndOldDraftsStayReadable) {
  auto store = Open();
  ASSERT_TRUE(PutNew(*store, Row("d-1", "{\"old\":true}")).ok());
  auto before = ReadFile(db_);
  auto ring = crypto::KeyRing::Load(ring_path_);
  const std::string old_id = ring->active_id();
  ASSERT_TRUE(ring->Rotate(ring_path_).ok());
  auto n = store->Rewrap(*ring);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(*store->Rewrap(*ring), 0u);  // idempotent
  store->SetKeyRing(*ring);
  auto usage = store->KeyUsage();
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].first, ring->active_id());
  EXPECT_NE((*usage)[0].first, old_id);
  // The old key can go: the row no longer needs it.
  ASSERT_TRUE(ring->Retire(ring_path_).ok());
  store.reset();
  auto reopened = Open();
  auto got = reopened->Get("d-1");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->phi, "{\"old\":true}");
}

TEST_F(StoreTest, PicksUpARingRotatedByAnotherProcess) {
  auto ring = crypto::KeyRing::LoadOrCreate(ring_path_);
  auto s = OpenDraftStore(db_, *ring, ring_path_);
  ASSERT_TRUE(s.ok());
  auto& store = *s;
  ASSERT_TRUE(PutNew(*store, Row("d-1", "{}")).ok());
  // Another process (medscribe keys rotate) rotates and re-wraps.
  auto other_ring = crypto::KeyRing::Load(ring_path_);
  ASSERT_TRUE(other_ring->Rotate(ring_path_).ok());
  auto other = OpenDraftStore(db_, *other_ring);
  ASSERT_EQ(*(*other)->Rewrap(*other_ring), 1u);
  ASSERT_TRUE(other_ring->Retire(ring_path_).ok());
  // This store reloads the ring: old rows read, new rows use the new key.
  ASSERT_TRUE(store->Get("d-1").ok());
  ASSERT_TRUE(PutNew(*store, Row("d-2", "{}")).ok());
  auto usage = store->KeyUsage();
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].first, other_ring->active_id());
}

TEST_F(StoreTest, WrongKeyFailsClosed) {
  auto store = Open();
  ASSERT_TRUE(PutNew(*store, Row("d-1", "{\"secret\":1}")).ok());
  store.reset();
  fs::remove(ring_path_);  // another ring: a new, unrelated key
  auto other = Open();
  auto got = other->Get("d-1");
  EXPECT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(got.status().message().find("cannot be decrypted"), std::string::npos);
  DraftQuery every;
  every.all_departments = true;
  EXPECT_EQ(other->List(every).status().code(), ErrorCode::kDataLoss);
}

TEST_F(StoreTest, AlteredRowFailsClosed) {
  auto store = Open();
  ASSERT_TRUE(PutNew(*store, Row("d-1", "{\"a\":1}")).ok());
  ASSERT_TRUE(PutNew(*store, Row("d-2", "{\"b\":2}")).ok());
  store.reset();
  // Swap the sealed columns of two rows: each is bound to its id.
  {
    auto db = OpenDraftStore(db_, *crypto::KeyRing::Load(ring_path_));
    ASSERT_TRUE(db.ok());
  }
  const std::string sql =
      "sqlite3 " + db_ +
      " \"UPDATE drafts SET sealed = (SELECT sealed FROM drafts WHERE id='d-2'), wrapped_key = "
      "(SELECT wrapped_key FROM drafts WHERE id='d-2') WHERE id='d-1'\"";
  ASSERT_EQ(std::system(sql.c_str()), 0);
  auto reopened = Open();
  auto got = reopened->Get("d-1");
  EXPECT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kDataLoss);
  EXPECT_TRUE(reopened->Get("d-2").ok());
}

TEST_F(StoreTest, TwoWritersOfOneRevisionCannotBothWrite) {
  auto store = Open();
  DraftRow row = Row("d-1", "{\"text\":\"first\"}");
  ASSERT_TRUE(store->Put(row).ok());
  EXPECT_EQ(row.revision, 1);
  EXPECT_EQ(PutNew(*store, Row("d-1", "{}")).code(), ErrorCode::kAlreadyExists);
  // Two requests read revision 1; the first write wins, the second is told to reload.
  DraftRow a = *store->Get("d-1"), b = *store->Get("d-1");
  a.phi = "{\"text\":\"edited\"}";
  ASSERT_TRUE(store->Put(a).ok());
  EXPECT_EQ(a.revision, 2);
  b.status = "signed";
  b.phi = "{\"text\":\"signed over the edit\"}";
  const Status lost = store->Put(b);
  EXPECT_EQ(lost.code(), ErrorCode::kAborted) << lost.message();
  auto got = store->Get("d-1");
  EXPECT_EQ(got->phi, "{\"text\":\"edited\"}");
  EXPECT_EQ(got->status, "draft");
  EXPECT_EQ(got->revision, 2);
}

TEST_F(StoreTest, DepartmentAndStatusAreBoundToTheSealedDocument) {
  auto store = Open();
  ASSERT_TRUE(PutNew(*store, Row("d-1", "{\"a\":1}")).ok());
  ASSERT_TRUE(PutNew(*store, Row("d-2", "{\"b\":2}")).ok());
  store.reset();
  // Someone with write access to the database moves a draft to another department, or marks
  // one signed, in the clear columns.
  for (const char* sql : {"UPDATE drafts SET department='ICU' WHERE id='d-1'",
                          "UPDATE drafts SET status='signed' WHERE id='d-2'"}) {
    const std::string cmd = "sqlite3 " + db_ + " \"" + sql + "\"";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  auto reopened = Open();
  for (const char* id : {"d-1", "d-2"}) {
    auto got = reopened->Get(id);
    EXPECT_EQ(got.status().code(), ErrorCode::kDataLoss) << id;
  }
}

TEST_F(StoreTest, AStoreWithoutRevisionsGainsThem) {
  // The schema before rows had revisions.
  const std::string cmd =
      "sqlite3 " + db_ +
      " \"CREATE TABLE drafts (id TEXT PRIMARY KEY, status TEXT NOT NULL, department TEXT NOT "
      "NULL, encounter_key TEXT NOT NULL, model_version TEXT NOT NULL, input_digest TEXT NOT NULL, "
      "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, signed_at TEXT NOT NULL DEFAULT '', "
      "signer_key TEXT NOT NULL DEFAULT '', batch_job TEXT NOT NULL DEFAULT '', kek_id TEXT NOT "
      "NULL, wrapped_key TEXT NOT NULL, sealed TEXT NOT NULL)\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto store = Open();
  DraftRow row = Row("d-1", "{}");
  ASSERT_TRUE(store->Put(row).ok());
  EXPECT_EQ(store->Get("d-1")->revision, 1);
}

TEST_F(StoreTest, SignedEditsAreCountedPerModelVersionSinceATime) {
  auto store = Open();
  const auto put = [&](const std::string& id, const std::string& model, const std::string& status,
                       const std::string& signed_at, const std::string& draft,
                       const std::string& final_text) {
    DraftRow r = Row(id, nlohmann::json{{"draft", draft}, {"final", final_text}}.dump());
    r.model_version = model;
    r.status = status;
    r.signed_at = signed_at;
    ASSERT_TRUE(PutNew(*store, r).ok());
  };
  // chest@2: one word of four changed, then nothing of two; chest@1: a word added to three.
  put("d-1", "chest@2", "signed", "2026-03-01T10:00:00Z", "small left effusion noted",
      "small right effusion noted");
  put("d-2", "chest@2", "signed", "2026-03-01T11:00:00Z", "no pneumothorax", "no pneumothorax");
  put("d-3", "chest@1", "signed", "2026-03-01T12:00:00Z", "heart size normal",
      "heart size normal today");
  put("d-4", "chest@1", "signed", "2026-02-01T00:00:00Z", "before the canary", "rewritten");
  put("d-5", "chest@2", "draft", "", "not signed yet", "");
  auto edits = SignedEditsByModel(*store, "2026-03-01T00:00:00Z");
  ASSERT_TRUE(edits.ok()) << edits.status().message();
  ASSERT_EQ(edits->size(), 2u);
  const monitor::DraftEdits& canary = edits->at("chest@2");
  EXPECT_EQ(canary.signed_reports, 2);
  EXPECT_EQ(canary.draft_words, 6);
  EXPECT_EQ(canary.edited_words, 2);  // "left" removed, "right" added
  EXPECT_NEAR(canary.rate(), 2.0 / 6, 1e-12);
  const monitor::DraftEdits& baseline = edits->at("chest@1");
  EXPECT_EQ(baseline.signed_reports, 1);
  EXPECT_NEAR(baseline.rate(), 1.0 / 3, 1e-12);
}

}  // namespace
}  // namespace medscribe::clinical
