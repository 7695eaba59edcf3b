#include "serve/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include "crypto/hmac.h"

namespace medscribe::serve {
namespace {

constexpr int64_t kNow = 1'800'000'000;
const JwtPolicy kPolicy{"https://issuer.test", "medscribe", 30, {}};

std::string Part(const nlohmann::json& j) { return Base64UrlEncode(j.dump()); }

nlohmann::json Claims() {
  return {{"iss", "https://issuer.test"}, {"sub", "u1"}, {"aud", "medscribe"},
          {"role", "radiologist"},        {"iat", kNow}, {"exp", kNow + 600},
          {"department", "RAD"}};
}

class Jwt : public ::testing::Test {
 protected:
  void SetUp() override {
    auto issuer =
        DevIssuer::LoadOrCreate(::testing::TempDir() + "/jwt_test_es256.pem", kPolicy.issuer);
    ASSERT_TRUE(issuer.ok()) << issuer.status().message();
    es_ = std::make_unique<DevIssuer>(std::move(*issuer));
    rsa_.reset(EVP_RSA_gen(2048));
    ASSERT_TRUE(rsa_);
    BIGNUM *n = nullptr, *e = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(rsa_.get(), OSSL_PKEY_PARAM_RSA_N, &n), 1);
    ASSERT_EQ(EVP_PKEY_get_bn_param(rsa_.get(), OSSL_PKEY_PARAM_RSA_E, &e), 1);
    const auto bytes = [](BIGNUM* b) {
      std::string s(static_cast<size_t>(BN_num_bytes(b)), '\0');
      BN_bn2bin(b, reinterpret_cast<unsigned char*>(s.data()));
      return s;
    };
    const nlohmann::json es_keys = nlohmann::json::parse(es_->Jwks())["keys"];
    nlohmann::json keys = es_keys;
    keys.push_back({{"kty", "RSA"},
                    {"kid", "rsa1"},
                    {"n", Base64UrlEncode(bytes(n))},
                    {"e", Base64UrlEncode(bytes(e))}});
    BN_free(n);
    BN_free(e);
    auto set = KeySet::Parse(nlohmann::json({{"keys", keys}}).dump());
    ASSERT_TRUE(set.ok()) << set.status().message();
    keys_ = std::make_unique<KeySet>(std::move(*set));
  }

  std::string Rs256(const nlohmann::json& header, const nlohmann::json& claims) {
    const std::string signing = Part(header) + "." + Part(claims);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, rsa_.get());
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(signing.data()),
                   signing.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(signing.data()), signing.size());
    EVP_MD_CTX_free(ctx);
    return signing + "." + Base64UrlEncode(sig.substr(0, len));
  }

  std::string Why(const std::string& token) {
    auto c = VerifyJwt(token, *keys_, kPolicy, kNow);
    EXPECT_FALSE(c.ok());
    if (!c.ok()) {
      EXPECT_EQ(c.status().code(), ErrorCode::kUnauthenticated);
    }
    return c.ok() ? "" : c.status().message();
  }

  struct Free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  };
  std::unique_ptr<EVP_PKEY, Free> rsa_;
  std::unique_ptr<DevIssuer> es_;
  std::unique_ptr<KeySet> keys_;
};

TEST_F(Jwt, DevIssuerAndRs256TokensVerify) {
  auto token = es_->Issue("u7", "resident", "RAD", "medscribe", 900, kNow);
  ASSERT_TRUE(token.ok());
  auto c = VerifyJwt(*token, *keys_, kPolicy, kNow + 10);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->sub, "u7");
  EXPECT_EQ(c->role, "resident");
  EXPECT_EQ(c->department, "RAD");
  EXPECT_EQ(c->alg, "ES256");
  auto r = VerifyJwt(Rs256({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rsa1"}}, Claims()), *keys_,
                     kPolicy, kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->alg, "RS256");
  // The same key file gives the same issuer identity.
  auto again =
      DevIssuer::LoadOrCreate(::testing::TempDir() + "/jwt_test_es256.pem", kPolicy.issuer);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kid(), es_->kid());
}

