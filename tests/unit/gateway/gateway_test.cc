// The gateway's pieces without a network: policy and scope matching, configuration errors,
// rate limits on an injected clock, JSON limits, the audit chain, the local CA, URL parsing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>
#include <boost/asio.hpp>

#include <yaml-cpp/yaml.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "crypto/ed25519.h"
#include "crypto/hmac.h"
#include "fakes.h"
#include "gateway/audit.h"
#include "gateway/config.h"
#include "gateway/gateway.h"
#include "gateway/json_limits.h"
#include "gateway/local_pki.h"
#include "gateway/rate_limit.h"
#include "gateway/upstream.h"
#include "serve/http_server.h"
#include "serve/jwt.h"

namespace medscribe::gateway {
namespace {
namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("medscribe_gw_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(Scopes, WildcardsCoverOnlyTheirContext) {
  EXPECT_TRUE(ScopeCovers("user/DiagnosticReport.write", "user/DiagnosticReport.write"));
  EXPECT_TRUE(ScopeCovers("user/*.write", "user/DiagnosticReport.write"));
  EXPECT_TRUE(ScopeCovers("system/*.*", "system/Model.read"));
  EXPECT_FALSE(ScopeCovers("user/*.*", "system/Model.read"));
  EXPECT_FALSE(ScopeCovers("user/DiagnosticReport.read", "user/DiagnosticReport.write"));
  EXPECT_FALSE(ScopeCovers("user/Diagnostic*.write", "user/DiagnosticReport.write"));
  EXPECT_FALSE(ScopeCovers("garbage", "user/DiagnosticReport.write"));
}

TEST(Policy, ShippedPolicyGivesEachRoleWhatItNeeds) {
  auto p = ParsePolicy(DefaultPolicyYaml(), "shipped");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const RoutePolicy* gen = p->Find("POST", "/v1/reports:generate");
  ASSERT_NE(gen, nullptr);
  EXPECT_TRUE(gen->phi);
  EXPECT_TRUE(gen->context);
  auto can = [&](const std::string& role, const RoutePolicy* r) {
    for (const auto& g : p->roles.at(role))
      for (const auto& n : r->scopes)
        if (ScopeCovers(g, n)) return true;
    return false;
  };
  for (const char* role : {"radiologist", "resident", "attending", "service"})
    EXPECT_TRUE(can(role, gen)) << role;
  for (const char* role : {"auditor", "admin"}) EXPECT_FALSE(can(role, gen)) << role;
  EXPECT_TRUE(can("admin", p->Find("GET", "/metrics")));
  EXPECT_FALSE(can("radiologist", p->Find("GET", "/metrics")));
  EXPECT_EQ(p->Find("GET", "/v1/reports:generate"), nullptr);  // method matters

  // The clinical routes: patterns match within one path segment; signing needs its own scope.
  const RoutePolicy* sign = p->Find("POST", "/v1/drafts/d-0123:sign");
  ASSERT_NE(sign, nullptr);
  EXPECT_EQ(sign->action, "draft.sign");
  EXPECT_TRUE(sign->phi);
  for (const char* role : {"radiologist", "attending"}) EXPECT_TRUE(can(role, sign)) << role;
  for (const char* role : {"resident", "service", "auditor", "admin"})
    EXPECT_FALSE(can(role, sign)) << role;
  EXPECT_EQ(p->Find("GET", "/v1/drafts/d-0123")->action, "draft.read");
  EXPECT_EQ(p->Find("PUT", "/v1/drafts/d-0123")->action, "draft.edit");
  EXPECT_EQ(p->Find("POST", "/v1/drafts/d-0123:regenerate")->action, "draft.regenerate");
  EXPECT_EQ(p->Find("GET", "/v1/drafts/a/b"), nullptr);  // '*' stays within a segment
  EXPECT_EQ(p->Find("POST", "/v1/drafts")->action, "draft.create");
  EXPECT_TRUE(can("resident", p->Find("POST", "/v1/drafts")));
  EXPECT_TRUE(p->Find("GET", "/app/app.js")->public_route);
  EXPECT_EQ(p->Find("GET", "/app/x/y.js"), nullptr);
}

TEST(Policy, BadFilesAreRejectedWithTheReason) {
  auto p =
      ParsePolicy("routes:\n  - {method: GET, path: /x, scopes: [a/b.c], colour: red}\n", "p.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("colour"), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find("line 2"), std::string::npos) << p.status().message();
  p = ParsePolicy("routes:\n  - {method: POST, path: /x, public: true, phi: true}\n", "p.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("cannot be public"), std::string::npos);
  p = ParsePolicy("routes:\n  - {method: GET, path: /x}\n", "p.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("needs 'scopes'"), std::string::npos);
  p = ParsePolicy("routes: [\n", "p.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("p.yaml"), std::string::npos);
}

const char kMinimal[] = R"(
endpoints:
  - name: reports
    paths: [/v1/models]
    deployments:
      - {name: a, weight: 9, replicas: ["http://127.0.0.1:9001"]}
      - {name: b, weight: 1, replicas: ["http://127.0.0.1:9002"]}
    mirror: {deployment: b, percent: 50}
)";

TEST(Config, MinimalFileGetsSafeDefaults) {
  auto c = ParseGatewayConfig(kMinimal, "/etc/medscribe", "/var/lib/medscribe");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->tls_mode, "local");
  EXPECT_TRUE(c->dev_issuer);
  EXPECT_EQ(c->audit_path, fs::path("/var/lib/medscribe/audit/gateway.log"));
  EXPECT_GT(c->limits.per_principal.rps, 0);
  ASSERT_EQ(c->endpoints.size(), 1u);
  EXPECT_EQ(c->endpoints[0].deployments[1].weight, 1);
  EXPECT_EQ(c->endpoints[0].mirror, "b");
  EXPECT_NE(c->policy.Find("POST", "/v1/chat/completions"), nullptr);
}

// The shipped Kubernetes manifest's gateway configuration parses, and talks to the replicas
// over mutual TLS only.
TEST(Config, TheDeploymentManifestRequiresMutualTlsToReplicas) {
  std::ifstream in(std::string(MEDSCRIBE_SOURCE_DIR) + "/deploy/gateway.yaml");
  ASSERT_TRUE(in) << "deploy/gateway.yaml";
  std::stringstream all;
  all << in.rdbuf();
  const YAML::Node map = YAML::Load(all.str().substr(0, all.str().find("\n---")));
  const fs::path dir = TempDir("manifest");
  std::ofstream(dir / "policy.yaml") << map["data"]["policy.yaml"].as<std::string>();
  auto c =
      ParseGatewayConfig(map["data"]["gateway.yaml"].as<std::string>(), dir.string(), dir.string());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->upstream_mtls);
  EXPECT_FALSE(c->upstream_cert.empty());
  for (const auto& e : c->endpoints)
    for (const auto& d : e.deployments)
      for (const std::string& r : d.replicas) EXPECT_EQ(r.rfind("https://", 0), 0u) << r;
  EXPECT_EQ(ParseGatewayConfig("tls: {upstream_cert: c.pem}\n", "/tmp", "/tmp").status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(Config, ErrorsNameTheKeyAndLine) {
  struct Case {
    std::string yaml, expect;
  };
  const std::vector<Case> cases = {
      {std::string(kMinimal) + "listn: 1\n", "unknown key 'listn' (line 9)"},
      {"endpoints: []\n", "no 'endpoints'"},
      {"tls: {mode: maybe}\n", "must be local, files or off"},
      {"tls: {mode: files}\n", "needs tls.cert and tls.key"},
      {"auth: {dev_issuer: false}\n", "jwks_file or auth.jwks_url"},
      {"auth: {jwks_url: https://idp/jwks}\n", "needs auth.issuer"},
      {"auth: {issuer: i, jwks_url: http://idp.example/jwks}\n", "must be an https:// URL"},
      {"auth: {issuer: i, jwks_url: https://user@idp.example/jwks}\n", "user information"},
      {"limits: {max_body_bytes: 12}\n", "between"},
      {"limits: {rate_per_principal: {rps: fast}}\n", "must be a number"},
      {"endpoints:\n  - name: e\n    paths: [/x]\n    deployments: [{name: a, weight: 0, replicas: "
       "[http://h:1]}]\n",
       "add up to 0"},
      {"endpoints:\n  - name: e\n    paths: [/x]\n    deployments: [{name: a, replicas: "
       "[http://h:1]}]\n    mirror: {deployment: z}\n",
       "'z' is not a deployment"},
      {"endpoints:\n  - name: e\n    paths: [/x]\n    deployments: [{name: a, replicas: local}]\n",
       "needs a model"},
  };
  for (const Case& k : cases) {
    auto c = ParseGatewayConfig(k.yaml, "/tmp", "/tmp");
    ASSERT_FALSE(c.ok()) << k.yaml;
    EXPECT_NE(c.status().message().find(k.expect), std::string::npos) << c.status().message();
  }
}

TEST(Config, LocalReplicasAndRelativePaths) {
  auto c = ParseGatewayConfig(
      "policy: p.yaml\nendpoints:\n  - paths: [/x]\n    deployments: [{name: a, replicas: {local: "
      "{model: chest@production, count: 2}}}]\n",
      TempDir("cfg"), "/h");
  ASSERT_FALSE(c.ok());  // p.yaml does not exist: the error names it
  EXPECT_NE(c.status().message().find("p.yaml"), std::string::npos) << c.status().message();
  const fs::path dir = TempDir("cfg2");
  ASSERT_TRUE(WriteFile(dir / "p.yaml", DefaultPolicyYaml()).ok());
  c = ParseGatewayConfig(
      "policy: p.yaml\nendpoints:\n  - paths: [/x]\n    deployments: [{name: a, replicas: {local: "
      "{model: chest@production, count: 2}}}]\n",
      dir, "/h");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->endpoints[0].deployments[0].is_local());
  EXPECT_EQ(c->endpoints[0].deployments[0].local.count, 2);
}

TEST(Config, ADeploymentsWeightIsSetInPlace) {
  const std::string text =
      "# the reports endpoint\n"
      "endpoints:\n"
      "  - name: reports   # drafts\n"
      "    paths: [/v1/chat/completions]\n"
      "    deployments:\n"
      "      - {name: production, weight: 100, replicas: [\"http://127.0.0.1:1\"]}\n"
      "      - name: canary\n"
      "        weight: \"0\"  # raised by the pipeline\n"
      "        replicas: [\"http://127.0.0.1:2\"]\n"
      "  - name: other\n"
      "    paths: [/y]\n"
      "    deployments: [{name: canary, weight: 7, replicas: [\"http://127.0.0.1:3\"]}]\n";
  auto out = SetDeploymentWeight(text, "reports", "canary", 12.5);
  ASSERT_TRUE(out.ok()) << out.status().message();
  std::string expected = text;
  expected.replace(expected.find("\"0\""), 3, "12.5");
  EXPECT_EQ(*out, expected);  // comments, quotes elsewhere and the other endpoint unchanged
  out = SetDeploymentWeight(*out, "reports", "production", 0);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_NE(out->find("{name: production, weight: 0, replicas"), std::string::npos) << *out;
  auto parsed = ParseGatewayConfig(*out, "/tmp", "/tmp");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->endpoints[0].deployments[0].weight, 0);
  EXPECT_EQ(parsed->endpoints[0].deployments[1].weight, 12.5);
  EXPECT_EQ(parsed->endpoints[1].deployments[0].weight, 7);

  EXPECT_EQ(SetDeploymentWeight(text, "nope", "canary", 1).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(SetDeploymentWeight(text, "reports", "blue", 1).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(SetDeploymentWeight(text, "reports", "canary", -1).status().code(),
            ErrorCode::kInvalidArgument);
  auto no_weight = SetDeploymentWeight(
      "endpoints:\n  - name: r\n    paths: [/x]\n    deployments: [{name: c, replicas: []}]\n", "r",
      "c", 5);
  ASSERT_EQ(no_weight.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(no_weight.status().message().find("add `weight: 0`"), std::string::npos);
}

TEST(Config, TheClinicalImageSpacingIsReadAndBounded) {
  const std::string clinical = "clinical: {records: cohort:c, images: cohort:c, image_spacing_mm: ";
  auto c = ParseGatewayConfig(std::string(kMinimal) + clinical + "1.68}\n", "/tmp", "/tmp");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->clinical.image_spacing_mm, 1.68);
  c = ParseGatewayConfig(std::string(kMinimal) + clinical + "-2}\n", "/tmp", "/tmp");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("clinical.image_spacing_mm"), std::string::npos)
      << c.status().message();
}

TEST(Config, DriftRecordingNeedsItsDirectoryAndReferenceTogether) {
  const std::string clinical = "clinical: {records: cohort:c, images: cohort:c, ";
  auto c = ParseGatewayConfig(std::string(kMinimal) + clinical +
                                  "drift_dir: drift, drift_reference: run, drift_window_s: 600}\n",
                              "/etc/ms", "/h");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->clinical.drift_dir, "/etc/ms/drift");  // relative to the config's folder
  EXPECT_EQ(c->clinical.drift_reference, "/etc/ms/run");
  EXPECT_EQ(c->clinical.drift_window_s, 600);
  c = ParseGatewayConfig(std::string(kMinimal) + clinical + "drift_dir: drift}\n", "/tmp", "/h");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("drift_reference"), std::string::npos)
      << c.status().message();
  c = ParseGatewayConfig(
      std::string(kMinimal) + clinical + "drift_dir: d, drift_reference: r, drift_window_s: 0}\n",
      "/tmp", "/h");
  EXPECT_FALSE(c.ok());
}

TEST(RateLimiter, BurstThenSteadyRatePerKey) {
  RateLimiter r({2, 3});  // 2/s, bucket of 3
  double t = 100;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.Take("a", t), 0) << i;
  const double wait = r.Take("a", t);
  EXPECT_NEAR(wait, 0.5, 1e-9);        // one token every 0.5 s
  EXPECT_EQ(r.Take("b", t), 0);        // other keys are not affected
  EXPECT_EQ(r.Take("a", t + 0.5), 0);  // refilled
  EXPECT_GT(r.Take("a", t + 0.5), 0);
  EXPECT_EQ(r.Take("a", t + 100), 0);
  for (int i = 0; i < 1000; ++i) r.Take("k" + std::to_string(i), t + 200);
  r.Take("z", t + 400);  // idle buckets are swept
  EXPECT_LT(r.keys(), 10u);
  RateLimiter off({0, 0});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(off.Take("a", 0), 0);
}

TEST(JsonLimits, DepthStringsAndDataUrls) {
  bool big = false;
  EXPECT_EQ(CheckJsonLimits(std::string(64, '[') + std::string(64, ']'), 64, 100, &big), "");
  EXPECT_NE(CheckJsonLimits(std::string(65, '[') + std::string(65, ']'), 64, 100, &big), "");
  EXPECT_FALSE(big);
  // Brackets inside strings, escaped quotes included, do not count.
  EXPECT_EQ(CheckJsonLimits(R"({"a":"[[[[[[[[\"[[[[[[[[[["})", 3, 100, &big), "");
  EXPECT_EQ(CheckJsonLimits("{\"image\":\"data:image/png;base64," + std::string(70, 'A') + "\"}", 8,
                            100, &big),
            "");
  EXPECT_NE(CheckJsonLimits("{\"image\":\"data:image/png;base64," + std::string(200, 'A') + "\"}",
                            8, 100, &big),
            "");
  EXPECT_TRUE(big);
  // Long strings that are not data URLs are the body limit's business.
  EXPECT_EQ(CheckJsonLimits("{\"t\":\"" + std::string(500, 'x') + "\"}", 8, 100, &big), "");
  // 100,000 deep, unterminated strings, a lone backslash: no crash.
  EXPECT_NE(CheckJsonLimits(std::string(100000, '['), 64, 100, &big), "");
  EXPECT_EQ(CheckJsonLimits("\"abc\\", 64, 100, &big), "");
  EXPECT_EQ(CheckJsonLimits("", 64, 100, &big), "");
}

std::vector<std::string> Lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}
void Write(const fs::path& p, const std::vector<std::string>& lines) {
  std::ofstream out(p);
  for (const auto& l : lines) out << l << "\n";
}

TEST(Audit, ChainDetectsAlteredRemovedReorderedAndCutRecords) {
  const fs::path dir = TempDir("audit");
  const fs::path log = dir / "a.log";
  {
    auto a = AuditLog::Open(log);
    ASSERT_TRUE(a.ok()) << a.status().message();
    for (int i = 0; i < 4; ++i) {
      AuditRecord r;
      r.principal = "p-1";
      r.role = "radiologist";
      r.action = "report.generate";
      r.resources = {"Encounter/ENC-" + std::to_string(i)};
      r.status = 200;
      r.outcome = "ok";
      ASSERT_TRUE((*a)->Append(r).ok());
    }
  }
  struct stat st {};
  ASSERT_EQ(stat(log.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {  // Reopening continues the chain.
    auto a = AuditLog::Open(log);
    ASSERT_TRUE(a.ok());
    AuditRecord r;
    r.status = 401;
    r.outcome = "invalid token";
    ASSERT_TRUE((*a)->Append(r).ok());
  }
  auto v = VerifyAuditLog(log);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->records, 5u);
  const auto lines = Lines(log);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_NE(lines[4].find("\"seq\":5"), std::string::npos);

  auto check = [&](std::vector<std::string> tampered, const std::string& expect) {
    const fs::path t = dir / "t.log";
    Write(t, tampered);
    fs::copy_file(log.string() + ".head", t.string() + ".head",
                  fs::copy_options::overwrite_existing);
    auto r = VerifyAuditLog(t);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->ok);
    EXPECT_NE(r->problem.find(expect), std::string::npos) << r->problem;
  };
  auto altered = lines;
  altered[1].replace(altered[1].find("ENC-1"), 5, "ENC-9");
  check(altered, "record 2 at line 2 was altered");
  auto removed = lines;
  removed.erase(removed.begin() + 2);
  check(removed, "record 3 removed");
  auto swapped = lines;
  std::swap(swapped[1], swapped[2]);
  check(swapped, "reordered");
  auto cut = lines;
  cut.pop_back();
  check(cut, "removed from the end");
  auto garbage = lines;
  garbage[3] = "{not json";
  check(garbage, "line 4 is not an audit record");

  auto fhir = ExportAuditFhir(log);
  ASSERT_TRUE(fhir.ok());
  const auto b = nlohmann::json::parse(*fhir);
  ASSERT_EQ(b["entry"].size(), 5u);
  const auto& e = b["entry"][0]["resource"];
  EXPECT_EQ(e["resourceType"], "AuditEvent");
  EXPECT_EQ(e["outcome"], "0");
  EXPECT_EQ(e["entity"][0]["what"]["identifier"]["value"], "ENC-0");
  EXPECT_EQ(b["entry"][4]["resource"]["outcome"], "4");
}

TEST(Audit, AKeyedChainCannotBeRecomputedWithoutTheKeyAndTheHeadMustBeThere) {
  const fs::path dir = TempDir("audit_keyed");
  const fs::path log = dir / "a.log";
  const std::string key = AuditChainKey(std::string(32, 'k'));
  {
    AuditOptions o;
    o.chain_key = key;
    auto a = AuditLog::Open(log, o);
    ASSERT_TRUE(a.ok()) << a.status().message();
    for (int i = 0; i < 3; ++i) {
      AuditRecord r;
      r.principal = "p-1";
      r.action = "report.generate";
      r.status = 200;
      ASSERT_TRUE((*a)->Append(r).ok());
    }
  }
  auto good = VerifyAuditLog(log, key);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->ok) << good->problem;
  EXPECT_EQ(good->unkeyed, 0u);
  // Without the key a keyed log cannot be checked; with another key it does not verify.
  EXPECT_FALSE(VerifyAuditLog(log).value().ok);
  EXPECT_FALSE(VerifyAuditLog(log, AuditChainKey(std::string(32, 'x'))).value().ok);
  // Someone who can write the file rewrites record 2 and recomputes a plain SHA-256 chain from
  // there (what a plain hash chain allows): detected.
  auto lines = Lines(log);
  auto j = nlohmann::ordered_json::parse(lines[1]);
  j["status"] = 403;
  j.erase("chain");
  j.erase("hash");
  j["hash"] = crypto::Hex(crypto::Sha256(j.dump()));
  lines[1] = j.dump();
  const fs::path t = dir / "t.log";
  Write(t, lines);
  fs::copy_file(log.string() + ".head", t.string() + ".head");
  auto forged = VerifyAuditLog(t, key);
  ASSERT_TRUE(forged.ok());
  EXPECT_FALSE(forged->ok);
  EXPECT_NE(forged->problem.find("unkeyed hash after keyed records"), std::string::npos)
      << forged->problem;
  // The head file is part of the log: without it, records cut from the end would go unseen.
  fs::remove(log.string() + ".head");
  auto headless = VerifyAuditLog(log, key);
  ASSERT_TRUE(headless.ok());
  EXPECT_FALSE(headless->ok);
  EXPECT_NE(headless->problem.find("head file"), std::string::npos) << headless->problem;
}

TEST(Audit, ConcurrentRecordsShareSyncsAndStayOneChain) {
  const fs::path dir = TempDir("audit_group");
  const fs::path log = dir / "a.log";
  AuditOptions o;
  o.chain_key = AuditChainKey(std::string(32, 'k'));
  uint64_t syncs = 0;
  {
    auto a = AuditLog::Open(log, o);
    ASSERT_TRUE(a.ok());
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          AuditRecord r;
          r.action = "report.generate";
          r.resources = {"Encounter/E" + std::to_string(t * 100 + i)};
          r.status = 200;
          if (!(*a)->Append(r).ok()) ++failures;
        }
      });
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    syncs = (*a)->syncs();
  }
  auto v = VerifyAuditLog(log, o.chain_key);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->records, 400u) << "every Append returned only once its record was written";
  EXPECT_LT(syncs, 400u) << "records arriving during a sync share the next one";
}

TEST(Audit, RepeatedRefusalsAreCountedIntoOneRecord) {
  const fs::path dir = TempDir("audit_repeats");
  const fs::path log = dir / "a.log";
  AuditOptions o;
  o.chain_key = AuditChainKey(std::string(32, 'k'));
  o.refusal_window = std::chrono::hours(1);
  {
    auto a = AuditLog::Open(log, o);
    ASSERT_TRUE(a.ok());
    AuditRecord r;
    r.action = "report.generate";
    r.source = "10.0.0.9";
    r.status = 401;
    r.outcome = "invalid token";
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE((*a)->AppendRefusal(r).ok());
    EXPECT_EQ(Lines(log).size(), 1u) << "the first refusal is written at once, repeats wait";
    r.source = "10.0.0.10";
    ASSERT_TRUE((*a)->AppendRefusal(r).ok());
    EXPECT_EQ(Lines(log).size(), 2u) << "another client's refusal is its own record";
    ASSERT_TRUE((*a)->Flush(/*all=*/true).ok());
    const auto lines = Lines(log);
    ASSERT_EQ(lines.size(), 3u);
    const auto counted = nlohmann::json::parse(lines[2]);
    EXPECT_EQ(counted["count"], 999);
    EXPECT_EQ(counted["source"], "10.0.0.9");
    EXPECT_EQ(counted["outcome"], "invalid token");
    EXPECT_TRUE(counted.contains("since"));
  }
  auto v = VerifyAuditLog(log, o.chain_key);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->problem;
  auto fhir = ExportAuditFhir(log);
  ASSERT_TRUE(fhir.ok());
  EXPECT_NE(fhir->find("repeated 999 more times"), std::string::npos);

  // A window that ends is written by the log's writer on its own.
  o.refusal_window = std::chrono::milliseconds(50);
  auto a = AuditLog::Open(log, o);
  ASSERT_TRUE(a.ok());
  AuditRecord r;
  r.source = "10.0.0.11";
  r.status = 429;
  r.outcome = "rate limited";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*a)->AppendRefusal(r).ok());
  for (int i = 0; i < 50 && Lines(log).size() < 5; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(Lines(log).size(), 5u);
  EXPECT_EQ(nlohmann::json::parse(Lines(log)[4])["count"], 2);
}

TEST(Audit, SignedCheckpointsHoldTheLogEvenAgainstTheChainKey) {
  const fs::path dir = TempDir("audit_checkpoints");
  const fs::path log = dir / "a.log";
  AuditOptions o;
  o.chain_key = AuditChainKey(std::string(32, 'k'));
  auto key = crypto::LoadOrCreateSigningKey((dir / "signing.key").string());
  ASSERT_TRUE(key.ok());
  o.checkpoint_key = *key;
  o.checkpoint_every = 10;
  {
    auto a = AuditLog::Open(log, o);
    ASSERT_TRUE(a.ok());
    for (int i = 0; i < 25; ++i) {
      AuditRecord r;
      r.resources = {"Encounter/E" + std::to_string(i)};
      r.status = 200;
      ASSERT_TRUE((*a)->Append(r).ok());
    }
  }  // closing writes a last checkpoint
  const fs::path marks = log.string() + ".checkpoints";
  const auto cps = Lines(marks);
  ASSERT_EQ(cps.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(cps[0])["seq"], 10);
  EXPECT_EQ(nlohmann::json::parse(cps[2])["seq"], 25);
  auto ok = VerifyAuditCheckpoints(log, marks, key->public_key);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok) << ok->problem;
  EXPECT_EQ(ok->checkpoints, 3u);

  // Someone with the chain key rewrites record 15 and recomputes every hash after it: the
  // chain verifies, the checkpoints kept elsewhere do not.
  auto lines = Lines(log);
  std::string prev;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto j = nlohmann::ordered_json::parse(lines[i]);
    if (i == 14) j["resources"] = {"Encounter/OTHER"};
    if (i >= 14) {
      j["prev"] = prev;
      j.erase("hash");
      j["hash"] = crypto::Hex(crypto::HmacSha256(o.chain_key, j.dump()));
      lines[i] = j.dump();
    }
    prev = nlohmann::json::parse(lines[i])["hash"];
  }
  Write(log, lines);
  std::ofstream(log.string() + ".head") << "25 " << prev << "\n";
  auto chain = VerifyAuditLog(log, o.chain_key);
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(chain->ok) << "a rewrite with the key passes the chain check: " << chain->problem;
  auto held = VerifyAuditCheckpoints(log, marks, key->public_key);
  ASSERT_TRUE(held.ok());
  EXPECT_FALSE(held->ok);
  EXPECT_NE(held->problem.find("record 20 differs"), std::string::npos) << held->problem;

