// The audit log: one JSON line per request that touches patient data (and per refused
// request), append-only and chained. Each record holds its sequence number, the hash of the
// previous record and its own hash over everything before the "hash" field, so a record that is
// altered, removed or moved breaks the chain where it happened. The hash is keyed
// (HMAC-SHA256 with a chain key derived from HOME/keys/audit.key, outside the log's directory;
// such records say "chain":"hmac-sha256"): whoever can write the log but not read the key cannot
// rewrite a record and recompute the chain. A side file (`<log>.head`, written durably) keeps
// the last sequence number and hash so that cutting records off the end is detected too; a log
// whose head is missing fails verification.
//
// Records carry no PHI: the principal is a keyed pseudonym (HMAC-SHA256 of the token's subject
// with the audit key), resources are the dataset's pseudonymous ids, the request is a digest.
//
// Writing is group-committed: Append hands the record to the log's writer thread and returns
// once it is on disk (fdatasync), and records that arrive while the writer is syncing share the
// next sync. Repeated refusals (AppendRefusal) are counted rather than written one by one. The
// writer also signs checkpoints (`<log>.checkpoints`: the sequence number and hash of the last
// record, Ed25519) that can be shipped elsewhere: whoever later rewrites the log, even with the
// chain key, cannot make it match a checkpoint kept off the host.
//
// A failed write makes the log fail closed: every later Append fails (the gateway then answers
// 500 and does nothing unrecorded) until the gateway is restarted on a repaired log.
//
// Thread safety: Append, AppendRefusal and Flush may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"

namespace medscribe::gateway {

struct AuditRecord {
  std::string principal;  // pseudonym, or "anonymous"
  std::string role;
  std::string action;                  // e.g. report.generate
  std::vector<std::string> resources;  // e.g. Encounter/ENC-…, Patient/P…
  std::string model;                   // NAME@VERSION that answered, or ""
  int status = 0;                      // HTTP status sent
  std::string outcome;                 // ok, or why refused (no free text from the request)
  std::string request_digest;          // SHA-256 of the request body, hex
  std::string source;                  // client address
  std::string deployment;
};

struct AuditOptions {
  // The key of the record hashes (AuditChainKey); empty writes plain SHA-256 records (tests of
  // older logs only).
  std::string chain_key;
  // Signs a checkpoint every `checkpoint_every` records and when the log closes. None without
  // a key.
  std::optional<crypto::Ed25519Key> checkpoint_key;
  uint64_t checkpoint_every = 1000;
  // Refusals with the same source, principal, action, status and outcome within this window
  // after the first are counted into one record ("count") written when the window ends. Zero:
  // every refusal is written on its own.
  std::chrono::milliseconds refusal_window{10000};
  size_t max_refusal_kinds = 10000;  // beyond this many kinds in a window, refusals are written
};

class AuditLog {
 public:
  // Opens (creating 0600) the log at `path`, continuing its chain, and starts its writer.
  // DataLoss when the existing log's last line is not a record.
  static StatusOr<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& path,
                                                  AuditOptions options = {});
  // Writes the counted refusals and a final checkpoint, then stops the writer.
  ~AuditLog();
  // Appends the record with the current time; durable when OK.
  Status Append(const AuditRecord& r);
  // A refused request. The first of its kind in a window is appended like Append (durable when
  // OK); repeats within the window return at once and are written as one counted record when
  // the window ends.
  Status AppendRefusal(const AuditRecord& r);
  // Writes the counted refusals whose window has ended (every one with `all`) and waits until
  // they are durable.
  Status Flush(bool all = false);
  const std::filesystem::path& path() const { return path_; }
  uint64_t syncs() const;  // fdatasync calls on the log so far (group commit)

 private:
  // A record waiting for the writer: its content and time, and for counted refusals how many
  // repeats followed it since when.
  struct Pending {
    AuditRecord record;
    std::string time;
    uint64_t count = 0;
    std::string since;
    uint64_t ticket = 0;
  };
  struct Repeats {
    AuditRecord first;
    std::string since;  // time of the first record
    uint64_t count = 0;
    std::chrono::steady_clock::time_point ends;
  };
  AuditLog() = default;
  uint64_t Enqueue(Pending p);  // REQUIRES: mu_ held
  Status WaitFor(std::unique_lock<std::mutex>& lock, uint64_t ticket);
  void Run();
  Status WriteBatch(const std::vector<Pending>& batch);  // writer thread only
  Status Checkpoint();                                   // writer thread only
  // Enqueues the counted records of the repeats whose window has ended (every one with `all`)
  // and returns the last ticket, or 0 when none. REQUIRES: mu_ held.
  uint64_t EnqueueDueRepeats(bool all);

  std::filesystem::path path_;
  AuditOptions options_;
  int fd_ = -1;
  // Writer thread state.
  uint64_t seq_ = 0;
  std::string prev_;  // hex hash of the last record
  uint64_t checkpointed_ = 0;
  // Shared state.
  mutable std::mutex mu_;
  std::condition_variable wake_, done_;
  std::deque<Pending> queue_;
  uint64_t next_ticket_ = 1, committed_ = 0;
  Status failed_;  // sticky
  bool stopping_ = false;
  uint64_t syncs_ = 0;
  std::map<std::string, Repeats> repeats_;
  std::thread writer_;
};

// The chain key derived from the gateway's audit key (HOME/keys/audit.key).
std::string AuditChainKey(const std::string& audit_key);

struct AuditVerifyResult {
  bool ok = false;
  uint64_t records = 0;
  uint64_t unkeyed = 0;  // records with a plain SHA-256 hash (written before keyed chains)
  std::string problem;   // the first altered, removed or reordered record, when !ok
};
// Checks the whole chain of the log at `path` with `chain_key` (keyed records cannot be checked
// without it). Unkeyed records after a keyed one, and a missing head file, fail verification.
StatusOr<AuditVerifyResult> VerifyAuditLog(const std::filesystem::path& path,
                                           const std::string& chain_key = "");

struct CheckpointVerifyResult {
  bool ok = false;
  uint64_t checkpoints = 0;
  uint64_t last_seq = 0;  // the newest checkpoint's record
  std::string problem;    // the first bad signature or mismatch, when !ok
};
// Checks every checkpoint in `checkpoints` (lines written by AuditLog, possibly a copy kept
// elsewhere): its Ed25519 signature under `public_key` (32 bytes), and that the log at `path`
// still holds that record with that hash. A log shorter than a checkpoint fails.
StatusOr<CheckpointVerifyResult> VerifyAuditCheckpoints(const std::filesystem::path& path,
                                                        const std::filesystem::path& checkpoints,
                                                        const std::string& public_key);

// The log as a FHIR R4 Bundle (type collection) of AuditEvent resources.
StatusOr<std::string> ExportAuditFhir(const std::filesystem::path& path);

}  // namespace medscribe::gateway
