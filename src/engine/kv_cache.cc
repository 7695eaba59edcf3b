#include "engine/kv_cache.h"

namespace medscribe::engine {

KvCacheManager::KvCacheManager(int num_blocks, int block_size, bool prefix_caching)
    : pool_(num_blocks, block_size), prefix_caching_(prefix_caching) {}

double KvCacheManager::usage() const {
  return 1.0 - static_cast<double>(pool_.num_available()) / pool_.num_blocks();
}

bool KvCacheManager::CanAdd(size_t tokens) const {
  const size_t bs = static_cast<size_t>(block_size());
  return (tokens + bs - 1) / bs <= static_cast<size_t>(pool_.num_available());
}

uint64_t KvCacheManager::HashOfBlock(const Sequence& s, size_t i) const {
  const size_t bs = static_cast<size_t>(block_size());
  const uint64_t parent = i == 0 ? s.salt : s.hashes[i - 1];
  return BlockHash(parent, std::span<const int32_t>(s.tokens.data() + i * bs, bs));
}

StatusOr<int> KvCacheManager::Add(int64_t seq, std::span<const int32_t> prompt, uint64_t salt) {
  if (seqs_.count(seq)) return AlreadyExistsError("sequence " + std::to_string(seq) + " exists");
  if (prompt.empty()) return InvalidArgumentError("empty prompt");
  const size_t bs = static_cast<size_t>(block_size());
  Sequence s;
  s.tokens.assign(prompt.begin(), prompt.end());
  s.salt = salt;
  const size_t needed = (prompt.size() + bs - 1) / bs;
  // Shared prefix: full blocks only, and never the block holding the last prompt token.
  const size_t shareable = prefix_caching_ ? (prompt.size() - 1) / bs : 0;
  for (size_t i = 0; i < shareable; ++i) {
    s.hashes.push_back(HashOfBlock(s, i));
    ++queries_;
    std::optional<BlockId> b = pool_.Lookup(s.hashes.back());
    if (!b) {
      s.hashes.pop_back();
      break;
    }
    ++hits_;
    s.blocks.push_back(*b);
  }
  const int hit_tokens = static_cast<int>(s.blocks.size() * bs);
  while (s.blocks.size() < needed) {
    std::optional<BlockId> b = pool_.Allocate();
    if (!b) {
      for (BlockId x : s.blocks) pool_.Release(x);
      return Status(ErrorCode::kResourceExhausted,
                    "KV cache full: " + std::to_string(needed) + " blocks needed");
    }
    s.blocks.push_back(*b);
  }
  s.computed = hit_tokens;
  seqs_.emplace(seq, std::move(s));
  return hit_tokens;
}

StatusOr<std::optional<BlockCopy>> KvCacheManager::Append(int64_t seq, int32_t token) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return NotFoundError("no sequence " + std::to_string(seq));
  Sequence& s = it->second;
  const size_t bs = static_cast<size_t>(block_size());
  const size_t slot = s.tokens.size();
  std::optional<BlockCopy> copy;
  if (slot % bs == 0 && slot / bs == s.blocks.size()) {
    std::optional<BlockId> b = pool_.Allocate();
    if (!b) return Status(ErrorCode::kResourceExhausted, "KV cache full: no block for a token");
    s.blocks.push_back(*b);
  } else if (pool_.ref_count(s.blocks[slot / bs]) > 1) {
    std::optional<BlockId> b = pool_.Allocate();
    if (!b) return Status(ErrorCode::kResourceExhausted, "KV cache full: no block to copy into");
    copy = BlockCopy{s.blocks[slot / bs], *b};
    pool_.Release(s.blocks[slot / bs]);
    s.blocks[slot / bs] = *b;
  }
  s.tokens.push_back(token);
  return copy;
}

void KvCacheManager::MarkComputed(int64_t seq, int64_t tokens) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  Sequence& s = it->second;
  s.computed =
      std::max(s.computed, std::min<int64_t>(tokens, static_cast<int64_t>(s.tokens.size())));
  if (!prefix_caching_) return;
  const size_t full = static_cast<size_t>(s.computed) / static_cast<size_t>(block_size());
  while (s.hashes.size() < full) {
    s.hashes.push_back(HashOfBlock(s, s.hashes.size()));
    pool_.Publish(s.blocks[s.hashes.size() - 1], s.hashes.back());
  }
}

Status KvCacheManager::Fork(int64_t parent, int64_t child) {
  auto it = seqs_.find(parent);
  if (it == seqs_.end()) return NotFoundError("no sequence " + std::to_string(parent));
  if (seqs_.count(child))
    return AlreadyExistsError("sequence " + std::to_string(child) + " exists");
  Sequence copy = it->second;
  for (BlockId b : copy.blocks) pool_.Retain(b);
  seqs_.emplace(child, std::move(copy));
  return OkStatus();
}

void KvCacheManager::Truncate(int64_t seq, int64_t length) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end() || length < 1 || length >= static_cast<int64_t>(it->second.tokens.size()))
    return;
  Sequence& s = it->second;
  const size_t bs = static_cast<size_t>(block_size());
  const size_t n = static_cast<size_t>(length);
  s.tokens.resize(n);
  while (s.blocks.size() > (n + bs - 1) / bs) {
    pool_.Release(s.blocks.back());
    s.blocks.pop_back();
  }
  if (s.hashes.size() > n / bs) s.hashes.resize(n / bs);
  s.computed = std::min<int64_t>(s.computed, length);
}

void KvCacheManager::Free(int64_t seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  // Release the tail first: earlier blocks (shared prefixes) stay cached longest.
  for (auto b = it->second.blocks.rbegin(); b != it->second.blocks.rend(); ++b) pool_.Release(*b);
  seqs_.erase(it);
}

}  // namespace medscribe::engine
