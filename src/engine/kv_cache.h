// The paged KV cache's block tables: for every sequence, the list of blocks (BlockPool) that
// hold the keys and values of its tokens, in order; slot i of the sequence is slot
// i % block_size of block table[i / block_size].
//
// - Add() gives a new sequence the blocks for its prompt. With prefix caching, the prompt's
//   leading full blocks that some earlier sequence computed are shared instead (hash of the
//   block's tokens chained with its parent's), and Add() says how many prompt tokens need no
//   computing. At least the last prompt token is always computed (its logits start decoding).
// - MarkComputed() is called once the keys and values of a sequence's first n tokens are in the
//   cache; it publishes its full blocks for later prompts to share.
// - Append() makes room for one decoded token: a new block at a block boundary, or, when the
//   last block is shared (a fork), a private copy of it (copy-on-write): the caller copies the
//   block's keys and values as the returned BlockCopy says before writing.
// - Fork() shares all blocks of a sequence with a new one (parallel sampling, beams).
// - Free() releases a finished, cancelled or preempted sequence's blocks.
//
// When blocks run out, Add() and Append() return ResourceExhausted and change nothing; the
// scheduler then preempts a sequence (Free, recompute later).
//
// Thread safety: not thread-safe; the scheduler owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "engine/block_pool.h"

namespace medscribe::engine {

struct BlockCopy {
  BlockId from, to;
};

class KvCacheManager {
 public:
  // REQUIRES: num_blocks >= 1, block_size >= 1.
  KvCacheManager(int num_blocks, int block_size, bool prefix_caching = true);

  int block_size() const { return pool_.block_size(); }
  // Fraction of blocks referenced by live sequences.
  double usage() const;
  // True when Add() of a prompt of `tokens` tokens would find blocks (ignoring prefix hits).
  bool CanAdd(size_t tokens) const;

  // Returns the number of leading prompt tokens already in the cache (prefix hits).
  // AlreadyExists for a known `seq`, InvalidArgument for an empty prompt, ResourceExhausted
  // when blocks run out.
  // `salt` enters the first block's hash: prompts whose tokens match but whose other inputs
  // differ (an image's digest) do not share blocks.
  StatusOr<int> Add(int64_t seq, std::span<const int32_t> prompt, uint64_t salt = 0);
  // Records `token` as the sequence's next token and makes room for its keys and values.
  StatusOr<std::optional<BlockCopy>> Append(int64_t seq, int32_t token);
  // The keys and values of the first `tokens` tokens of `seq` are in the cache.
  void MarkComputed(int64_t seq, int64_t tokens);
  Status Fork(int64_t parent, int64_t child);
  // Keeps the first `length` tokens of `seq` (rejected speculative tokens leave): blocks past
  // them are released. REQUIRES: length >= 1; no effect when the sequence is not longer.
  void Truncate(int64_t seq, int64_t length);
  void Free(int64_t seq);

  bool Has(int64_t seq) const { return seqs_.count(seq) > 0; }
  // REQUIRES: Has(seq).
  const std::vector<BlockId>& BlockTable(int64_t seq) const { return seqs_.at(seq).blocks; }
  int64_t Length(int64_t seq) const { return static_cast<int64_t>(seqs_.at(seq).tokens.size()); }

  // Prefix-cache counters: prompt blocks looked up and found since construction.
  int64_t prefix_queries() const { return queries_; }
  int64_t prefix_hits() const { return hits_; }
  const BlockPool& pool() const { return pool_; }

 private:
  struct Sequence {
    std::vector<int32_t> tokens;
    std::vector<BlockId> blocks;
    std::vector<uint64_t> hashes;  // of the full blocks, in order
    uint64_t salt = 0;
    int64_t computed = 0;
  };
  uint64_t HashOfBlock(const Sequence& s, size_t i) const;

  BlockPool pool_;
  bool prefix_caching_;
  std::unordered_map<int64_t, Sequence> seqs_;
  int64_t queries_ = 0, hits_ = 0;
};

}  // namespace medscribe::engine
