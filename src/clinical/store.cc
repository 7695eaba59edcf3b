#include "clinical/store.h"

#include <sys/stat.h>

#include <mutex>

#include "common/base64.h"
#include "warehouse/sql_conn.h"

namespace medscribe::clinical {
namespace {

using sql::Params;
using sql::Rows;
using sql::SqlConn;

const char kSchema[] = R"(
CREATE TABLE IF NOT EXISTS drafts (
  id            TEXT PRIMARY KEY,
  status        TEXT NOT NULL,
  department    TEXT NOT NULL,
  encounter_key TEXT NOT NULL,
  model_version TEXT NOT NULL,
  input_digest  TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  signed_at     TEXT NOT NULL DEFAULT '',
  signer_key    TEXT NOT NULL DEFAULT '',
  batch_job     TEXT NOT NULL DEFAULT '',
  revision      INTEGER NOT NULL DEFAULT 1,
  kek_id        TEXT NOT NULL,
  wrapped_key   TEXT NOT NULL,
  sealed        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS drafts_encounter ON drafts (encounter_key);
CREATE INDEX IF NOT EXISTS drafts_signed ON drafts (signed_at);
CREATE INDEX IF NOT EXISTS drafts_created ON drafts (created_at);
)";

constexpr char kColumns[] =
    "id, status, department, encounter_key, model_version, input_digest, created_at, "
    "updated_at, signed_at, signer_key, batch_job, kek_id, wrapped_key, sealed, revision";

class SqlDraftStore final : public DraftStore {
 public:
  SqlDraftStore(std::unique_ptr<SqlConn> conn, crypto::KeyRing ring, std::string ring_path)
      : conn_(std::move(conn)), ring_(std::move(ring)), ring_path_(std::move(ring_path)) {
    ring_mtime_ = MtimeOf(ring_path_);
  }

  Status Put(DraftRow& row) override {
    ASSIGN_OR_RETURN(std::string dek, crypto::RandomKey());
    ASSIGN_OR_RETURN(std::string sealed, crypto::Seal(dek, row.phi, Aad(row)));
    std::lock_guard<std::mutex> lock(mu_);
    RefreshRing();
    ASSIGN_OR_RETURN(std::string wrapped, ring_.Wrap(dek, row.id));
    const Params values = {row.id,
                           row.status,
                           row.department,
                           row.encounter_key,
                           row.model_version,
                           row.input_digest,
                           row.created_at,
                           row.updated_at,
                           row.signed_at,
                           row.signer_key,
                           row.batch_job,
                           ring_.active_id(),
                           Base64Encode(wrapped),
                           Base64Encode(sealed)};
    Rows rows;
    if (row.revision == 0) {
      ASSIGN_OR_RETURN(
          rows, conn_->Query(std::string("INSERT INTO drafts (") + kColumns +
                                 ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,1) "
                                 "ON CONFLICT (id) DO NOTHING RETURNING revision",
                             values));
      if (rows.empty()) return AlreadyExistsError("draft '" + row.id + "' exists already");
    } else {
      Params p = values;
      p.push_back(std::to_string(row.revision));
      ASSIGN_OR_RETURN(
          rows, conn_->Query("UPDATE drafts SET status=$2, department=$3, encounter_key=$4, "
                             "model_version=$5, input_digest=$6, created_at=$7, updated_at=$8, "
                             "signed_at=$9, signer_key=$10, batch_job=$11, kek_id=$12, "
                             "wrapped_key=$13, sealed=$14, revision=revision+1 "
                             "WHERE id=$1 AND revision=$15 RETURNING revision",
                             p));
      if (rows.empty())
        return AbortedError("draft '" + row.id + "' changed since it was read (revision " +
                            std::to_string(row.revision) + "); reload it and try again");
    }
    row.revision = std::stoll(rows.front().front());
    return OkStatus();
  }

  StatusOr<DraftRow> Get(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    RefreshRing();
    ASSIGN_OR_RETURN(
        Rows rows,
        conn_->Query(std::string("SELECT ") + kColumns + " FROM drafts WHERE id = $1", {id}));
    if (rows.empty()) return NotFoundError("no draft '" + id + "'");
    return Decode(rows.front());
  }

  StatusOr<std::vector<DraftRow>> List(const DraftQuery& q) override {
    if (q.department.empty() && !q.all_departments)
      return PermissionDeniedError(
          "a drafts query without a department: only a role with access to every department "
          "may list them all");
    std::string sql = std::string("SELECT ") + kColumns + " FROM drafts WHERE 1=1";
    Params p;
    auto where = [&](const std::string& column, const std::string& op, const std::string& v) {
      if (v.empty()) return;
      p.push_back(v);
      sql += " AND " + column + " " + op + " $" + std::to_string(p.size());
    };
    where("status", "=", q.status);
    where("department", "=", q.department);
    where("encounter_key", "=", q.encounter_key);
    where("signed_at", ">=", q.signed_since);
    where("batch_job", "=", q.batch_job);
    sql += " ORDER BY created_at DESC, id LIMIT " + std::to_string(std::max(1, q.limit));
    std::lock_guard<std::mutex> lock(mu_);
    RefreshRing();
    ASSIGN_OR_RETURN(Rows rows, conn_->Query(sql, p));
    std::vector<DraftRow> out;
    for (const auto& r : rows) {
      ASSIGN_OR_RETURN(DraftRow d, Decode(r));
      out.push_back(std::move(d));
    }
    return out;
  }

