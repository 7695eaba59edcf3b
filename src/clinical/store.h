// The drafts and reports store: one row per draft, from first draft to signed report.
//
// Columns the store needs to find and order rows stay in the clear and hold no PHI (ids,
// pseudonyms, department, status, model version, digests, times). Everything else — draft
// text, hints, edits, signed text, diff, the record excerpt shown to the reviewer — is one JSON
// document sealed with envelope encryption (crypto/envelope.h): AES-256-GCM under a fresh data
// key per write, the data key wrapped by the key ring's active key-encryption key, the row id,
// department and status bound as associated data so a sealed document cannot be moved to another
// row, and a row's department or status cannot be changed in the clear without the document
// failing to open (rows sealed before this binding open with the id alone until rewritten).
//
// Every row carries a revision; Put replaces a row only at the revision it was read at
// (optimistic concurrency), so two writers that read the same row cannot both write it.
//
// Backends: SQLite (a file path or "sqlite:PATH") and PostgreSQL ("postgresql://..." through
// libpq). Schema: docs/formats/drafts-store.md.
//
// Thread safety: a DraftStore serializes its own calls; it may be shared between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/envelope.h"

namespace medscribe::clinical {

struct DraftRow {
  // In the clear.
  std::string id;             // "d-" + 20 hex digits
  std::string status;         // "draft" or "signed"
  std::string department;     // for department-scoped access
  std::string encounter_key;  // keyed pseudonym of the encounter id (lookup without PHI)
  std::string model_version;  // registry name/version that drafted it
  std::string input_digest;   // SHA-256 of what the model saw
  std::string created_at, updated_at, signed_at;  // ISO 8601 UTC; signed_at empty until signed
  std::string signer_key;                         // keyed pseudonym of the signer
  std::string batch_job;                          // batch job id, empty for interactive drafts
  int64_t revision = 0;                           // 0: not stored yet; then 1, 2, ... one per write
  // Sealed: the PHI document (JSON text).
  std::string phi;
};

// A query of the drafts store. It fails closed: a query without a department is refused unless
// `all_departments` says the caller may see every department (an empty scope never means "any").
struct DraftQuery {
  std::string status;            // empty: any
  std::string department;        // REQUIRED unless all_departments
  bool all_departments = false;  // the caller's role may see every department
  std::string encounter_key;     // empty: any
  std::string signed_since;      // ISO time; rows signed at or after it
  std::string batch_job;         // empty: any
  int limit = 200;
};

class DraftStore {
 public:
  virtual ~DraftStore() = default;
  // Writes `row`, sealing `row.phi` under a new data key, and sets row.revision to the stored
  // revision. With row.revision 0 it inserts a new row (AlreadyExists when the id is taken);
  // otherwise it replaces the row only if it is still at row.revision (Aborted when another
  // write came first: reload and retry).
  virtual Status Put(DraftRow& row) = 0;
  // NotFound for an unknown id; DataLoss when the sealed document cannot be opened with the
  // ring (a key it does not hold, another ring, an altered row) — the store fails closed, it
  // never returns partial rows.
  virtual StatusOr<DraftRow> Get(const std::string& id) = 0;
  // Rows matching `q`, newest first, decrypted.
  virtual StatusOr<std::vector<DraftRow>> List(const DraftQuery& q) = 0;
  // Re-wraps every row's data key under `ring`'s active key (sealed documents untouched);
  // returns the number of rows re-wrapped. Rows already under the active key are skipped.
  virtual StatusOr<size_t> Rewrap(const crypto::KeyRing& ring) = 0;
  // Replaces the ring used from now on (after a rotation).
  virtual void SetKeyRing(crypto::KeyRing ring) = 0;
  // Key ids in use, with their row counts.
  virtual StatusOr<std::vector<std::pair<std::string, size_t>>> KeyUsage() = 0;
};

// Opens (creating the schema when needed) the store at `location`: a file path or "sqlite:PATH"
// for SQLite, "postgresql://..." / "postgres://..." for PostgreSQL. With `ring_path`, the store
// reloads the ring when that file changes (after `medscribe keys rotate` by another process).
StatusOr<std::unique_ptr<DraftStore>> OpenDraftStore(const std::string& location,
                                                     crypto::KeyRing ring,
                                                     const std::string& ring_path = "");

}  // namespace medscribe::clinical
