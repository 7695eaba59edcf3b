#include "gateway/rate_limit.h"

#include <algorithm>

namespace medscribe::gateway {

double RateLimiter::Take(const std::string& key, double now) {
  if (limit_.rps <= 0) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  const double full_after = limit_.burst / limit_.rps;
  if (now - last_sweep_ > std::max(1.0, full_after)) {
    for (auto it = buckets_.begin(); it != buckets_.end();)
      it = now - it->second.last >= full_after ? buckets_.erase(it) : std::next(it);
    last_sweep_ = now;
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{limit_.burst, now});
  Bucket& b = it->second;
  b.tokens = std::min(limit_.burst, b.tokens + (now - b.last) * limit_.rps);
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / limit_.rps;
}

size_t RateLimiter::keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace medscribe::gateway