  // A forged checkpoint, or another key, is refused.
  auto other = crypto::LoadOrCreateSigningKey((dir / "other.key").string());
  ASSERT_TRUE(other.ok());
  auto wrong = VerifyAuditCheckpoints(log, marks, other->public_key);
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->ok);
  EXPECT_NE(wrong->problem.find("not signed by this key"), std::string::npos) << wrong->problem;
}

TEST(LocalPki, CreatesOnceAndLeavesChainThatVerifies) {
  const fs::path dir = TempDir("pki");
  auto p = EnsureLocalPki(dir / "tls");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->created);
  for (const fs::path& key : {p->ca_key, p->server_key, p->client_key}) {
    struct stat st {};
    ASSERT_EQ(stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  auto again = EnsureLocalPki(dir / "tls");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  // server.pem and client.pem verify against ca.pem.
  auto load = [](const fs::path& f) {
    FILE* fp = std::fopen(f.c_str(), "r");
    X509* x = PEM_read_X509(fp, nullptr, nullptr, nullptr);
    std::fclose(fp);
    return x;
  };
  X509* ca = load(p->ca_cert);
  for (const fs::path& leaf : {p->server_cert, p->client_cert}) {
    X509* x = load(leaf);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, x, nullptr);
    EXPECT_EQ(X509_verify_cert(ctx), 1) << leaf;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(x);
  }
  X509_free(ca);
}

