#include "warehouse/warehouse.h"

#include <sqlite3.h>

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

// A prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Status status() const {
    return s_ ? OkStatus() : InternalError(std::string("SQL: ") + sqlite3_errmsg(db_));
  }
  // Binds the values to parameters 1..n, runs the statement to completion and resets it.
  Status Run(std::initializer_list<std::string> text, std::initializer_list<long> ints = {}) {
    int i = 1;
    for (const std::string& t : text) {
      sqlite3_bind_text(s_, i++, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
    }
    for (long v : ints) sqlite3_bind_int64(s_, i++, v);
    const int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    if (rc != SQLITE_DONE) return IoError(std::string("warehouse write: ") + sqlite3_errmsg(db_));
    return OkStatus();
  }
  sqlite3_stmt* get() { return s_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

StatusOr<std::unique_ptr<SqliteWarehouse>> SqliteWarehouse::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return IoError("cannot open the warehouse '" + path + "': " + why +
                   " (check the directory exists and is writable, or pass --warehouse FILE)");
  }
  sqlite3_busy_timeout(db, 30000);
  std::unique_ptr<SqliteWarehouse> w(new SqliteWarehouse(db));
  RETURN_IF_ERROR(w->Exec(kSchema));
  return w;
}

SqliteWarehouse::~SqliteWarehouse() { sqlite3_close(db_); }

Status SqliteWarehouse::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return IoError("warehouse: " + why);
  }
  return OkStatus();
}

Status SqliteWarehouse::RecordDataset(const DatasetRecord& d) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    for (const char* table : {"samples", "splits", "quarantine"}) {
      Stmt del(db_, (std::string("DELETE FROM ") + table + " WHERE dataset_id = ?").c_str());
      RETURN_IF_ERROR(del.status());
      RETURN_IF_ERROR(del.Run({d.id}));
    }
    Stmt ds(db_, "INSERT OR REPLACE INTO datasets VALUES (?, ?, ?, ?, ?, ?)");
    RETURN_IF_ERROR(ds.status());
    RETURN_IF_ERROR(
        ds.Run({d.id, d.created_at, d.location, d.manifest},
               {static_cast<long>(d.samples.size()), static_cast<long>(d.quarantine.size())}));
    Stmt sa(db_, "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    RETURN_IF_ERROR(sa.status());
    for (const SampleRow& r : d.samples) {
      RETURN_IF_ERROR(sa.Run({d.id, r.key, r.split, r.shard, r.patient_id, r.department,
                              r.device_model, r.primary_finding}));
    }
    Stmt sp(db_, "INSERT INTO splits VALUES (?, ?, ?, ?, ?)");
    RETURN_IF_ERROR(sp.status());
    for (const SplitRow& r : d.splits) {
      RETURN_IF_ERROR(sp.Run({d.id, r.split}, {r.samples, r.patients, r.shards}));
    }
    Stmt q(db_, "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)");
    RETURN_IF_ERROR(q.status());
    for (const QuarantineRow& r : d.quarantine) {
      RETURN_IF_ERROR(q.Run({d.id, r.kind, r.source, r.sha256, r.reason, r.detail}));
    }
    return OkStatus();
  };
  if (Status s = body(); !s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

StatusOr<std::vector<std::vector<std::string>>> SqliteWarehouse::Query(const std::string& sql) {
  Stmt st(db_, sql.c_str());
  RETURN_IF_ERROR(st.status());
  if (!sqlite3_stmt_readonly(st.get())) return InvalidArgumentError("Query is for reading only");
  std::vector<std::vector<std::string>> rows;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(st.get()); ++c) {
      const unsigned char* t = sqlite3_column_text(st.get(), c);
      row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return IoError(std::string("warehouse query: ") + sqlite3_errmsg(db_));
  return rows;
}

}  // namespace medscribe::warehouse
