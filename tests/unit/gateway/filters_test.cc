// The gateway's filter chain and token verifier without a network: tokens from the development
// issuer, an injected clock, the shipped policy.
#include "gateway/filters.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "fakes.h"
#include "gateway/token_verifier.h"

namespace medscribe::gateway {
namespace {

namespace fs = std::filesystem;
using testing::FakeClock;

class FiltersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medscribe_filters_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto d = serve::DevIssuer::LoadOrCreate((dir_ / "dev.pem").string(), "https://issuer.test");
    ASSERT_TRUE(d.ok()) << d.status().message();
    dev_.emplace(std::move(*d));
    auto c = ParseGatewayConfig(
        "limits: {rate_per_principal: {rps: 1, burst: 2}}\n"
        "endpoints: [{name: r, paths: [/v1/reports:generate], deployments: "
        "[{name: a, weight: 1, replicas: [\"http://127.0.0.1:9\"]}]}]\n",
        dir_, dir_);
    ASSERT_TRUE(c.ok()) << c.status().message();
    config_ = std::move(*c);
    verifier_ = std::make_unique<TokenVerifier>(
        [this]() -> StatusOr<std::string> {
          ++fetches_;
          return dev_->Jwks();
        },
        true, std::chrono::seconds(0), clock_);
    ASSERT_TRUE(verifier_->Load().ok());
    limiter_ = std::make_unique<RateLimiter>(config_.limits.per_principal);
    FilterDeps deps{verifier_.get(), limiter_.get(), &clock_,
                    [](const std::string& sub) { return "p-" + sub; }};
    chain_ = std::make_unique<FilterChain>(StandardFilters(deps));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Token(const std::string& role, const std::string& department = "radiology",
                    const std::string& patient = "", int64_t ttl = 600) {
    auto t =
        dev_->Issue("u-" + role, role, department, "medscribe", ttl, clock_.UnixSeconds(), patient);
    EXPECT_TRUE(t.ok());
    return *t;
  }
  static std::string Sample(const std::string& department, const std::string& patient = "P1") {
    return nlohmann::json{
        {"sample",
         {{"encounter_id", "E1"}, {"patient_id", patient}, {"meta", {{"department", department}}}}}}
        .dump();
  }
  // The refusal's status, or 0 when the request passed every filter.
  int Run(const std::string& token, const std::string& body = "",
          const std::string& path = "/v1/reports:generate") {
    req_ = serve::HttpRequest();
    req_.method = "POST";
    req_.path = req_.target = path;
    req_.headers["authorization"] = "Bearer " + token;
    req_.headers["content-type"] = "application/json";
    req_.body = body;
    ctx_ = RequestContext();
    ctx_.req = &req_;
    ctx_.route = config_.policy.Find("POST", path);
    ctx_.config = &config_;
    ctx_.issuer = "https://issuer.test";
    refusal_ = chain_->Run(ctx_);
    return refusal_ ? refusal_->status : 0;
  }

  fs::path dir_;
  FakeClock clock_;
  std::optional<serve::DevIssuer> dev_;
  GatewayConfig config_;
  std::atomic<int> fetches_{0};
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<FilterChain> chain_;
  serve::HttpRequest req_;
  RequestContext ctx_;
  std::optional<Refusal> refusal_;
};

TEST_F(FiltersTest, TheChainRunsInTheDocumentedOrder) {
  EXPECT_EQ(chain_->names(),
            (std::vector<std::string_view>{"authenticate", "department", "rate", "authorize",
                                           "body limits", "context"}));
}

TEST_F(FiltersTest, APassingRequestCarriesItsPrincipalAndResources) {
  EXPECT_EQ(Run(Token("radiologist"), Sample("Radiology")), 0);  // departments ignore case
  EXPECT_EQ(ctx_.rec.principal, "p-u-radiologist");
  EXPECT_EQ(ctx_.rec.role, "radiologist");
  EXPECT_EQ(ctx_.rec.resources, (std::vector<std::string>{"Encounter/E1", "Patient/P1"}));
}

TEST_F(FiltersTest, BadTokensAreRefusedBeforeTheRateLimitCountsThem) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Run("not.a.token", Sample("radiology")), 401);
  EXPECT_EQ(refusal_->reason, "unauthenticated");
  EXPECT_TRUE(refusal_->audit);
  EXPECT_EQ(limiter_->keys(), 0u);
  // A token without a department, on a route that touches encounters: 401, not "any".
  EXPECT_EQ(Run(Token("radiologist", ""), Sample("radiology")), 401);
  EXPECT_EQ(refusal_->outcome, "no department claim");
  EXPECT_EQ(limiter_->keys(), 0u);
}

