#include "serve/jwt.h"

#include "common/durable_file.h"
#include "crypto/openssl_ptr.h"
#include "crypto/pem.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "crypto/hmac.h"

namespace medscribe::serve {
namespace {

Status Unauth(const std::string& why) {
  return Status(ErrorCode::kUnauthenticated, "invalid token: " + why);
}

using Pkey = crypto::EvpPkeyPtr;

// A public key from OSSL parameters of `type` ("RSA" or "EC").
Pkey FromParams(const char* type, OSSL_PARAM* params) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  return Pkey(key);
}

Pkey RsaKey(const std::string& n, const std::string& e) {
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Pkey key;
  if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    if (params) key = FromParams("RSA", params);
    OSSL_PARAM_free(params);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return key;
}

Pkey P256Key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04" + x + y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Pkey key;
  if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size())) {
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    if (params) key = FromParams("EC", params);
    OSSL_PARAM_free(params);
  }
  OSSL_PARAM_BLD_free(bld);
  return key;
}

bool VerifySha256(EVP_PKEY* key, std::string_view data, const unsigned char* sig, size_t sig_len) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, sig, sig_len, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// JWS ES256 signatures are r || s (32 bytes each); OpenSSL verifies DER.
std::string EsToDer(std::string_view rs) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(rs.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(rs.data()) + 32, 32, nullptr);
  std::string der;
  if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig
    unsigned char* out = nullptr;
    const int n = i2d_ECDSA_SIG(sig, &out);
    if (n > 0) der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(n));
    OPENSSL_free(out);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return der;
}

bool IsP256(EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return false;
  char group[64] = {0};
  size_t len = 0;
  return EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &len) == 1 &&
         std::string_view(group, len) == "prime256v1";
}

