// The warehouse: a relational record of every dataset version, its samples, splits and
// quarantined inputs, for queries across versions ("which datasets contain this patient
// pseudonym?", "how many images were quarantined for burned-in text last month?").
//
// The default backend is SQLite (one file, e.g. $MEDSCRIBE_HOME/warehouse.sqlite). Tables:
//   datasets(id PK, created_at, location, manifest, samples, quarantined)
//   samples(dataset_id, key, split, shard, patient_id, department, device_model, primary_finding)
//   splits(dataset_id, split, samples, patients, shards)
//   quarantine(dataset_id, kind, source, sha256, reason, detail)
// Recording a dataset id that is already there replaces its rows (re-running the same ingest is
// idempotent). Rows hold pseudonyms and codes only, never PHI.
//
// Thread safety: a Warehouse is not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "warehouse/sqlite_db.h"

namespace medscribe::warehouse {

struct SampleRow {
  std::string key, split, shard, patient_id, department, device_model, primary_finding;
};
struct SplitRow {
  std::string split;
  long samples = 0, patients = 0, shards = 0;
};
struct QuarantineRow {
  std::string kind, source, sha256, reason, detail;
};
struct DatasetRecord {
  std::string id, created_at, location, manifest;
  std::vector<SampleRow> samples;
  std::vector<SplitRow> splits;
  std::vector<QuarantineRow> quarantine;
};

class Warehouse {
 public:
  virtual ~Warehouse() = default;
  // Writes all rows of one dataset in one transaction (all or nothing).
  virtual Status RecordDataset(const DatasetRecord& d) = 0;
  // Rows of a read-only query, every column as text (NULL as ""). For tools and tests.
  virtual StatusOr<std::vector<std::vector<std::string>>> Query(const std::string& sql) = 0;
};

class SqliteWarehouse final : public Warehouse {
 public:
  // Opens or creates the database file and its tables. IoError when it cannot be opened.
  static StatusOr<std::unique_ptr<SqliteWarehouse>> Open(const std::string& path);
  Status RecordDataset(const DatasetRecord& d) override;
  StatusOr<std::vector<std::vector<std::string>>> Query(const std::string& sql) override;

 private:
  explicit SqliteWarehouse(std::unique_ptr<sqlite::SqliteDb> db) : db_(std::move(db)) {}
  std::unique_ptr<sqlite::SqliteDb> db_;
};

}  // namespace medscribe::warehouse
