#include "federated/secure_aggregation.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "crypto/openssl_ptr.h"

namespace medscribe::federated {
namespace {

using crypto::EvpPkeyPtr;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, crypto::OpenSslFree<EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, crypto::OpenSslFree<EVP_CIPHER_CTX_free>>;
constexpr size_t kKeyBytes = 32;

// The pair seed of clients a and b in `round`: HKDF-SHA256 of their X25519 secret, bound to the
// round and the (ordered) pair.
StatusOr<std::string> PairSeed(const std::string& private_key, const std::string& peer_public,
                               int64_t round, int a, int b) {
  EvpPkeyPtr mine(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_X25519, nullptr, reinterpret_cast<const unsigned char*>(private_key.data()),
      private_key.size()));
  EvpPkeyPtr peer(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_X25519, nullptr, reinterpret_cast<const unsigned char*>(peer_public.data()),
      peer_public.size()));
  if (!mine || !peer || peer_public.size() != kKeyBytes)
    return InvalidArgumentError("client " + std::to_string(b) +
                                "'s public key is not an X25519 key");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(mine.get(), nullptr));
  unsigned char shared[kKeyBytes];
  size_t len = sizeof shared;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) <= 0 ||
      EVP_PKEY_derive(ctx.get(), shared, &len) <= 0 || len != kKeyBytes)
    return InvalidArgumentError("no shared secret with client " + std::to_string(b) +
                                " (a low-order public key?)");
  const int lo = std::min(a, b), hi = std::max(a, b);
  const std::string info = "medscribe-fl-mask/" + std::to_string(round) + "/" + std::to_string(lo) +
                           "/" + std::to_string(hi);
  PkeyCtxPtr kdf(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  unsigned char seed[kKeyBytes];
  size_t seed_len = sizeof seed;
  static constexpr unsigned char kSalt[] = "medscribe secure aggregation";
  const bool ok =
      kdf && EVP_PKEY_derive_init(kdf.get()) > 0 &&
      EVP_PKEY_CTX_set_hkdf_md(kdf.get(), EVP_sha256()) > 0 &&
      EVP_PKEY_CTX_set1_hkdf_salt(kdf.get(), kSalt, sizeof kSalt - 1) > 0 &&
      EVP_PKEY_CTX_set1_hkdf_key(kdf.get(), shared, sizeof shared) > 0 &&
      EVP_PKEY_CTX_add1_hkdf_info(kdf.get(), reinterpret_cast<const unsigned char*>(info.data()),
                                  static_cast<int>(info.size())) > 0 &&
      EVP_PKEY_derive(kdf.get(), seed, &seed_len) > 0;
  std::memset(shared, 0, sizeof shared);
  if (!ok) return InternalError("HKDF failed");
  return std::string(reinterpret_cast<const char*>(seed), seed_len);
}

void AddInto(std::vector<uint32_t>& sum, const std::vector<uint32_t>& v, bool subtract) {
  for (size_t i = 0; i < sum.size(); ++i) sum[i] = subtract ? sum[i] - v[i] : sum[i] + v[i];
}

}  // namespace

std::vector<uint32_t> EncodeFixed(const std::vector<float>& values, double scale) {
  std::vector<uint32_t> out(values.size());
  constexpr double kMax = std::numeric_limits<int32_t>::max();
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = std::isfinite(values[i]) ? std::round(values[i] * scale) : 0.0;
    out[i] = static_cast<uint32_t>(static_cast<int32_t>(std::clamp(v, -kMax, kMax)));
  }
  return out;
}

std::vector<double> DecodeFixed(const std::vector<uint32_t>& words, double scale) {
  std::vector<double> out(words.size());
  for (size_t i = 0; i < words.size(); ++i) out[i] = static_cast<int32_t>(words[i]) / scale;
  return out;
}

std::vector<uint32_t> MaskStream(const std::string& seed, size_t n) {
  std::vector<uint32_t> out(n, 0);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const unsigned char iv[16] = {};
  int len = 0;
  // The keystream: AES-256-CTR over zeros. REQUIRES: 32-byte seeds (PairSeed's).
  if (!ctx || seed.size() != kKeyBytes ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr,
                         reinterpret_cast<const unsigned char*>(seed.data()), iv) <= 0 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        reinterpret_cast<const unsigned char*>(out.data()),
                        static_cast<int>(n * sizeof(uint32_t))) <= 0)
    std::abort();  // cannot happen with a valid seed and OpenSSL's AES
  return out;
}

