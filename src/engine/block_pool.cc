#include "engine/block_pool.h"

#include <cassert>

namespace medscribe::engine {

uint64_t BlockHash(uint64_t parent, std::span<const int32_t> tokens) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  mix(parent);
  for (int32_t t : tokens) mix(static_cast<uint32_t>(t));
  return h;
}

BlockPool::BlockPool(int num_blocks, int block_size)
    : block_size_(block_size),
      ref_(static_cast<size_t>(num_blocks), 0),
      lru_pos_(static_cast<size_t>(num_blocks)),
      in_lru_(static_cast<size_t>(num_blocks), false) {
  for (BlockId b = num_blocks - 1; b >= 0; --b) free_.push_back(b);  // hands out 0, 1, 2, ...
}

int BlockPool::num_available() const { return static_cast<int>(free_.size() + evictable_.size()); }

void BlockPool::Unlist(BlockId b) {
  const size_t i = static_cast<size_t>(b);
  if (!in_lru_[i]) return;
  evictable_.erase(lru_pos_[i]);
  in_lru_[i] = false;
}

std::optional<BlockId> BlockPool::Allocate() {
  BlockId b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (!evictable_.empty()) {
    b = evictable_.front();
    Unlist(b);
    auto it = hash_of_.find(b);
    if (it != hash_of_.end()) {
      by_hash_.erase(it->second);
      hash_of_.erase(it);
    }
  } else {
    return std::nullopt;
  }
  ref_[static_cast<size_t>(b)] = 1;
  return b;
}

void BlockPool::Retain(BlockId b) {
  assert(ref_.at(static_cast<size_t>(b)) > 0);
  ++ref_[static_cast<size_t>(b)];
}

void BlockPool::Release(BlockId b) {
  int& r = ref_.at(static_cast<size_t>(b));
  assert(r > 0);
  if (--r > 0) return;
  if (hash_of_.count(b)) {
    evictable_.push_back(b);
    lru_pos_[static_cast<size_t>(b)] = std::prev(evictable_.end());
    in_lru_[static_cast<size_t>(b)] = true;
  } else {
    free_.push_back(b);
  }
}

std::optional<BlockId> BlockPool::Lookup(uint64_t hash) {
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  const BlockId b = it->second;
  if (ref_[static_cast<size_t>(b)] == 0) Unlist(b);
  ++ref_[static_cast<size_t>(b)];
  return b;
}

void BlockPool::Publish(BlockId b, uint64_t hash) {
  assert(ref_.at(static_cast<size_t>(b)) > 0);
  if (by_hash_.count(hash) || hash_of_.count(b)) return;
  by_hash_[hash] = b;
  hash_of_[b] = hash;
}

}  // namespace medscribe::engine
