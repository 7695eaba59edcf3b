#include "crypto/ed25519.h"

#include "crypto/openssl_ptr.h"

#include <openssl/evp.h>

#include <cctype>
#include <memory>

#include "common/files.h"

#include "crypto/hmac.h"

namespace medscribe::crypto {
namespace {

using Pkey = EvpPkeyPtr;
using MdCtx = EvpMdCtxPtr;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

StatusOr<Ed25519Key> LoadOrCreateSigningKey(const std::string& path) {
  // The same 32-random-byte, 0600, hex file format as the de-identification key.
  ASSIGN_OR_RETURN(std::string seed, LoadOrCreateKeyFile(path));
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(seed), seed.size()));
  if (!pkey) return InternalError("cannot build an Ed25519 key from '" + path + "'");
  std::string pub(32, '\0');
  size_t n = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char*>(pub.data()), &n) !=
          1 ||
      n != 32) {
    return InternalError("cannot derive the Ed25519 public key");
  }
  return Ed25519Key{std::move(seed), std::move(pub)};
}

StatusOr<std::string> Sign(const Ed25519Key& key, std::string_view message) {
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(key.private_seed),
                                         key.private_seed.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return InternalError("cannot initialize Ed25519 signing");
  }
  std::string sig(64, '\0');
  size_t n = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, Bytes(message),
                     message.size()) != 1 ||
      n != 64) {
    return InternalError("Ed25519 signing failed");
  }
  return sig;
}

Status WritePublicKeyFile(const std::string& path, const Ed25519Key& key) {
  return WriteFile(path, Hex(key.public_key) + "\n");
}

StatusOr<std::string> ReadPublicKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string hex, ReadFile(path));
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.pop_back();
  auto key = FromHex(hex);
  if (!key.ok() || key->size() != 32)
    return DataLossError(path + " is not an Ed25519 public key (64 hex digits)");
  return key;
}

bool Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  Pkey pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(public_key), public_key.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message),
                          message.size()) == 1;
}

}  // namespace medscribe::crypto