TEST(Url, ParsesHostPortAndScheme) {
  std::string path;
  auto a = ParseUrl("https://idp.example:8443/realms/x/jwks", &path);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "idp.example");
  EXPECT_EQ(a->port, 8443);
  EXPECT_TRUE(a->tls);
  EXPECT_EQ(path, "/realms/x/jwks");
  a = ParseUrl("http://[::1]:9000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(ParseUrl("http://h").value().port, 80);
  EXPECT_FALSE(ParseUrl("ftp://h:1").ok());
  EXPECT_FALSE(ParseUrl("http://h:99999").ok());
  EXPECT_FALSE(ParseUrl("http://:80").ok());
  EXPECT_FALSE(ParseUrl("http://h:80x").ok());
}

}  // namespace
}  // namespace medscribe::gateway

namespace medscribe::gateway {
namespace {

// Runs one exchange on the test's io_context (a client's pooled connections belong to it).
Outcome Exchange(UpstreamClient& c, const Address& to, const UpstreamRequest& req,
                 ResponseSink& sink) {
  static boost::asio::io_context io;
  io.restart();
  Outcome o = Outcome::kNotSent;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { o = co_await c.Exchange(to, req, sink); },
      boost::asio::detached);
  io.run();
  return o;
}

class StreamSink : public ResponseSink {
 public:
  void Head(int s, const std::string&, bool st) override {
    status = s;
    streamed = st;
  }
  bool Data(std::string c) override {
    chunks.push_back(std::move(c));
    return true;
  }
  void End() override { ended = true; }
  int status = 0;
  bool streamed = false, ended = false;
  std::vector<std::string> chunks;
};

TEST(Upstream, MutualTlsStreamingAndEarlyRefusal) {
  const fs::path dir = TempDir("mtls");
  auto pki = EnsureLocalPki(dir);
  ASSERT_TRUE(pki.ok()) << pki.status().message();
  serve::HttpServer server([](serve::HttpRequest req, std::shared_ptr<serve::Responder> res) {
    if (req.path == "/stream") {
      res->Begin(200, "text/event-stream");
      res->Write("data: 1\n\n");
      res->Write("data: 2\n\n");
      res->End();
      return;
    }
    res->Send(200, "application/json", "{\"echo\":" + std::to_string(req.body.size()) + "}");
  });
  server.SetHeaderCheck([](const serve::HttpRequest& head) {
    serve::EarlyReject r;
    if (head.header("x-deny") == "1") {
      r.status = 401;
      r.body = "{}";
    }
    return r;
  });
  ASSERT_TRUE(
      server.EnableTls({pki->server_cert.string(), pki->server_key.string(), pki->ca_cert.string()})
          .ok());
  ASSERT_TRUE(server.Start("127.0.0.1", 0, 1).ok());
  const Address to{"127.0.0.1", server.port(), true};

  ClientTlsOptions with_cert{pki->ca_cert.string(), pki->client_cert.string(),
                             pki->client_key.string()};
  auto client = UpstreamClient::Create(&with_cert);
  ASSERT_TRUE(client.ok());
  UpstreamRequest req;
  req.method = "POST";
  req.target = "/x";
  req.body = std::string(1000, 'a');
  BufferSink plain;
  EXPECT_EQ(Exchange(**client, to, req, plain), Outcome::kOk);
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, "{\"echo\":1000}");
  StreamSink stream;
  req.target = "/stream";
  EXPECT_EQ(Exchange(**client, to, req, stream), Outcome::kOk);
  EXPECT_TRUE(stream.streamed);
  EXPECT_TRUE(stream.ended);
  std::string all;
  for (const auto& c : stream.chunks) all += c;
  EXPECT_EQ(all, "data: 1\n\ndata: 2\n\n");
  // Refused before the body is read.
  req.headers = {{"x-deny", "1"}};
  BufferSink denied;
  EXPECT_EQ(Exchange(**client, to, req, denied), Outcome::kOk);
  EXPECT_EQ(denied.status, 401);

