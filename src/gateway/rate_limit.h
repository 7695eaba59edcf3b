// Token-bucket rate limits keyed by principal or client address.
//
// Each key has a bucket of `burst` tokens refilled at `rps` per second; a request takes one.
// Take() says how long to wait when the bucket is empty (for Retry-After). Buckets idle long
// enough to be full again are dropped, so memory stays bounded by the active keys.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "gateway/config.h"

namespace medscribe::gateway {

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit) : limit_(limit) {}
  // At time `now_s` (any monotonic seconds): 0 when admitted, else seconds until a token is due.
  double Take(const std::string& key, double now_s);
  size_t keys() const;

 private:
  struct Bucket {
    double tokens, last;
  };
  RateLimit limit_;
  mutable std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
  double last_sweep_ = 0;
};

}  // namespace medscribe::gateway
