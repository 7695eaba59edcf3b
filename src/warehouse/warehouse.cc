#include "warehouse/warehouse.h"

#include <initializer_list>

namespace medscribe::warehouse {
namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS datasets (
  id TEXT PRIMARY KEY, created_at TEXT NOT NULL, location TEXT NOT NULL, manifest TEXT NOT NULL,
  samples INTEGER NOT NULL, quarantined INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
  dataset_id TEXT NOT NULL REFERENCES datasets(id), key TEXT NOT NULL, split TEXT NOT NULL,
  shard TEXT NOT NULL, patient_id TEXT NOT NULL, department TEXT, device_model TEXT,
  primary_finding TEXT, PRIMARY KEY (dataset_id, key));
CREATE INDEX IF NOT EXISTS samples_patient ON samples(patient_id);
CREATE TABLE IF NOT EXISTS splits (
  dataset_id TEXT NOT NULL REFERENCES datasets(id), split TEXT NOT NULL,
  samples INTEGER NOT NULL, patients INTEGER NOT NULL, shards INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, split));
CREATE TABLE IF NOT EXISTS quarantine (
  dataset_id TEXT NOT NULL REFERENCES datasets(id), kind TEXT NOT NULL, source TEXT NOT NULL,
  sha256 TEXT, reason TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS quarantine_reason ON quarantine(reason);
)sql";

}  // namespace

StatusOr<std::unique_ptr<SqliteWarehouse>> SqliteWarehouse::Open(const std::string& path) {
  auto db = sqlite::SqliteDb::Open(path, kSchema);
  if (!db.ok()) {
    return Status(db.status().code(), "cannot open the warehouse: " + db.status().message() +
                                          "; or pass --warehouse FILE");
  }
  return std::unique_ptr<SqliteWarehouse>(new SqliteWarehouse(std::move(db).value()));
}

Status SqliteWarehouse::RecordDataset(const DatasetRecord& d) {
  return db_->Transaction([&]() -> Status {
    for (const char* table : {"samples", "splits", "quarantine"}) {
      RETURN_IF_ERROR(
          db_->Run(std::string("DELETE FROM ") + table + " WHERE dataset_id = ?", {d.id}));
    }
    RETURN_IF_ERROR(
        db_->Run("INSERT OR REPLACE INTO datasets VALUES (?, ?, ?, ?, ?, ?)",
                 {d.id, d.created_at, d.location, d.manifest, static_cast<long>(d.samples.size()),
                  static_cast<long>(d.quarantine.size())}));
    for (const SampleRow& r : d.samples) {
      RETURN_IF_ERROR(db_->Run("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               {d.id, r.key, r.split, r.shard, r.patient_id, r.department,
                                r.device_model, r.primary_finding}));
    }
    for (const SplitRow& r : d.splits) {
      RETURN_IF_ERROR(db_->Run("INSERT INTO splits VALUES (?, ?, ?, ?, ?)",
                               {d.id, r.split, r.samples, r.patients, r.shards}));
    }
    for (const QuarantineRow& r : d.quarantine) {
      RETURN_IF_ERROR(db_->Run("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)",
                               {d.id, r.kind, r.source, r.sha256, r.reason, r.detail}));
    }
    return OkStatus();
  });
}

StatusOr<std::vector<std::vector<std::string>>> SqliteWarehouse::Query(const std::string& sql) {
  return db_->Query(sql, {}, /*read_only=*/true);
}

}  // namespace medscribe::warehouse
