#include "warehouse/sqlite_db.h"

#include <sqlite3.h>

namespace medscribe::sqlite {
namespace {

struct StmtFree {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFree>;

}  // namespace

StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path,
                                                   const std::string& schema) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return IoError("cannot open the database '" + path + "': " + why +
                   " (check that its directory exists and is writable)");
  }
  sqlite3_busy_timeout(db, 30000);
  std::unique_ptr<SqliteDb> out(new SqliteDb(db));
  RETURN_IF_ERROR(out->Exec(schema));
  return out;
}

SqliteDb::~SqliteDb() { sqlite3_close(db_); }

Status SqliteDb::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return IoError("database: " + why);
  }
  return OkStatus();
}

StatusOr<std::vector<Row>> SqliteDb::Query(const std::string& sql, const std::vector<Param>& params,
                                           bool read_only) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return InvalidArgumentError(std::string("SQL: ") + sqlite3_errmsg(db_));
  }
  Stmt st(raw);
  if (read_only && !sqlite3_stmt_readonly(raw))
    return InvalidArgumentError("the statement would write");
  int i = 1;
  for (const Param& p : params) {
    if (const auto* s = std::get_if<std::string>(&p)) {
      sqlite3_bind_text(raw, i++, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_int64(raw, i++, std::get<long>(p));
    }
  }
  std::vector<Row> rows;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    Row row;
    for (int c = 0; c < sqlite3_column_count(raw); ++c) {
      const unsigned char* t = sqlite3_column_text(raw, c);
      row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return IoError(std::string("database: ") + sqlite3_errmsg(db_));
  return rows;
}

Status SqliteDb::Run(const std::string& sql, const std::vector<Param>& params) {
  return Query(sql, params).status();
}

Status SqliteDb::Transaction(const std::function<Status()>& body) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  if (Status s = body(); !s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

}  // namespace medscribe::sqlite
