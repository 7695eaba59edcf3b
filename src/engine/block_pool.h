// The physical blocks of the paged KV cache: a fixed number of blocks of `block_size` token slots,
// a free list, reference counts (blocks shared between sequences: forks, common prompt
// prefixes), and the prefix cache: a full block can be published under the hash of its tokens
// chained with its parent block's hash, and a later sequence whose prompt starts the same way
// takes the block instead of computing it again. A published block whose last reference is
// released stays cached (and reusable) until a fresh allocation needs it; those are evicted least
// recently released first.
//
// The pool only does the bookkeeping; the tensors that hold keys and values are indexed by
// BlockId elsewhere.
//
// Thread safety: not thread-safe; the scheduler owns it.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace medscribe::engine {

using BlockId = int32_t;

// The prefix-cache key of a full block: FNV-1a over the parent's key and the block's tokens.
// Equal keys mean equal token prefixes up to hash collisions (64 bits).
uint64_t BlockHash(uint64_t parent, std::span<const int32_t> tokens);

class BlockPool {
 public:
  // REQUIRES: num_blocks >= 1, block_size >= 1.
  BlockPool(int num_blocks, int block_size);

  int block_size() const { return block_size_; }
  int num_blocks() const { return static_cast<int>(ref_.size()); }
  // Blocks an Allocate() can return now: never used, released, or cached without references.
  int num_available() const;
  int num_cached() const { return static_cast<int>(hash_of_.size()); }

  // A block with one reference, or nullopt when every block is referenced. Takes a free block
  // first, then evicts the least recently released cached block.
  std::optional<BlockId> Allocate();
  // REQUIRES: `b` is referenced.
  void Retain(BlockId b);
  // Drops one reference; at zero the block becomes available (a published block stays in the
  // prefix cache until evicted). REQUIRES: `b` is referenced.
  void Release(BlockId b);
  int ref_count(BlockId b) const { return ref_.at(static_cast<size_t>(b)); }

  // The cached block published under `hash`, with one more reference, or nullopt.
  std::optional<BlockId> Lookup(uint64_t hash);
  // Publishes a full, referenced block under `hash` (the first block published under a hash
  // stays; a second one is not published).
  void Publish(BlockId b, uint64_t hash);

 private:
  void Unlist(BlockId b);

  int block_size_;
  std::vector<int> ref_;
  std::vector<BlockId> free_;                          // never published, unreferenced
  std::list<BlockId> evictable_;                       // published, unreferenced; oldest first
  std::vector<std::list<BlockId>::iterator> lru_pos_;  // valid while in evictable_
  std::vector<bool> in_lru_;
  std::unordered_map<uint64_t, BlockId> by_hash_;
  std::unordered_map<BlockId, uint64_t> hash_of_;
};

}  // namespace medscribe::engine
