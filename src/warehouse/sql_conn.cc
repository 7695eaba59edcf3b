#include "warehouse/sql_conn.h"

#include <libpq-fe.h>

#include "warehouse/sqlite_db.h"

namespace medscribe::sql {
namespace {

class SqliteConn final : public SqlConn {
 public:
  explicit SqliteConn(std::unique_ptr<sqlite::SqliteDb> db) : db_(std::move(db)) {}
  Status Run(const std::string& sql, const Params& p) override {
    return db_->Run(Translate(sql), Convert(p));
  }
  StatusOr<Rows> Query(const std::string& sql, const Params& p) override {
    return db_->Query(Translate(sql), Convert(p));
  }
  Status Transaction(const std::string&, const std::function<Status()>& body) override {
    return db_->Transaction(body);
  }
  bool is_postgres() const override { return false; }

 private:
  static std::string Translate(std::string sql) {
    for (char& c : sql)
      if (c == '$') c = '?';
    return sql;
  }
  static std::vector<sqlite::Param> Convert(const Params& p) {
    return std::vector<sqlite::Param>(p.begin(), p.end());
  }
  std::unique_ptr<sqlite::SqliteDb> db_;
};

class PgConn final : public SqlConn {
 public:
  static StatusOr<std::unique_ptr<PgConn>> Connect(const std::string& url,
                                                   const std::string& what) {
    PGconn* c = PQconnectdb(url.c_str());
    if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
      std::string why = c ? PQerrorMessage(c) : "out of memory";
      while (!why.empty() && why.back() == '\n') why.pop_back();
      if (c) PQfinish(c);
      return UnavailableError("cannot connect to the PostgreSQL server of " + what + ": " + why +
                              " (check the URL, that the server runs, and its credentials)");
    }
    // Server notices ("relation already exists, skipping") are not for the user.
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    return std::unique_ptr<PgConn>(new PgConn(c, what));
  }
  ~PgConn() override { PQfinish(c_); }
  Status Run(const std::string& sql, const Params& p) override { return Exec(sql, p).status(); }
  StatusOr<Rows> Query(const std::string& sql, const Params& p) override { return Exec(sql, p); }
  Status Transaction(const std::string& table, const std::function<Status()>& body) override {
    RETURN_IF_ERROR(Run("BEGIN", {}));
    Status s = Run("LOCK TABLE " + table + " IN SHARE ROW EXCLUSIVE MODE", {});
    if (s.ok()) s = body();
    if (!s.ok()) {
      (void)Run("ROLLBACK", {});
      return s;
    }
    return Run("COMMIT", {});
  }
  bool is_postgres() const override { return true; }

 private:
  PgConn(PGconn* c, std::string what) : c_(c), what_(std::move(what)) {}
  StatusOr<Rows> Exec(const std::string& sql, const Params& p) {
    std::vector<const char*> values;
    for (const std::string& s : p) values.push_back(s.c_str());
    PGresult* r = PQexecParams(c_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string why = PQerrorMessage(c_);
      while (!why.empty() && why.back() == '\n') why.pop_back();
      PQclear(r);
      if (PQstatus(c_) != CONNECTION_OK) {
        PQreset(c_);
        return UnavailableError("the PostgreSQL server of " + what_ + " is unreachable: " + why);
      }
      return InternalError("PostgreSQL: " + why);
    }
    Rows rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }
  PGconn* c_;
  std::string what_;
};

}  // namespace

bool IsPostgresUrl(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

StatusOr<std::unique_ptr<SqlConn>> OpenSqlConn(const std::string& location,
                                               const std::string& schema, const std::string& what) {
  if (IsPostgresUrl(location)) {
    ASSIGN_OR_RETURN(auto pg, PgConn::Connect(location, what));
    // One statement per call: libpq's extended protocol takes no multi-statement strings.
    size_t start = 0;
    while (start < schema.size()) {
      size_t end = schema.find(';', start);
      if (end == std::string::npos) end = schema.size();
      std::string stmt = schema.substr(start, end - start);
      start = end + 1;
      const size_t first = stmt.find_first_not_of(" \n\t");
      if (first == std::string::npos || stmt.compare(first, 6, "PRAGMA") == 0) continue;
      RETURN_IF_ERROR(pg->Run(stmt, {}));
    }
    return std::unique_ptr<SqlConn>(std::move(pg));
  }
  std::string path = location;
  if (path.rfind("sqlite:", 0) == 0) path = path.substr(7);
  if (path.empty()) return InvalidArgumentError(what + " needs a file path or a PostgreSQL URL");
  ASSIGN_OR_RETURN(auto db, sqlite::SqliteDb::Open(path, schema));
  return std::unique_ptr<SqlConn>(std::make_unique<SqliteConn>(std::move(db)));
}

}  // namespace medscribe::sql
