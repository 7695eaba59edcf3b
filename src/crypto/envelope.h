// Authenticated encryption (AES-256-GCM, OpenSSL) and a key-encryption-key ring for envelope
// encryption: each record is sealed with its own random data key; the data key is stored wrapped
// (sealed) by a key-encryption key (KEK) from the ring. Rotating the ring re-wraps data keys
// without touching the sealed records.
//
// Key ring file: one key per line, "<id> <64 lowercase hex digits>", owner-only (0600). The last
// line is the active key (used to wrap); earlier lines stay to unwrap what they wrapped.
// Keys never appear in logs, outputs or error messages.
//
// Thread safety: Seal/Open are pure functions. A KeyRing is immutable after loading; Rotate
// returns a new ring.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::crypto {

inline constexpr size_t kAeadKeyBytes = 32;

// nonce (12 random bytes) || ciphertext || tag (16 bytes). `aad` is authenticated, not stored.
// REQUIRES: key.size() == kAeadKeyBytes.
StatusOr<std::string> Seal(std::string_view key, std::string_view plaintext, std::string_view aad);

// The plaintext of Seal's output. DataLoss ("wrong key or altered data") when the tag does not
// verify: a wrong key, another aad, or any changed byte fails closed.
StatusOr<std::string> Open(std::string_view key, std::string_view sealed, std::string_view aad);

// 32 random bytes from the OS generator.
StatusOr<std::string> RandomKey();

class KeyRing {
 public:
  // Reads a ring. NotFound when the file is missing (run `medscribe keys init`),
  // FailedPrecondition when others may read it or a line is malformed.
  static StatusOr<KeyRing> Load(const std::string& path);
  // A ring from the bytes of a ring file (e.g. released by a TPM, tpm/sealed_file.h); `name`
  // says where they came from in errors. FailedPrecondition when a line is malformed.
  static StatusOr<KeyRing> Parse(const std::string& text, const std::string& name);
  // Loads the ring, creating it with one new key when the file does not exist.
  static StatusOr<KeyRing> LoadOrCreate(const std::string& path);

  const std::string& active_id() const { return keys_.back().id; }
  std::vector<std::string> ids() const;

  // Seals `data_key` under the active KEK; `context` (e.g. the record id) binds it to its
  // record. Returns the wrapped key; the KEK id to store beside it is active_id().
  StatusOr<std::string> Wrap(std::string_view data_key, std::string_view context) const;
  // NotFound when `kek_id` is not in the ring (a retired key, or another ring); DataLoss when it
  // does not verify.
  StatusOr<std::string> Unwrap(const std::string& kek_id, std::string_view wrapped,
                               std::string_view context) const;

  // Appends a new active key and writes the ring to `path` atomically (temp file, fsync,
  // rename). Earlier keys stay for unwrapping until `Retire` removes them.
  Status Rotate(const std::string& path);
  // Removes every key but the active one and writes the ring. Only safe once nothing is
  // wrapped by them (see `medscribe keys rotate`).
  Status Retire(const std::string& path);

 private:
  struct Key {
    std::string id, bytes;
  };
  Status Save(const std::string& path) const;
  std::vector<Key> keys_;
};

}  // namespace medscribe::crypto
