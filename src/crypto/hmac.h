// Keyed hashing (HMAC-SHA256, OpenSSL) and secret key files.
//
// A key file holds 32 random bytes, hex-encoded on one line, readable by its owner only (0600).
// Keys never appear in logs, outputs or error messages.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe::crypto {

using Digest = std::array<uint8_t, 32>;

Digest HmacSha256(std::string_view key, std::string_view message);
Digest Sha256(std::string_view data);
// Lowercase hex of bytes.
std::string Hex(const uint8_t* data, size_t size);
inline std::string Hex(const Digest& d) { return Hex(d.data(), d.size()); }
std::string Hex(std::string_view bytes);
// The bytes of `hex` (either case). InvalidArgument for an odd length or a non-hex digit.
StatusOr<std::string> FromHex(std::string_view hex);

// Loads the key at `path`, creating it (32 random bytes, mode 0600) when it does not exist.
// FailedPrecondition when the file exists but is readable by others or malformed.
StatusOr<std::string> LoadOrCreateKeyFile(const std::string& path);

}  // namespace medscribe::crypto