  // Without a client certificate the server refuses the connection (with TLS 1.3 the client
  // learns it only when it reads): no response, never a 200.
  ClientTlsOptions no_cert{pki->ca_cert.string(), "", ""};
  auto anonymous = UpstreamClient::Create(&no_cert);
  ASSERT_TRUE(anonymous.ok());
  BufferSink refused;
  req.headers.clear();
  const Outcome o = Exchange(**anonymous, to, req, refused);
  EXPECT_TRUE(o == Outcome::kNotSent || o == Outcome::kNoResponse) << OutcomeName(o);
  EXPECT_EQ(refused.status, 0);
  // Nobody listening: not sent either (safe to retry elsewhere).
  server.Stop();
  server.Wait();
  auto fresh = UpstreamClient::Create(&with_cert);  // no pooled connection
  ASSERT_TRUE(fresh.ok());
  BufferSink gone;
  EXPECT_EQ(Exchange(**fresh, to, req, gone), Outcome::kNotSent);
}

// The whole gateway without replicas or waiting: a scripted upstream, a fake clock, requests
// handed to Serve() as if they had arrived on the socket.
class GatewayHermetic : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("hermetic");
    auto c = ParseGatewayConfig(Yaml("stable", "10.0.0.1"), dir_, dir_);
    ASSERT_TRUE(c.ok()) << c.status().message();
    upstream_ = std::make_shared<testing::ScriptedUpstream>();
    upstream_->Always("10.0.0.1:9000", testing::Answer{});
    upstream_->Always("10.0.0.2:9000", testing::Answer{});
    auto g = Gateway::Create(*c, GatewayOverrides{upstream_, &clock_});
    ASSERT_TRUE(g.ok()) << g.status().message();
    gateway_ = std::move(*g);
    ASSERT_TRUE(gateway_->Start().ok());
    auto dev = serve::DevIssuer::LoadOrCreate((dir_ / "keys" / "dev_issuer.pem").string(),
                                              "https://medscribe.local/dev-issuer");
    ASSERT_TRUE(dev.ok());
    auto t = dev->Issue("u1", "radiologist", "radiology", "medscribe", 600, clock_.UnixSeconds());
    ASSERT_TRUE(t.ok());
    token_ = *t;
  }
  void TearDown() override {
    gateway_.reset();
    fs::remove_all(dir_);
  }
  static std::string Yaml(const std::string& deployment, const std::string& host) {
    return "listen: 127.0.0.1:0\ntls: {mode: \"off\"}\n"
           "limits: {rate_per_address: {rps: 1, burst: 3}}\n"
           "endpoints:\n  - name: reports\n    paths: [/v1/reports:generate]\n"
           "    deployments:\n      - {name: " +
           deployment + ", weight: 1, replicas: [\"http://" + host + ":9000\"]}\n";
  }
  std::shared_ptr<testing::RecordingResponder> Send(const std::string& token,
                                                    const std::string& remote = "10.9.9.9") {
    serve::HttpRequest req;
    req.method = "POST";
    req.path = req.target = "/v1/reports:generate";
    if (!token.empty()) req.headers["authorization"] = "Bearer " + token;
    req.headers["content-type"] = "application/json";
    req.body =
        R"({"sample":{"encounter_id":"E1","patient_id":"P1","meta":{"department":"radiology"}}})";
    req.remote = remote;
    auto res = std::make_shared<testing::RecordingResponder>();
    gateway_->Serve(std::move(req), res);
    res->Wait();
    return res;
  }
  std::vector<nlohmann::json> AuditRecords() {
    std::vector<nlohmann::json> out;
    std::ifstream in(dir_ / "audit" / "gateway.log");
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  fs::path dir_;
  testing::FakeClock clock_;
  std::shared_ptr<testing::ScriptedUpstream> upstream_;
  std::unique_ptr<Gateway> gateway_;
  std::string token_;
};

