#include "crypto/envelope.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <sstream>

#include "common/files.h"
#include "crypto/hmac.h"

namespace medscribe::crypto {
namespace {

constexpr size_t kNonce = 12, kTag = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

StatusOr<std::string> KeyFromHex(std::string_view hex) {
  if (hex.size() != 2 * kAeadKeyBytes || hex.find_first_not_of("0123456789abcdef") != hex.npos)
    return FailedPreconditionError("a key is not 64 lowercase hex digits");
  return FromHex(hex);
}

std::string NewKeyId() {
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
  unsigned char r[4];
  RAND_bytes(r, sizeof r);
  return std::string("kek-") + when + "-" + Hex(r, sizeof r);
}

}  // namespace

StatusOr<std::string> RandomKey() {
  std::string k(kAeadKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(k.data()), static_cast<int>(k.size())) != 1)
    return InternalError("the system random generator failed");
  return k;
}

StatusOr<std::string> Seal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  if (key.size() != kAeadKeyBytes) return InvalidArgumentError("AES-256-GCM needs a 32-byte key");
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(o, kNonce) != 1) return InternalError("the system random generator failed");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(key), o) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), o + kNonce, &len, U(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + kNonce + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + kNonce + plaintext.size()) !=
          1)
    return InternalError("AES-256-GCM encryption failed");
  return out;
}

StatusOr<std::string> Open(std::string_view key, std::string_view sealed, std::string_view aad) {
  if (key.size() != kAeadKeyBytes) return InvalidArgumentError("AES-256-GCM needs a 32-byte key");
  if (sealed.size() < kNonce + kTag)
    return DataLossError("cannot decrypt: the sealed data is truncated");
  const size_t n = sealed.size() - kNonce - kTag;
  std::string out(n, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  std::string tag(sealed.substr(kNonce + n));
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(sealed)) != 1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), o, &len, U(sealed) + kNonce, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1)
    return InternalError("AES-256-GCM decryption failed to start");
  if (EVP_DecryptFinal_ex(ctx.get(), o + len, &len) != 1)
    return DataLossError("cannot decrypt: wrong key or altered data");
  return out;
}

StatusOr<KeyRing> KeyRing::Load(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return NotFoundError("key ring '" + path +
                           "' does not exist; create it with `medscribe keys init --file " + path +
                           "`");
    return IoError("cannot access key ring '" + path + "': " + std::strerror(errno));
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    return FailedPreconditionError("key ring '" + path +
                                   "' is accessible by other users; run chmod 600 on it");
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, "key ring '" + path + "'");
}

StatusOr<KeyRing> KeyRing::Parse(const std::string& text, const std::string& name) {
  KeyRing ring;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0)
      return FailedPreconditionError(name + " line " + std::to_string(n) +
                                     ": expected \"<id> <64 hex digits>\"");
    auto key = KeyFromHex(line.substr(sp + 1));
    if (!key.ok())
      return FailedPreconditionError(name + " line " + std::to_string(n) + ": " +
                                     key.status().message());
    for (const Key& k : ring.keys_)
      if (k.id == line.substr(0, sp))
        return FailedPreconditionError(name + " line " + std::to_string(n) + ": duplicate key id");
    ring.keys_.push_back({line.substr(0, sp), *std::move(key)});
  }
  if (ring.keys_.empty()) return FailedPreconditionError(name + " has no key");
  return ring;
}

StatusOr<KeyRing> KeyRing::LoadOrCreate(const std::string& path) {
  auto ring = Load(path);
  if (ring.ok() || ring.status().code() != ErrorCode::kNotFound) return ring;
  KeyRing fresh;
  ASSIGN_OR_RETURN(std::string k, RandomKey());
  fresh.keys_.push_back({NewKeyId(), std::move(k)});
  RETURN_IF_ERROR(fresh.Save(path));
  return fresh;
}

std::vector<std::string> KeyRing::ids() const {
  std::vector<std::string> out;
  for (const Key& k : keys_) out.push_back(k.id);
  return out;
}

StatusOr<std::string> KeyRing::Wrap(std::string_view data_key, std::string_view context) const {
  const Key& k = keys_.back();
  return Seal(k.bytes, data_key, "medscribe-dek\n" + k.id + "\n" + std::string(context));
}

StatusOr<std::string> KeyRing::Unwrap(const std::string& kek_id, std::string_view wrapped,
                                      std::string_view context) const {
  for (const Key& k : keys_) {
    if (k.id != kek_id) continue;
    auto dek = Open(k.bytes, wrapped, "medscribe-dek\n" + k.id + "\n" + std::string(context));
    if (!dek.ok())
      return DataLossError("cannot unwrap a data key with '" + kek_id +
                           "': wrong key ring or altered record");
    return dek;
  }
  return NotFoundError("the key ring has no key '" + kek_id +
                       "' (retired, or another ring): the record cannot be decrypted");
}

Status KeyRing::Rotate(const std::string& path) {
  ASSIGN_OR_RETURN(std::string k, RandomKey());
  std::string id = NewKeyId();
  keys_.push_back({std::move(id), std::move(k)});
  return Save(path);
}

Status KeyRing::Retire(const std::string& path) {
  keys_.erase(keys_.begin(), keys_.end() - 1);
  return Save(path);
}

Status KeyRing::Save(const std::string& path) const {
  std::string text = "# MedScribe key-encryption keys; the last line is active. Keep private.\n";
  for (const Key& k : keys_) text += k.id + " " + Hex(U(k.bytes), k.bytes.size()) + "\n";
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot write key ring '" + tmp + "': " + std::strerror(errno));
  fchmod(fd, 0600);
  const bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return IoError("cannot write key ring '" + path + "'");
  }
  return OkStatus();
}

}  // namespace medscribe::crypto
