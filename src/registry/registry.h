// The model registry, under the home directory:
//   HOME/registry/registry.sqlite                     versions and aliases
//   HOME/registry/models/<name>/<version>/            the artifact (read-only files):
//       config.json, model.safetensors, tokenizer.model, run.json (lineage), metrics.jsonl,
//       manifest.json (name, version, file SHA-256s, lineage), manifest.sig (Ed25519, hex)
//   HOME/keys/registry_signing.key                    the signing key (0600)
//   HOME/keys/registry.ring                           the key ring of encrypted entries (0600;
//                                                     may be sealed to a TPM instead)
// Entries are immutable and addressed as NAME (the latest version), NAME@VERSION or NAME@ALIAS
// (movable aliases such as staging and production). Resolving an entry verifies the manifest's
// signature with the registry's key and re-hashes every file; a tampered artifact is refused.
// Every alias move is signed too and records who made it and when; the moves of one alias form
// a chain (each signature covers the previous one), and an alias resolves only through a move
// whose signature and chain verify, so pointing production at another version takes the
// signing key, not write access to the database.
//
// Encrypted entries (Register with a key ring): the weights and the tokenizer, which may hold
// what the model memorized of its training data, are stored as model.safetensors.enc and
// tokenizer.model.enc, AES-256-GCM under a data key of their own; the manifest carries that data
// key wrapped by the ring's active key (docs/formats/model.md). Resolve unwraps it with the ring
// from the key source and decrypts the files into a private directory in memory-backed storage
// (registry/plaintext_dir.h), never onto the disk; the lineage stays readable without the ring.
//
// Thread safety: one Registry per thread; several processes may share a registry (SQLite locks).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "crypto/envelope.h"
#include "warehouse/sqlite_db.h"

namespace medscribe::registry {

struct ModelRef {
  std::string name;
  std::optional<long> version;
  std::string alias;  // when addressed by alias
};
// "name", "name@3", "name@production". InvalidArgument for anything else.
StatusOr<ModelRef> ParseModelRef(const std::string& text);

// One signed alias move.
struct AliasMove {
  std::string name, alias;
  long version = 0;
  std::string moved_by, moved_at;  // who (free text, e.g. user@host) and when (UTC)
  bool signature_ok = false;       // the signature and its link to the previous move verify
};

struct Entry {
  std::string name;
  long version = 0;
  // The artifact directory: for an encrypted entry resolved by Resolve, the private directory
  // holding its plaintext (alive until the process exits); else the stored one.
  std::string dir;
  std::string created_at, dataset_id, code_commit, run_id;
  std::vector<std::string> aliases;
  bool encrypted = false;
  std::string stored_dir;  // where the registry keeps the artifact
};

// Where Resolve gets the ring that unwraps encrypted entries' data keys. Called at most once per
// Registry, and only when an encrypted entry is resolved.
using KeySource = std::function<StatusOr<crypto::KeyRing>()>;

struct RegisterOptions {
  // Encrypt the weights and the tokenizer under a new data key wrapped by this ring's active key.
  // Not owned; must outlive the call.
  const crypto::KeyRing* encrypt_with = nullptr;
};

class Registry {
 public:
  // Opens the registry under HOME/registry with the signing key HOME/keys/registry_signing.key
  // (created on first use; its public key is kept beside it as registry_signing.pub). A host
  // that holds only registry_signing.pub (a serving host) opens it for verification alone:
  // Register is refused there.
  // Encrypted entries are opened with HOME/keys/registry.ring unless SetKeySource says otherwise.
  static StatusOr<Registry> Open(const std::string& home);

  // The path of the plain registry key ring under `home`.
  static std::string KeyRingPath(const std::string& home);
  void SetKeySource(KeySource source) { key_source_ = std::move(source); }

  // Copies RUN_DIR/model/{config.json, model.safetensors, tokenizer.model}, RUN_DIR/run.json and
  // RUN_DIR/metrics.jsonl into a new version of `name`, writes and signs its manifest.
  // NotFound naming a missing file of the run; FailedPrecondition on a verification-only host.
  StatusOr<Entry> Register(const std::string& run_dir, const std::string& name,
                           const RegisterOptions& options = {});
  StatusOr<std::vector<Entry>> List();
  // Verifies the signature and every file's hash before returning; an encrypted entry is then
  // decrypted (Entry::dir names its plaintext). DataLoss naming the file that does not match, or
  // saying the signature is invalid; for an encrypted entry, the key source's error (NotFound,
  // PermissionDenied from a TPM), NotFound when the ring lacks the wrapping key, DataLoss when
  // the data key or a file does not decrypt, FailedPrecondition without memory-backed storage.
  StatusOr<Entry> Resolve(const std::string& ref);
  // Resolve's verification alone: nothing is decrypted and Entry::dir is the stored directory.
  StatusOr<Entry> Verify(const std::string& ref);
  // Points `alias` of `name` at `version`, signed, recording `moved_by`. NotFound when the
  // version does not exist; FailedPrecondition on a verification-only host.
  Status Alias(const std::string& name, long version, const std::string& alias,
               const std::string& moved_by);
  // Every move of every alias of `name`, oldest first, each with its verification.
  StatusOr<std::vector<AliasMove>> AliasHistory(const std::string& name);

 private:
  Registry(std::string root, std::unique_ptr<sqlite::SqliteDb> db, crypto::Ed25519Key key,
           KeySource key_source)
      : root_(std::move(root)),
        db_(std::move(db)),
        key_(std::move(key)),
        key_source_(std::move(key_source)) {}
  StatusOr<Entry> Load(const std::string& name, long version);
  // The version `alias` points at through its last move; DataLoss when a move's signature or
  // chain does not verify.
  StatusOr<long> AliasTarget(const std::string& name, const std::string& alias);
  // Verifies `ref` (signature, names, every file's hash). For an encrypted entry and a non-null
  // `keep`, keeps the manifest and the files' bytes read on the way, for Decrypt.
  struct Verified;
  StatusOr<Entry> Check(const std::string& ref, Verified* keep);
  // The plaintext directory of the verified encrypted entry `e`; consumes `v`'s files.
  StatusOr<std::string> Decrypt(const Entry& e, Verified& v);
  std::string root_;
  std::unique_ptr<sqlite::SqliteDb> db_;
  crypto::Ed25519Key key_;
  KeySource key_source_;
  std::optional<crypto::KeyRing> ring_;  // loaded from key_source_ on first need
};

}  // namespace medscribe::registry
