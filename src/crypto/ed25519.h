// Ed25519 signatures (OpenSSL), for signing registry artifacts.
//
// A signing key file holds the 32-byte private seed as 64 hex digits, mode 0600, created on
// first use like the de-identification key (hmac.h). The public key (32 bytes) is derived from it
// and may be shared; verification needs only the public key.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe::crypto {

struct Ed25519Key {
  std::string private_seed;  // 32 bytes; secret
  std::string public_key;    // 32 bytes
};

// Loads `path`, creating a new key (mode 0600) when it does not exist.
StatusOr<Ed25519Key> LoadOrCreateSigningKey(const std::string& path);

// A 64-byte signature of `message`.
StatusOr<std::string> Sign(const Ed25519Key& key, std::string_view message);

// Writes the public half of `key` to `path` as 64 hex digits and a newline.
Status WritePublicKeyFile(const std::string& path, const Ed25519Key& key);
// The 32-byte public key in a file written by WritePublicKeyFile. DataLoss naming the file when
// it holds anything else.
StatusOr<std::string> ReadPublicKeyFile(const std::string& path);

// True when `signature` is a valid signature of `message` under `public_key`.
bool Verify(std::string_view public_key, std::string_view message, std::string_view signature);

}  // namespace medscribe::crypto