  StatusOr<size_t> Rewrap(const crypto::KeyRing& ring) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Rows rows, conn_->Query("SELECT id, kek_id, wrapped_key FROM drafts "
                                             "WHERE kek_id <> $1",
                                             {ring.active_id()}));
    size_t n = 0;
    for (const auto& r : rows) {
      ASSIGN_OR_RETURN(std::string wrapped, Base64Decode(r[2]));
      auto dek = ring.Unwrap(r[1], wrapped, r[0]);
      if (!dek.ok())
        return Status(dek.status().code(), "draft " + r[0] + ": " + dek.status().message());
      ASSIGN_OR_RETURN(std::string rewrapped, ring.Wrap(*dek, r[0]));
      RETURN_IF_ERROR(conn_->Run(
          "UPDATE drafts SET kek_id = $1, wrapped_key = $2 WHERE id = $3 AND kek_id = $4",
          {ring.active_id(), Base64Encode(rewrapped), r[0], r[1]}));
      ++n;
    }
    return n;
  }

  void SetKeyRing(crypto::KeyRing ring) override {
    std::lock_guard<std::mutex> lock(mu_);
    ring_ = std::move(ring);
  }

  StatusOr<std::vector<std::pair<std::string, size_t>>> KeyUsage() override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Rows rows, conn_->Query("SELECT kek_id, COUNT(*) FROM drafts GROUP BY kek_id "
                                             "ORDER BY kek_id",
                                             {}));
    std::vector<std::pair<std::string, size_t>> out;
    for (const auto& r : rows) out.emplace_back(r[0], std::stoul(r[1]));
    return out;
  }

 private:
  // What a sealed document is bound to: its row, that row's department and status.
  static std::string Aad(const DraftRow& r) {
    return "medscribe-draft-v2\n" + r.id + "\n" + r.department + "\n" + r.status;
  }
  // Rows sealed before department and status were bound.
  static std::string LegacyAad(const std::string& id) { return "medscribe-draft\n" + id; }

  static int64_t MtimeOf(const std::string& path) {
    struct stat st {};
    if (path.empty() || stat(path.c_str(), &st) != 0) return 0;
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }

  // REQUIRES: mu_ held. Picks up a ring rotated by another process; keeps the current one
  // when the file cannot be read.
  void RefreshRing() {
    if (ring_path_.empty()) return;
    const int64_t m = MtimeOf(ring_path_);
    if (m == ring_mtime_) return;
    auto ring = crypto::KeyRing::Load(ring_path_);
    if (!ring.ok()) return;
    ring_ = *std::move(ring);
    ring_mtime_ = m;
  }

  // REQUIRES: mu_ held.
  StatusOr<DraftRow> Decode(const std::vector<std::string>& r) {
    DraftRow d{r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], 0, {}};
    d.revision = std::strtoll(r[14].c_str(), nullptr, 10);
    auto wrapped = Base64Decode(r[12]);
    auto sealed = Base64Decode(r[13]);
    if (!wrapped.ok() || !sealed.ok())
      return DataLossError("draft " + d.id + ": its sealed columns are not base64");
    auto dek = ring_.Unwrap(r[11], *wrapped, d.id);
    if (!dek.ok()) return DataLossError("draft " + d.id + ": " + dek.status().message());
    auto phi = crypto::Open(*dek, *sealed, Aad(d));
    if (!phi.ok()) phi = crypto::Open(*dek, *sealed, LegacyAad(d.id));
    if (!phi.ok()) return DataLossError("draft " + d.id + ": " + phi.status().message());
    d.phi = std::move(phi).value();
    return d;
  }

  std::mutex mu_;
  std::unique_ptr<SqlConn> conn_;
  crypto::KeyRing ring_;
  std::string ring_path_;
  int64_t ring_mtime_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<DraftStore>> OpenDraftStore(const std::string& location,
                                                     crypto::KeyRing ring,
                                                     const std::string& ring_path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqlConn> conn,
                   sql::OpenSqlConn(location, kSchema, "the drafts store"));
  // Stores created before rows had revisions gain the column (existing rows start at 1).
  if (!conn->Query("SELECT revision FROM drafts LIMIT 1", {}).ok())
    RETURN_IF_ERROR(
        conn->Run("ALTER TABLE drafts ADD COLUMN revision INTEGER NOT NULL DEFAULT 1", {}));
  return std::unique_ptr<DraftStore>(
      new SqlDraftStore(std::move(conn), std::move(ring), ring_path));
}

}  // namespace medscribe::clinical