std::string Bn(const BIGNUM* b, int bytes) {
  std::string out(static_cast<size_t>(bytes), '\0');
  BN_bn2binpad(b, reinterpret_cast<unsigned char*>(out.data()), bytes);
  return out;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    const uint32_t v =
        (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return InvalidArgumentError("bad base64url length");
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return InvalidArgumentError("bad base64url character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

struct KeySet::Impl {
  struct Key {
    Pkey key;
    bool rsa = false;
  };
  std::map<std::string, Key> by_kid;
};

KeySet::KeySet() : impl_(std::make_unique<Impl>()) {}
KeySet::KeySet(KeySet&&) noexcept = default;
KeySet& KeySet::operator=(KeySet&&) noexcept = default;
KeySet::~KeySet() = default;
size_t KeySet::size() const { return impl_->by_kid.size(); }

StatusOr<KeySet> KeySet::Parse(std::string_view jwks_json) {
  simdjson::dom::parser parser;
  if (parser.allocate(jwks_json.size() + 64, 16) != simdjson::SUCCESS)
    return InvalidArgumentError("the JWKS is too large");
  simdjson::dom::element doc;
  const simdjson::padded_string padded(jwks_json);
  if (parser.parse(padded).get(doc)) return InvalidArgumentError("the JWKS is not JSON");
  simdjson::dom::array keys;
  if (doc["keys"].get(keys)) return InvalidArgumentError("the JWKS has no \"keys\" array");
  KeySet set;
  for (auto k : keys) {
    std::string_view kty, kid, a, b;
    if (k["kty"].get(kty) || k["kid"].get(kid) || kid.empty()) continue;
    Impl::Key key;
    if (kty == "RSA" && !k["n"].get(a) && !k["e"].get(b)) {
      auto n = Base64UrlDecode(a), e = Base64UrlDecode(b);
      if (!n.ok() || !e.ok() || n->size() < 256) continue;  // RSA keys below 2048 bits are out
      key.key = RsaKey(*n, *e);
      key.rsa = true;
    } else if (kty == "EC" && !k["x"].get(a) && !k["y"].get(b)) {
      std::string_view crv;
      if (k["crv"].get(crv) || crv != "P-256") continue;
      auto x = Base64UrlDecode(a), y = Base64UrlDecode(b);
      if (!x.ok() || !y.ok()) continue;
      key.key = P256Key(*x, *y);
    }
    if (key.key) set.impl_->by_kid[std::string(kid)] = std::move(key);
  }
  if (set.impl_->by_kid.empty())
    return InvalidArgumentError(
        "the JWKS has no usable key (RSA >= 2048 bits or EC P-256, with kid)");
  return set;
}

StatusOr<JwtClaims> VerifyJwt(std::string_view token, const KeySet& keys, const JwtPolicy& policy,
                              int64_t now) {
  if (token.size() > 16384) return Unauth("longer than 16 KiB");
  const size_t d1 = token.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return Unauth("not three dot-separated parts");
  auto header = Base64UrlDecode(token.substr(0, d1));
  auto payload = Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = Base64UrlDecode(token.substr(d2 + 1));
  if (!header.ok() || !payload.ok() || !sig.ok()) return Unauth("a part is not base64url");
  simdjson::dom::parser parser;
  JwtClaims c;
  {
    simdjson::dom::element h;
    const simdjson::padded_string ph(*header);
    if (parser.allocate(ph.size() + 64, 8) || parser.parse(ph).get(h) || !h.is_object())
      return Unauth("the header is not a JSON object");
    std::string_view alg, kid, typ;
    if (h["alg"].get(alg)) return Unauth("no alg");
    if (alg != "RS256" && alg != "ES256")
      return Unauth("alg " + std::string(alg) + " is not accepted (RS256, ES256)");
    for (const char* p : {"jku", "x5u", "jwk", "x5c", "crit"}) {
      if (!h[p].error()) return Unauth(std::string("header parameter ") + p + " is not accepted");
    }
    if (!h["typ"].get(typ) && typ != "JWT" && typ != "at+jwt")
      return Unauth("typ " + std::string(typ) + " is not JWT");
    if (h["kid"].get(kid)) return Unauth("no kid");
    c.alg = std::string(alg);
    c.kid = std::string(kid);
  }
  auto it = keys.impl_->by_kid.find(c.kid);
  if (it == keys.impl_->by_kid.end()) return Unauth("unknown kid");
  const std::string_view signed_part = token.substr(0, d2);
  const KeySet::Impl::Key& key = it->second;
  if (c.alg == "RS256") {
    if (!key.rsa) return Unauth("RS256 with a key that is not RSA");
    if (!VerifySha256(key.key.get(), signed_part,
                      reinterpret_cast<const unsigned char*>(sig->data()), sig->size()))
      return Unauth("bad signature");
  } else {
    if (key.rsa || !IsP256(key.key.get())) return Unauth("ES256 with a key that is not P-256");
    if (sig->size() != 64) return Unauth("an ES256 signature is 64 bytes");
    const std::string der = EsToDer(*sig);
    if (der.empty() ||
        !VerifySha256(key.key.get(), signed_part,
                      reinterpret_cast<const unsigned char*>(der.data()), der.size()))
      return Unauth("bad signature");
  }
  simdjson::dom::element p;
  const simdjson::padded_string pp(*payload);
  if (parser.allocate(pp.size() + 64, 8) || parser.parse(pp).get(p) || !p.is_object())
    return Unauth("the claims are not a JSON object");
  std::string_view v;
  if (!p["sub"].get(v)) c.sub = std::string(v);
  if (!p["iss"].get(v)) c.iss = std::string(v);
  if (!p["role"].get(v)) c.role = std::string(v);
  if (!p["department"].get(v)) c.department = std::string(v);
  if (!p["patient"].get(v)) c.patient = std::string(v);
  if (!p["name"].get(v)) c.name = std::string(v);
  const bool has_azp = p["azp"].error() != simdjson::NO_SUCH_FIELD;
  if (has_azp && p["azp"].get(v)) return Unauth("azp is not a string");
  if (has_azp) c.azp = std::string(v);
  simdjson::dom::array auds;
  if (!p["aud"].get(v)) {
    c.aud.emplace_back(v);
  } else if (!p["aud"].get(auds)) {
    for (auto a : auds)
      if (!a.get(v)) c.aud.emplace_back(v);
  }
  const auto number = [&](const char* name, int64_t* out) {
    double d = 0;
    if (p[name].get(d)) return false;
    *out = static_cast<int64_t>(d);
    return true;
  };
  if (!number("exp", &c.exp)) return Unauth("no exp");
  const bool has_nbf = number("nbf", &c.nbf);
  const bool has_iat = number("iat", &c.iat);
  if (c.sub.empty()) return Unauth("no sub");
  if (c.iss != policy.issuer) return Unauth("issuer is not " + policy.issuer);
  if (std::find(c.aud.begin(), c.aud.end(), policy.audience) == c.aud.end())
    return Unauth("audience is not " + policy.audience);
  if (has_azp) {
    const auto& ok = policy.authorized_parties;
    if (ok.empty() ? c.azp != policy.audience : std::find(ok.begin(), ok.end(), c.azp) == ok.end())
      return Unauth("authorized party (azp) '" + c.azp.substr(0, 64) +
                    "' is not a client this service accepts");
  }
  if (now > c.exp + policy.leeway_s) return Unauth("expired");
  if (has_nbf && c.nbf > now + policy.leeway_s) return Unauth("not valid yet (nbf)");
  if (has_iat && c.iat > now + policy.leeway_s) return Unauth("issued in the future (iat)");
  return c;
}

struct DevIssuer::Impl {
  Pkey key;
  std::string x, y;
};

DevIssuer::DevIssuer() : impl_(std::make_unique<Impl>()) {}
DevIssuer::DevIssuer(DevIssuer&&) noexcept = default;
DevIssuer& DevIssuer::operator=(DevIssuer&&) noexcept = default;
DevIssuer::~DevIssuer() = default;

StatusOr<DevIssuer> DevIssuer::LoadOrCreate(const std::string& pem_path, std::string issuer) {
  DevIssuer d;
  d.issuer_ = std::move(issuer);
  if (FILE* f = std::fopen(pem_path.c_str(), "rb")) {
    d.impl_->key.reset(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    if (!d.impl_->key || !IsP256(d.impl_->key.get()))
      return DataLossError(pem_path + " is not a P-256 private key in PEM");
  } else {
    d.impl_->key.reset(EVP_EC_gen("P-256"));
    if (!d.impl_->key) return InternalError("cannot generate a P-256 key");
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(pem_path).parent_path(), ec);
    ASSIGN_OR_RETURN(std::string pem, crypto::PrivateKeyPem(d.impl_->key.get()));
    RETURN_IF_ERROR(WriteFileDurably(pem_path, pem, 0600));
  }
  BIGNUM *x = nullptr, *y = nullptr;
  if (EVP_PKEY_get_bn_param(d.impl_->key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
      EVP_PKEY_get_bn_param(d.impl_->key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
    BN_free(x);
    BN_free(y);
    return InternalError("cannot read the public key");
  }
  d.impl_->x = Bn(x, 32);
  d.impl_->y = Bn(y, 32);
  BN_free(x);
  BN_free(y);
  const crypto::Digest h = crypto::Sha256(d.impl_->x + d.impl_->y);
  d.kid_ = Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(h.data()), 12));
  return d;
}

StatusOr<std::string> DevIssuer::Issue(const std::string& sub, const std::string& role,
                                       const std::string& department, const std::string& audience,
                                       int64_t ttl_s, int64_t now, const std::string& patient,
                                       const std::string& name) const {
  const nlohmann::json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid_}};
  nlohmann::json claims = {
      {"iss", issuer_},           {"sub", sub}, {"aud", audience}, {"role", role},
      {"department", department}, {"iat", now}, {"nbf", now},      {"exp", now + ttl_s}};
  if (!patient.empty()) claims["patient"] = patient;
  if (!name.empty()) claims["name"] = name;
  const std::string signing = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string der;
  if (ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, impl_->key.get()) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(signing.data()),
                     signing.size()) == 1) {
    der.resize(len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                       reinterpret_cast<const unsigned char*>(signing.data()), signing.size()) != 1)
      der.clear();
    der.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig =
      der.empty() ? nullptr : d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return InternalError("signing failed");
  const std::string rs = Bn(ECDSA_SIG_get0_r(sig), 32) + Bn(ECDSA_SIG_get0_s(sig), 32);
  ECDSA_SIG_free(sig);
  return signing + "." + Base64UrlEncode(rs);
}

std::string DevIssuer::Jwks() const {
  const nlohmann::json jwks = {
      {"keys", nlohmann::json::array({{{"kty", "EC"},
                                       {"crv", "P-256"},
                                       {"use", "sig"},
                                       {"alg", "ES256"},
                                       {"kid", kid_},
                                       {"x", Base64UrlEncode(impl_->x)},
                                       {"y", Base64UrlEncode(impl_->y)}}})}};
  return jwks.dump();
}

}  // namespace medscribe::serve