TEST_F(Jwt, TheAttackSuiteIsRefused) {
  const nlohmann::json rs = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rsa1"}};
  // alg none.
  EXPECT_NE(
      Why(Part({{"alg", "none"}, {"kid", "rsa1"}}) + "." + Part(Claims()) + ".").find("alg none"),
      std::string::npos);
  // HS256 signed with the RSA public key as the secret (algorithm confusion).
  {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, rsa_.get());
    char* pem = nullptr;
    const long len = BIO_get_mem_data(bio, &pem);
    const std::string signing = Part({{"alg", "HS256"}, {"kid", "rsa1"}}) + "." + Part(Claims());
    const crypto::Digest mac =
        crypto::HmacSha256(std::string_view(pem, static_cast<size_t>(len)), signing);
    BIO_free(bio);
    EXPECT_NE(Why(signing + "." +
                  Base64UrlEncode(
                      std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())))
                  .find("HS256"),
              std::string::npos);
  }
  // ES256 header on the RSA key, RS256 header on the EC key.
  EXPECT_NE(Why(Rs256({{"alg", "ES256"}, {"kid", "rsa1"}}, Claims())).find("not P-256"),
            std::string::npos);
  EXPECT_NE(Why(Rs256({{"alg", "RS256"}, {"kid", es_->kid()}}, Claims())).find("not RSA"),
            std::string::npos);
  // Expired beyond the leeway (inside it is fine), nbf in the future, iat in the future.
  auto expired = Claims();
  expired["exp"] = kNow - 31;
  EXPECT_NE(Why(Rs256(rs, expired)).find("expired"), std::string::npos);
  expired["exp"] = kNow - 29;
  EXPECT_TRUE(VerifyJwt(Rs256(rs, expired), *keys_, kPolicy, kNow).ok());
  auto early = Claims();
  early["nbf"] = kNow + 120;
  EXPECT_NE(Why(Rs256(rs, early)).find("nbf"), std::string::npos);
  auto future = Claims();
  future["iat"] = kNow + 120;
  EXPECT_NE(Why(Rs256(rs, future)).find("iat"), std::string::npos);
  // Wrong audience, issuer, typ.
  auto aud = Claims();
  aud["aud"] = nlohmann::json::array({"other", "another"});
  EXPECT_NE(Why(Rs256(rs, aud)).find("audience"), std::string::npos);
  auto iss = Claims();
  iss["iss"] = "https://evil.test";
  EXPECT_NE(Why(Rs256(rs, iss)).find("issuer"), std::string::npos);
  EXPECT_NE(Why(Rs256({{"alg", "RS256"}, {"typ", "JWE"}, {"kid", "rsa1"}}, Claims())).find("typ"),
            std::string::npos);
  // Tampered claims under a valid signature.
  {
    const std::string good = Rs256(rs, Claims());
    auto admin = Claims();
    admin["role"] = "admin";
    const size_t a = good.find('.'), b = good.rfind('.');
    EXPECT_NE(Why(good.substr(0, a + 1) + Part(admin) + good.substr(b)).find("signature"),
              std::string::npos);
  }
  // Unknown and injected kid; keys named by the token itself.
  EXPECT_NE(Why(Rs256({{"alg", "RS256"}, {"kid", "nope"}}, Claims())).find("unknown kid"),
            std::string::npos);
  EXPECT_NE(
      Why(Rs256({{"alg", "RS256"}, {"kid", "../../../dev/null"}}, Claims())).find("unknown kid"),
      std::string::npos);
  EXPECT_NE(
      Why(Rs256({{"alg", "RS256"}, {"kid", "rsa1"}, {"jku", "https://evil.test/jwks"}}, Claims()))
          .find("jku"),
      std::string::npos);
  EXPECT_NE(
      Why(Rs256({{"alg", "RS256"}, {"kid", "rsa1"}, {"x5u", "https://evil.test/cert"}}, Claims()))
          .find("x5u"),
      std::string::npos);
  // Malformed.
  EXPECT_FALSE(Why("abc").empty());
  EXPECT_FALSE(Why("a.b.c.d").empty());
  EXPECT_FALSE(Why("!!.!!.!!").empty());
}

TEST_F(Jwt, AnAuthorizedPartyMustBeAClientThisServiceAccepts) {
  const nlohmann::json rs = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rsa1"}};
  auto c = Claims();
  c["azp"] = "medscribe";  // the audience itself
  EXPECT_TRUE(VerifyJwt(Rs256(rs, c), *keys_, kPolicy, kNow).ok());
  c["azp"] = "billing-app";  // a token issued to another client, replayed here
  EXPECT_NE(Why(Rs256(rs, c)).find("authorized party"), std::string::npos);
  c["azp"] = 7;
  EXPECT_NE(Why(Rs256(rs, c)).find("azp"), std::string::npos);
  JwtPolicy clients = kPolicy;
  clients.authorized_parties = {"medscribe-review", "medscribe-cli"};
  c["azp"] = "medscribe-review";
  auto ok = VerifyJwt(Rs256(rs, c), *keys_, clients, kNow);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->azp, "medscribe-review");
  c["azp"] = "medscribe";
  EXPECT_FALSE(VerifyJwt(Rs256(rs, c), *keys_, clients, kNow).ok());
}

TEST(Jwks, UnusableKeySetsAreRefused) {
  EXPECT_FALSE(KeySet::Parse("{}").ok());
  EXPECT_FALSE(KeySet::Parse(R"({"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]})").ok());
  EXPECT_FALSE(
      KeySet::Parse(R"({"keys":[{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}]})").ok());
  EXPECT_FALSE(KeySet::Parse("not json").ok());
}

TEST(Base64Url, RoundTrips) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba",
                                                       "foobar", std::string("\xff\xfe\x00", 3)}) {
    auto back = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("a+b/").ok());
}

}  // namespace
}  // namespace medscribe::serve
