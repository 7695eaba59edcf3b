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
// Append writes and fdatasyncs the record before returning: the caller answers the request only
// afterwards. Thread safety: Append may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

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

class AuditLog {
 public:
  // Opens (creating 0600) the log at `path`, continuing its chain. DataLoss when the existing
  // log's last line is not a record.
  // `chain_key`: the key of the record hashes (AuditChainKey); empty writes plain SHA-256
  // records (tests of older logs only).
  static StatusOr<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& path,
                                                  std::string chain_key = "");
  ~AuditLog();
  // Appends the record with the current time; durable when OK.
  Status Append(const AuditRecord& r);
  const std::filesystem::path& path() const { return path_; }

 private:
  AuditLog() = default;
  std::mutex mu_;
  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t seq_ = 0;
  std::string prev_;  // hex hash of the last record
  std::string key_;   // chain key; empty: plain SHA-256
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

// The log as a FHIR R4 Bundle (type collection) of AuditEvent resources.
StatusOr<std::string> ExportAuditFhir(const std::filesystem::path& path);

}  // namespace medscribe::gateway