TEST_F(FiltersTest, TheRateLimitComesBeforeScopesAndRefillsOnTheClock) {
  const std::string auditor = Token("auditor");
  EXPECT_EQ(Run(auditor, Sample("radiology")), 403);  // burst 2
  EXPECT_EQ(refusal_->outcome, "role lacks scope");
  EXPECT_EQ(Run(auditor, Sample("radiology")), 403);
  EXPECT_EQ(Run(auditor, Sample("radiology")), 429);
  EXPECT_EQ(refusal_->headers["Retry-After"], "1");
  EXPECT_TRUE(refusal_->audit) << "a PHI route's refusals are audited";
  clock_.Advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(Run(auditor, Sample("radiology")), 403) << "one token refilled after 1 s";
}

TEST_F(FiltersTest, ScopesComeBeforeBodyLimitsAndBodyLimitsBeforeContext) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_EQ(Run(Token("auditor"), deep), 403);
  EXPECT_EQ(Run(Token("radiologist"), deep), 400);
  EXPECT_EQ(refusal_->reason, "json_too_deep");
  EXPECT_FALSE(refusal_->audit);
  const std::string huge = "{\"image\":\"data:" + std::string(13u << 20, 'A') + "\"}";
  clock_.Advance(std::chrono::milliseconds(5000));
  EXPECT_EQ(Run(Token("radiologist"), huge), 413);
}

TEST_F(FiltersTest, TheEncountersDepartmentAndPatientMustBeTheTokens) {
  EXPECT_EQ(Run(Token("radiologist"), Sample("cardiology")), 403);
  EXPECT_EQ(refusal_->outcome, "cross-department");
  EXPECT_TRUE(refusal_->audit);
  clock_.Advance(std::chrono::milliseconds(5000));
  EXPECT_EQ(Run(Token("radiologist", "radiology", "P2"), Sample("radiology", "P1")), 403);
  EXPECT_EQ(refusal_->outcome, "other patient");
  clock_.Advance(std::chrono::milliseconds(5000));
  EXPECT_EQ(Run(Token("radiologist"), "{\"sample\":{\"encounter_id\":\"E1\"}}"), 400);
  EXPECT_EQ(refusal_->outcome, "no department");
  clock_.Advance(std::chrono::milliseconds(5000));
  EXPECT_EQ(Run(Token("radiologist"), "not json"), 400);
}

TEST_F(FiltersTest, RememberedTokensStillExpireOnTheClock) {
  const std::string token = Token("radiologist", "radiology", "", 60);
  EXPECT_EQ(Run(token, Sample("radiology")), 0);
  EXPECT_EQ(verifier_->remembered(), 1u);
  clock_.Advance(std::chrono::seconds(60 + config_.leeway_s + 1));
  EXPECT_EQ(Run(token, Sample("radiology")), 401);
  EXPECT_NE(refusal_->message.find("expired"), std::string::npos) << refusal_->message;
}

TEST_F(FiltersTest, AnUnknownKeyIdRefetchesTheKeysAtMostEvery30Seconds) {
  verifier_->StartRefresh();
  auto other = serve::DevIssuer::LoadOrCreate((dir_ / "other.pem").string(), "https://issuer.test");
  ASSERT_TRUE(other.ok());
  auto t = other->Issue("u", "radiologist", "radiology", "medscribe", 600, clock_.UnixSeconds());
  ASSERT_TRUE(t.ok());
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_EQ(Run(*t, Sample("radiology")), 401);
  for (int i = 0; i < 200 && fetches_ < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(fetches_, 2) << "the unknown kid fetched the keys again";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Run(*t, Sample("radiology")), 401);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(fetches_, 2) << "no second fetch within 30 s";
}

}  // namespace
}  // namespace medscribe::gateway