StatusOr<MaskingClient> MaskingClient::Create(int64_t round, int id) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0 || EVP_PKEY_keygen(ctx.get(), &raw) <= 0)
    return UnavailableError("cannot generate an X25519 key");
  EvpPkeyPtr key(raw);
  MaskingClient c;
  c.round_ = round;
  c.id_ = id;
  c.private_key_.resize(kKeyBytes);
  c.public_key_.resize(kKeyBytes);
  size_t priv_len = kKeyBytes, pub_len = kKeyBytes;
  if (EVP_PKEY_get_raw_private_key(
          key.get(), reinterpret_cast<unsigned char*>(c.private_key_.data()), &priv_len) <= 0 ||
      EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(c.public_key_.data()),
                                  &pub_len) <= 0)
    return InternalError("cannot read the X25519 key");
  return c;
}

StatusOr<std::vector<uint32_t>> MaskingClient::Mask(const std::vector<uint32_t>& encoded,
                                                    const std::map<int, std::string>& peers) {
  std::vector<uint32_t> out = encoded;
  seeds_.clear();
  for (const auto& [peer, key] : peers) {
    if (peer == id_) continue;
    if (key == public_key_)
      return InvalidArgumentError("client " + std::to_string(peer) + " published our own key");
    ASSIGN_OR_RETURN(std::string seed, PairSeed(private_key_, key, round_, id_, peer));
    AddInto(out, MaskStream(seed, out.size()), peer < id_);
    seeds_[peer] = std::move(seed);
  }
  return out;
}

StatusOr<std::string> MaskingClient::RevealSeed(int peer, const std::vector<int>& delivered) const {
  if (std::find(delivered.begin(), delivered.end(), peer) != delivered.end())
    return FailedPreconditionError("client " + std::to_string(peer) +
                                   " delivered its update; its pair seed stays secret");
  const auto it = seeds_.find(peer);
  if (it == seeds_.end())
    return FailedPreconditionError("client " + std::to_string(peer) + " was not a peer this round");
  return it->second;
}

MaskedSum::MaskedSum(size_t size, std::vector<int> participants)
    : sum_(size, 0), participants_(std::move(participants)) {}

Status MaskedSum::Add(int id, const std::vector<uint32_t>& masked) {
  if (std::find(participants_.begin(), participants_.end(), id) == participants_.end())
    return InvalidArgumentError("client " + std::to_string(id) +
                                " is not a participant of this round");
  if (received_[id]) return InvalidArgumentError("client " + std::to_string(id) + " sent twice");
  if (masked.size() != sum_.size())
    return InvalidArgumentError("an update of " + std::to_string(masked.size()) + " words, not " +
                                std::to_string(sum_.size()));
  AddInto(sum_, masked, false);
  received_[id] = true;
  return OkStatus();
}

std::vector<int> MaskedSum::Dropped() const {
  std::vector<int> out;
  for (int p : participants_)
    if (!received_.count(p) || !received_.at(p)) out.push_back(p);
  return out;
}

std::vector<int> MaskedSum::Survivors() const {
  std::vector<int> out;
  for (int p : participants_)
    if (received_.count(p) && received_.at(p)) out.push_back(p);
  return out;
}

Status MaskedSum::RemoveMask(int survivor, int dropped, const std::string& seed) {
  const std::vector<int> gone = Dropped(), alive = Survivors();
  if (std::find(gone.begin(), gone.end(), dropped) == gone.end() ||
      std::find(alive.begin(), alive.end(), survivor) == alive.end())
    return InvalidArgumentError("no mask between survivor " + std::to_string(survivor) +
                                " and dropped client " + std::to_string(dropped));
  if (removed_[{survivor, dropped}]) return InvalidArgumentError("that mask was removed already");
  if (seed.size() != kKeyBytes) return InvalidArgumentError("a pair seed is 32 bytes");
  // The survivor added the mask when the dropped client's id is above its own.
  AddInto(sum_, MaskStream(seed, sum_.size()), dropped > survivor);
  removed_[{survivor, dropped}] = true;
  return OkStatus();
}

StatusOr<std::vector<uint32_t>> MaskedSum::Sum() const {
  for (int s : Survivors())
    for (int d : Dropped())
      if (!removed_.count({s, d}))
        return FailedPreconditionError("the mask between client " + std::to_string(s) +
                                       " and dropped client " + std::to_string(d) +
                                       " is still in the sum");
  return sum_;
}

}  // namespace medscribe::federated
