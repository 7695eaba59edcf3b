#include "gateway/token_verifier.h"

#include <algorithm>

#include "common/logging.h"

namespace medscribe::gateway {
namespace {

constexpr size_t kMaxRemembered = 10000;
constexpr int64_t kMinRefetchMs = 30000;

bool StillValid(const serve::JwtClaims& c, const serve::JwtPolicy& p, int64_t now) {
  if (c.iss != p.issuer) return false;
  if (std::find(c.aud.begin(), c.aud.end(), p.audience) == c.aud.end()) return false;
  if (!c.azp.empty()) {
    const auto& parties = p.authorized_parties;
    const bool known = parties.empty()
                           ? c.azp == p.audience
                           : std::find(parties.begin(), parties.end(), c.azp) != parties.end();
    if (!known) return false;
  }
  return now <= c.exp + p.leeway_s && (c.nbf == 0 || now >= c.nbf - p.leeway_s);
}

}  // namespace

TokenVerifier::TokenVerifier(FetchFn fetch, bool refetchable, std::chrono::seconds refresh_every,
                             const Clock& clock)
    : fetch_(std::move(fetch)),
      refetchable_(refetchable),
      refresh_every_(refresh_every),
      clock_(clock) {}

TokenVerifier::~TokenVerifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status TokenVerifier::Load() {
  auto text = fetch_();
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_fetch_ms_ = clock_.SteadyMs();
  }
  if (!text.ok()) return text.status();
  auto set = serve::KeySet::Parse(*text);
  if (!set.ok()) return Status(set.status().code(), "JWKS: " + set.status().message());
  std::lock_guard<std::mutex> lock(mu_);
  keys_ = std::make_shared<const serve::KeySet>(std::move(*set));
  verified_.clear();
  return OkStatus();
}

std::shared_ptr<const serve::KeySet> TokenVerifier::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_;
}

size_t TokenVerifier::remembered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return verified_.size();
}

StatusOr<serve::JwtClaims> TokenVerifier::Verify(const std::string& token,
                                                 const serve::JwtPolicy& policy) {
  const int64_t now = clock_.UnixSeconds();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = verified_.find(token);
    if (it != verified_.end()) {
      if (StillValid(it->second, policy, now)) return it->second;
      verified_.erase(it);  // expired, or the policy changed on reload: verify afresh
    }
  }
  auto keys = Keys();
  if (!keys)
    return Status(ErrorCode::kUnauthenticated, "no signing keys are loaded yet; retry shortly");
  auto claims = serve::VerifyJwt(token, *keys, policy, now);
  std::lock_guard<std::mutex> lock(mu_);
  if (claims.ok() && claims->exp > 0) {
    if (verified_.size() >= kMaxRemembered) verified_.clear();
    verified_.emplace(token, *claims);
  } else if (!claims.ok() && refetchable_ &&
             claims.status().message().find("kid") != std::string::npos &&
             clock_.SteadyMs() - last_fetch_ms_ >= kMinRefetchMs) {
    refresh_wanted_ = true;
    cv_.notify_all();
  }
  return claims;
}

void TokenVerifier::StartRefresh() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!refetchable_ || thread_.joinable()) return;
  thread_ = std::thread([this] { RefreshLoop(); });
}

void TokenVerifier::RefreshLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    auto wake = [&] { return stopping_ || refresh_wanted_; };
    if (refresh_every_.count() > 0) {
      cv_.wait_for(lock, refresh_every_, wake);
    } else {
      cv_.wait(lock, wake);
    }
    if (stopping_) break;
    refresh_wanted_ = false;
    lock.unlock();
    if (Status s = Load(); !s.ok())
      LOG_WARN("JWKS refresh failed, keeping the previous keys: {}", s.message());
    lock.lock();
  }
}

}  // namespace medscribe::gateway
