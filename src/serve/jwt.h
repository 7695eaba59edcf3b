// OIDC bearer tokens (JWT, RFC 7519) for the gateway: verification against a JWKS (RFC 7517)
// with RS256 and ES256, and a development issuer that signs short-lived ES256 tokens.
//
// Verification treats the token as untrusted and refuses, each with a reason: anything but three
// base64url parts; `alg` other than RS256/ES256 (so `none` and HS256 with a public key are out);
// header parameters that point at other keys (`jku`, `x5u`, `jwk`, `x5c`); an unknown `kid`; a
// key whose type does not match `alg` (algorithm confusion); a bad signature; `typ` other than
// JWT or at+jwt; `iss` or `aud` not the expected ones; `exp` passed, `nbf` or `iat` in the
// future beyond the leeway. Keys come only from the configured JWKS.
//
// Thread safety: a KeySet is immutable after Parse and may be shared; functions are reentrant.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::serve {

struct JwtClaims {
  std::string sub, iss, role, department, kid, alg;
  std::string patient;  // SMART launch context: the one patient the token may touch, or ""
  std::string name;     // OIDC `name`: the user's display name, or ""
  std::vector<std::string> aud;
  std::string azp;  // OIDC authorized party, or ""
  int64_t exp = 0, nbf = 0, iat = 0;
};

struct JwtPolicy {
  std::string issuer;
  std::string audience;
  int64_t leeway_s = 30;
  // A token that names its authorized party (`azp`, the client it was issued to) must name one
  // of these, or the audience when the list is empty. Tokens without `azp` are not affected.
  std::vector<std::string> authorized_parties;
};

// Public keys by `kid`, from a JWKS document ({"keys": [...]}: RSA with n/e, EC P-256 with
// x/y). Keys of other types or curves are skipped; a JWKS with no usable key is an error.
class KeySet {
 public:
  static StatusOr<KeySet> Parse(std::string_view jwks_json);
  KeySet(KeySet&&) noexcept;
  KeySet& operator=(KeySet&&) noexcept;
  ~KeySet();
  size_t size() const;

 private:
  friend StatusOr<JwtClaims> VerifyJwt(std::string_view, const KeySet&, const JwtPolicy&, int64_t);
  KeySet();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Verifies `token` at time `now` (seconds since the epoch). Unauthenticated with the reason.
StatusOr<JwtClaims> VerifyJwt(std::string_view token, const KeySet& keys, const JwtPolicy& policy,
                              int64_t now);

// The development issuer: an ES256 (P-256) key pair kept in a PEM file (0600).
class DevIssuer {
 public:
  // Loads the key from `pem_path`, creating it when absent.
  static StatusOr<DevIssuer> LoadOrCreate(const std::string& pem_path, std::string issuer);
  DevIssuer(DevIssuer&&) noexcept;
  DevIssuer& operator=(DevIssuer&&) noexcept;
  ~DevIssuer();

  // A signed token: sub, role, department, aud, iat = now, exp = now + ttl_s, and `patient`
  // (a launch context limiting the token to one patient) and `name` (display name) when not
  // empty.
  StatusOr<std::string> Issue(const std::string& sub, const std::string& role,
                              const std::string& department, const std::string& audience,
                              int64_t ttl_s, int64_t now, const std::string& patient = "",
                              const std::string& name = "") const;
  // The public key as a JWKS document.
  std::string Jwks() const;
  const std::string& kid() const { return kid_; }
  const std::string& issuer() const { return issuer_; }

 private:
  DevIssuer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string kid_, issuer_;
};

// base64url without padding (RFC 4648 §5), as JWTs use it.
std::string Base64UrlEncode(std::string_view bytes);
StatusOr<std::string> Base64UrlDecode(std::string_view text);

}  // namespace medscribe::serve
