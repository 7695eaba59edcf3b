// Secure aggregation of federated updates with pairwise masks (after Bonawitz et al., "Practical
// Secure Aggregation for Privacy-Preserving Machine Learning", 2017, without its double masking):
// the server learns the sum of the clients' updates and nothing else about any one of them.
//
// Each round every client makes an X25519 key pair and publishes the public key (the server
// relays them). Clients i and j derive the same seed from their Diffie-Hellman secret (HKDF-
// SHA256, bound to the round and the pair), and from it the same mask, an AES-256-CTR keystream
// of 32-bit words. A client's update is encoded in fixed point as 32-bit words and sent as
//   encoded_i + sum over j > i of mask_ij - sum over j < i of mask_ij   (mod 2^32),
// uniformly random to whoever lacks the seeds. In the sum over all clients the masks cancel
// exactly, and the server decodes the exact sum of the encoded updates.
//
// A client that published its key but sent no update leaves its masks in the others' updates;
// each surviving client then reveals its seed with that client (and only with a client the server
// declares dropped), and the server removes those masks. The server is trusted to declare only
// clients that really dropped (honest but curious); a server that lies about a dropout could
// unmask a client, which Bonawitz et al.'s double masking prevents and this does not.
//
// Thread safety: pure functions and single-threaded objects.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::federated {

// Fixed-point encoding: round(value x scale) as a two's-complement 32-bit word. Values whose
// encoding would leave the signed 32-bit range are clamped. The sum of up to `clients`
// encodings must stay in range as well: |value| x scale x clients < 2^31.
std::vector<uint32_t> EncodeFixed(const std::vector<float>& values, double scale);
// The signed sum of encodings, as values: (int32_t) word / scale.
std::vector<double> DecodeFixed(const std::vector<uint32_t>& words, double scale);

// One client's side of one round.
class MaskingClient {
 public:
  // A fresh X25519 key pair for client `id` in `round`. Unavailable when the OS generator fails.
  static StatusOr<MaskingClient> Create(int64_t round, int id);

  int id() const { return id_; }
  // The public key to publish (32 bytes).
  const std::string& public_key() const { return public_key_; }

  // Masks `encoded` against every peer in `peers` (id -> public key; this client's own entry, if
  // present, is skipped). InvalidArgument for a malformed public key or a duplicate of ours.
  StatusOr<std::vector<uint32_t>> Mask(const std::vector<uint32_t>& encoded,
                                       const std::map<int, std::string>& peers);

  // The pair seed with a dropped peer, for the server to remove its masks. REQUIRES: Mask was
  // called with `peer` among the peers. FailedPrecondition when `peer` is not a dropped peer of
  // this round as far as this client knows (it delivered an update through us: `delivered`).
  StatusOr<std::string> RevealSeed(int peer, const std::vector<int>& delivered) const;

 private:
  MaskingClient() = default;
  int64_t round_ = 0;
  int id_ = 0;
  std::string private_key_, public_key_;
  std::map<int, std::string> seeds_;  // peer -> pair seed, filled by Mask
};

// The mask words of the pair seed `seed` (n of them).
std::vector<uint32_t> MaskStream(const std::string& seed, size_t n);

// The server's side of one round: adds the masked updates, then removes the masks of the
// clients that dropped, from the seeds the survivors reveal.
class MaskedSum {
 public:
  // `size`: words per update; `participants`: the ids whose keys were published this round.
  MaskedSum(size_t size, std::vector<int> participants);

  // Adds client `id`'s masked update. InvalidArgument for a wrong size, an unknown or repeated
  // client.
  Status Add(int id, const std::vector<uint32_t>& masked);
  // The participants that sent no update (their masks are still in the sum).
  std::vector<int> Dropped() const;
  // Removes the mask between survivor `survivor` and dropped client `dropped`, from their seed.
  Status RemoveMask(int survivor, int dropped, const std::string& seed);
  // The unmasked sum. FailedPrecondition while a survivor's mask with a dropped client is left.
  StatusOr<std::vector<uint32_t>> Sum() const;
  std::vector<int> Survivors() const;

 private:
  std::vector<uint32_t> sum_;
  std::vector<int> participants_;
  std::map<int, bool> received_;
  std::map<std::pair<int, int>, bool> removed_;  // (survivor, dropped)
};

}  // namespace medscribe::federated
