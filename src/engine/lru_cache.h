// A least-recently-used cache with a byte budget, for the engine's encoder cache: image
// embeddings keyed by the image's digest, so a second draft of the same study skips the vision
// encoder. `Bytes` tells the size of a value (for tensors: numel x element size).
//
// Thread safety: not thread-safe; the engine thread owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace medscribe::engine {

template <typename V>
class LruCache {
 public:
  using Bytes = std::function<int64_t(const V&)>;
  LruCache(int64_t budget_bytes, Bytes bytes) : budget_(budget_bytes), bytes_(std::move(bytes)) {}

  // The value under `key` (now the most recently used), or nullopt.
  std::optional<V> Get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++misses_;
      return std::nullopt;
    }
    ++hits_;
    entries_.splice(entries_.begin(), entries_, it->second);
    return it->second->value;
  }

  // Stores `value` under `key`, evicting least recently used entries until it fits. A value
  // larger than the whole budget is not stored (and the key's old value is dropped). Returns
  // whether it was stored.
  bool Put(const std::string& key, V value) {
    const int64_t size = bytes_(value);
    Erase(key);
    if (size > budget_) return false;
    while (used_ + size > budget_ && !entries_.empty()) Erase(entries_.back().key);
    entries_.push_front(Entry{key, std::move(value), size});
    index_[key] = entries_.begin();
    used_ += size;
    return true;
  }

  void Erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    used_ -= it->second->bytes;
    entries_.erase(it->second);
    index_.erase(it);
  }

  // Drops every entry (hit and miss counts stay).
  void Clear() {
    entries_.clear();
    index_.clear();
    used_ = 0;
  }

  int64_t used_bytes() const { return used_; }
  size_t size() const { return index_.size(); }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  struct Entry {
    std::string key;
    V value;
    int64_t bytes;
  };
  int64_t budget_;
  Bytes bytes_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
  int64_t used_ = 0, hits_ = 0, misses_ = 0;
};

}  // namespace medscribe::engine
