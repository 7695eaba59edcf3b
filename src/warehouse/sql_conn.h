// One small interface over MedScribe's two SQL backends: SQLite files (one machine) and
// PostgreSQL servers (shared by several machines). Statements use $1..$n placeholders
// (translated for SQLite) and parameters are text, which both backends convert to the column's
// type. Rows come back as text (NULL as "").
//
// Thread safety: one SqlConn per thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::sql {

using Params = std::vector<std::string>;
using Rows = std::vector<std::vector<std::string>>;

class SqlConn {
 public:
  virtual ~SqlConn() = default;
  virtual Status Run(const std::string& sql, const Params& params = {}) = 0;
  virtual StatusOr<Rows> Query(const std::string& sql, const Params& params = {}) = 0;
  // Runs `body` in a transaction that excludes every other writer of `table` until it ends
  // (SQLite: BEGIN IMMEDIATE, the whole file; PostgreSQL: LOCK TABLE ... IN SHARE ROW EXCLUSIVE
  // MODE, readers go on). Rolls back when `body` fails and returns its status.
  virtual Status Transaction(const std::string& table, const std::function<Status()>& body) = 0;
  virtual bool is_postgres() const = 0;
};

// Opens `location`: a postgresql:// or postgres:// URL, else a SQLite file path (a "sqlite:"
// prefix is allowed). `schema`'s statements (separated by ';', CREATE ... IF NOT EXISTS) run at
// open; PRAGMA statements only on SQLite. `what` names the database in errors (e.g. "the drafts
// store"). Unavailable when the server cannot be reached, IoError when the file cannot be opened.
StatusOr<std::unique_ptr<SqlConn>> OpenSqlConn(const std::string& location,
                                               const std::string& schema, const std::string& what);

// Whether `location` names a PostgreSQL server.
bool IsPostgresUrl(const std::string& location);

}  // namespace medscribe::sql
