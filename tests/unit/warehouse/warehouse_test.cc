#include "warehouse/warehouse.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace medscribe::warehouse {
namespace {

DatasetRecord Record(const std::string& id, int samples) {
  DatasetRecord d;
  d.id = id;
  d.created_at = "2026-01-01T00:00:00Z";
  d.location = "/data/" + id;
  d.manifest = "{}";
  for (int i = 0; i < samples; ++i) {
    d.samples.push_back(
        {"ENC-" + std::to_string(i), "train", "train-000000.tar", "P1", "ED", "AcmeDR 500", "J18"});
  }
  d.splits = {{"train", samples, 1, 1}};
  d.quarantine = {{"dicom", "a/b.dcm", "ff", "not_dicom", "no DICOM header"}};
  return d;
}

TEST(WarehouseTest, RecordsAndReplacesADataset) {
  testing::TempDir dir;
  auto w = SqliteWarehouse::Open((dir / "w.sqlite").string());
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_TRUE((*w)->RecordDataset(Record("abc", 3)).ok());
  ASSERT_TRUE((*w)->RecordDataset(Record("def", 2)).ok());
  auto n = (*w)->Query("SELECT count(*) FROM samples WHERE dataset_id = 'abc'");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ((*n)[0][0], "3");
  // Recording the same id again replaces its rows instead of duplicating them.
  ASSERT_TRUE((*w)->RecordDataset(Record("abc", 5)).ok());
  n = (*w)->Query("SELECT count(*) FROM samples WHERE dataset_id = 'abc'");
  EXPECT_EQ((*n)[0][0], "5");
  n = (*w)->Query("SELECT count(*), sum(samples) FROM datasets");
  EXPECT_EQ((*n)[0][0], "2");
  EXPECT_EQ((*n)[0][1], "7");
  n = (*w)->Query("SELECT reason FROM quarantine WHERE dataset_id = 'def'");
  ASSERT_EQ(n->size(), 1u);
  EXPECT_EQ((*n)[0][0], "not_dicom");
}

TEST(WarehouseTest, PersistsAcrossOpensAndRefusesWritesThroughQuery) {
  testing::TempDir dir;
  const std::string path = (dir / "w.sqlite").string();
  {
    auto w = SqliteWarehouse::Open(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->RecordDataset(Record("abc", 1)).ok());
  }
  auto w = SqliteWarehouse::Open(path);
  ASSERT_TRUE(w.ok());
  auto n = (*w)->Query("SELECT id FROM datasets");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ((*n)[0][0], "abc");
  EXPECT_FALSE((*w)->Query("DELETE FROM datasets").ok());
  EXPECT_FALSE((*w)->Query("SELECT * FROM no_such_table").ok());
}

TEST(WarehouseTest, OpenFailsClearlyForAnUnwritablePlace) {
  auto w = SqliteWarehouse::Open("/nonexistent-dir/w.sqlite");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("cannot open the warehouse"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::warehouse