TEST_F(GatewayHermetic, ForwardsAuditsAndFollowsAReload) {
  auto res = Send("");
  EXPECT_EQ(res->status(), 401);
  res = Send(token_);
  EXPECT_EQ(res->status(), 200);
  EXPECT_EQ(res->header("x-medscribe-deployment"), "stable");
  EXPECT_EQ(res->header("Cache-Control"), "no-store");
  ASSERT_EQ(upstream_->requests().size(), 1u);
  EXPECT_EQ(upstream_->requests()[0].to, "10.0.0.1:9000");
  auto records = AuditRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["status"], 401);
  EXPECT_EQ(records[1]["status"], 200);
  EXPECT_EQ(records[1]["deployment"], "stable");

  auto c = ParseGatewayConfig(Yaml("canary", "10.0.0.2"), dir_, dir_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(gateway_->Reload(*c).ok());
  clock_.Advance(std::chrono::seconds(10));
  res = Send(token_);
  EXPECT_EQ(res->status(), 200);
  EXPECT_EQ(res->header("x-medscribe-deployment"), "canary");
  EXPECT_EQ(upstream_->requests().back().to, "10.0.0.2:9000");
}

TEST_F(GatewayHermetic, TheAddressLimitIsCheckedFirstAndRefillsOnTheClock) {
  EXPECT_EQ(Send("", "10.1.1.1")->status(), 401);
  EXPECT_EQ(Send("garbage-token", "10.1.1.1")->status(), 401);
  EXPECT_EQ(Send(token_, "10.1.1.1")->status(), 200);
  auto res = Send(token_, "10.1.1.1");
  EXPECT_EQ(res->status(), 429) << "burst 3 per address, whatever the token";
  EXPECT_FALSE(res->header("Retry-After").empty());
  EXPECT_EQ(Send(token_, "10.2.2.2")->status(), 200) << "other addresses are not affected";
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Send(token_, "10.1.1.1")->status(), 200);
  EXPECT_EQ(upstream_->requests().size(), 3u);
}

}  // namespace
}  // namespace medscribe::gateway
