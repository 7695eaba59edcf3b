// Bearer-token verification with the identity provider's keys (the JWKS) cached.
//
// Keys come from a fetch function (a JWKS file, an https URL, or the development issuer). A
// token whose `kid` is unknown triggers a refetch (at most one per 30 s), so a key rotation at
// the provider is picked up without a restart; `refresh_every` refetches periodically as well.
// Fetching runs on the verifier's own thread, never on the request path; a failed fetch keeps
// the previous keys. Tokens whose signature, issuer and audience were verified are remembered
// by their exact text (at most 10,000): a repeat only re-checks the time claims, issuer,
// audience and authorized party against the current policy. The memory is cleared when the
// keys change.
//
// Thread safety: Verify may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/status.h"
#include "gateway/clock.h"
#include "serve/jwt.h"

namespace medscribe::gateway {

class TokenVerifier {
 public:
  using FetchFn = std::function<StatusOr<std::string>()>;  // the JWKS text
  // `refetchable`: whether the source can change (file or URL; not the development issuer).
  // `refresh_every`: periodic refetch, zero for none. `clock` must outlive the verifier.
  TokenVerifier(FetchFn fetch, bool refetchable, std::chrono::seconds refresh_every,
                const Clock& clock);
  ~TokenVerifier();
  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;

  // Fetches and installs the keys now (on the calling thread). Errors name the source's
  // problem; the previous keys stay in use.
  Status Load();
  // Verifies `token` under `policy`. Unauthenticated (or InvalidArgument) with the reason.
  StatusOr<serve::JwtClaims> Verify(const std::string& token, const serve::JwtPolicy& policy);
  // Starts the refresh thread (periodic and on unknown key ids). Idempotent.
  void StartRefresh();
  size_t remembered() const;

 private:
  void RefreshLoop();
  std::shared_ptr<const serve::KeySet> Keys() const;

  FetchFn fetch_;
  const bool refetchable_;
  const std::chrono::seconds refresh_every_;
  const Clock& clock_;
  mutable std::mutex mu_;  // keys_, verified_, refresh state
  std::shared_ptr<const serve::KeySet> keys_;
  std::unordered_map<std::string, serve::JwtClaims> verified_;
  int64_t last_fetch_ms_ = -1;
  bool refresh_wanted_ = false, stopping_ = false;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace medscribe::gateway
