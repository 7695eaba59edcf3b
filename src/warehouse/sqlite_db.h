// A small RAII bridge to SQLite for MedScribe's own databases (warehouse, registry): open with a
// schema, run statements with bound parameters, read rows as text, transactions.
//
// Thread safety: one SqliteDb per thread (SQLite serializes writers across processes; a busy
// database is retried for up to 30 s).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace medscribe::sqlite {

using Param = std::variant<std::string, long>;
using Row = std::vector<std::string>;

class SqliteDb {
 public:
  // Opens or creates `path` and runs `schema` (CREATE ... IF NOT EXISTS statements). IoError
  // naming the file when it cannot be opened.
  static StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                                  const std::string& schema);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Status Exec(const std::string& sql);
  // Runs one statement with parameters ?1..?n.
  Status Run(const std::string& sql, const std::vector<Param>& params = {});
  // Rows of a statement (every column as text; NULL as ""). With `read_only`, a statement that
  // would write is refused (InvalidArgument) before it runs.
  StatusOr<std::vector<Row>> Query(const std::string& sql, const std::vector<Param>& params = {},
                                   bool read_only = false);
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back when it fails.
  Status Transaction(const std::function<Status()>& body);

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace medscribe::sqlite
