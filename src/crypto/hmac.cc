#include "crypto/hmac.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.h"

namespace medscribe::crypto {

Digest HmacSha256(std::string_view key, std::string_view message) {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  return out;
}

Digest Sha256(std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

std::string Hex(const uint8_t* data, size_t size) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    s.push_back(kDigits[data[i] >> 4]);
    s.push_back(kDigits[data[i] & 15]);
  }
  return s;
}

std::string Hex(std::string_view bytes) {
  return Hex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

StatusOr<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2) return InvalidArgumentError("hex text of odd length");
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgumentError("not a hex digit in hex text");
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

StatusOr<std::string> LoadOrCreateKeyFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return IoError("cannot access key file: " + std::string(std::strerror(errno)));
    uint8_t key[32];
    if (RAND_bytes(key, sizeof key) != 1) return InternalError("no randomness for a new key");
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return IoError("cannot create key file '" + path + "': " + std::strerror(errno));
    const std::string text = Hex(key, sizeof key) + "\n";
    const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    if (!ok) return IoError("cannot write key file '" + path + "'");
    return std::string(reinterpret_cast<const char*>(key), sizeof key);
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return FailedPreconditionError("key file '" + path +
                                   "' is accessible by other users; run chmod 600 on it");
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.size() != 64 || text.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return FailedPreconditionError("key file '" + path + "' is not 64 lowercase hex digits");
  }
  return FromHex(text);
}

}  // namespace medscribe::crypto
