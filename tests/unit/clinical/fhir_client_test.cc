// The FHIR source against an in-process server on loopback: paging links are followed only on
// the configured base, because the service token goes with every request.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "clinical/sources.h"
#include "serve/http_server.h"

namespace medscribe::clinical {
namespace {

std::string Bundle(const std::string& encounter_id, const std::string& next) {
  std::string b = R"({"resourceType":"Bundle","type":"searchset","entry":[{"resource":)"
                  R"({"resourceType":"Encounter","id":")" +
                  encounter_id + R"(","status":"finished"}}])";
  if (!next.empty()) b += R"(,"link":[{"relation":"next","url":")" + next + R"("}])";
  return b + "}";
}

// A server that answers every request with `body(target)` and counts the requests that carried
// the service token.
class FakeFhir {
 public:
  explicit FakeFhir(std::function<std::string(const std::string&)> body)
      : server_([this, body](serve::HttpRequest req, std::shared_ptr<serve::Responder> res) {
          if (req.header("authorization") == "Bearer secret") ++with_token;
          res->Send(200, "application/fhir+json", body(req.target));
        }) {}
  Status Start() { return server_.Start("127.0.0.1", 0, 1); }
  ~FakeFhir() { server_.Stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  std::atomic<int> with_token{0};

 private:
  serve::HttpServer server_;
};

StatusOr<std::vector<std::string>> Find(const std::string& base) {
  ASSIGN_OR_RETURN(auto src,
                   OpenFhirServer({.base_url = base, .bearer_token = "secret", .ca_file = ""}));
  return src->FindEncounters("status=finished", 100);
}

TEST(FhirServer, FollowsPagingLinksOnItsBase) {
  std::string self;
  FakeFhir fhir([&](const std::string& target) {
    if (target.find("page=2") != std::string::npos) return Bundle("e2", "");
    return Bundle("e1", self + "/fhir?_getpages=x&page=2");
  });
  ASSERT_TRUE(fhir.Start().ok());
  self = fhir.url();
  auto found = Find(self + "/fhir");
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(*found, (std::vector<std::string>{"e1", "e2"}));
}

TEST(FhirServer, RefusesPagingLinksOffItsBaseAndNeverSendsThemTheToken) {
  FakeFhir elsewhere([](const std::string&) { return Bundle("stolen", ""); });
  ASSERT_TRUE(elsewhere.Start().ok());
  std::string next;
  FakeFhir fhir([&](const std::string&) { return Bundle("e1", next); });
  ASSERT_TRUE(fhir.Start().ok());
  const std::string other_port = elsewhere.url() + "/fhir?page=2";
  const std::string other_host =
      "http://localhost:" + fhir.url().substr(fhir.url().rfind(':') + 1) + "/fhir?page=2";
  const std::string other_path = fhir.url() + "/admin?page=2";
  const std::string climbing = fhir.url() + "/fhir/../admin?page=2";
  for (const std::string& link :
       {other_port, other_host, other_path, climbing, std::string("http://user@127.0.0.1/fhir")}) {
    next = link;
    auto found = Find(fhir.url() + "/fhir");
    ASSERT_FALSE(found.ok()) << link;
    EXPECT_NE(found.status().message().find("outside its base URL"), std::string::npos)
        << found.status().message();
  }
  EXPECT_EQ(elsewhere.with_token.load(), 0);
  EXPECT_EQ(fhir.with_token.load(), 5);
}

TEST(FhirServer, StopsAnEndlessSearch) {
  std::string self;
  FakeFhir fhir([&](const std::string&) { return Bundle("e", self + "/fhir?page=again"); });
  ASSERT_TRUE(fhir.Start().ok());
  self = fhir.url();
  auto found = Find(self + "/fhir");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(fhir.with_token.load(), 20);
}

TEST(FhirServer, RefusesABaseUrlWithUserInformation) {
  auto src = OpenFhirServer(
      {.base_url = "https://user:pw@fhir.example/r4", .bearer_token = "", .ca_file = ""});
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("user information"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::clinical

namespace medscribe::clinical {
namespace {

TEST(FhirServer, AnAmendmentIsAPutOfANewVersion) {
  std::string method, target, body;
  serve::HttpServer server([&](serve::HttpRequest req, std::shared_ptr<serve::Responder> res) {
    method = req.method;
    target = req.target;
    body = req.body;
    res->Send(200, "application/fhir+json",
              R"({"resourceType":"DiagnosticReport","id":"r1","meta":{"versionId":"2"}})");
  });
  ASSERT_TRUE(server.Start("127.0.0.1", 0, 1).ok());
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port()) + "/fhir";
  auto src = OpenFhirServer({.base_url = base, .bearer_token = "secret", .ca_file = ""});
  ASSERT_TRUE(src.ok());
  const std::string report = R"({"resourceType":"DiagnosticReport","id":"r1","status":"amended"})";
  auto loc = (*src)->Update("DiagnosticReport/r1", report);
  ASSERT_TRUE(loc.ok()) << loc.status().message();
  EXPECT_EQ(*loc, "DiagnosticReport/r1/_history/2");
  EXPECT_EQ(method, "PUT");
  EXPECT_EQ(target, "/fhir/DiagnosticReport/r1");
  EXPECT_EQ(body, report);
  // A location that is not Type/id never reaches the server.
  method.clear();
  EXPECT_EQ((*src)->Update("DiagnosticReport/../Patient/p1", report).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ((*src)->Update("https://elsewhere.example/x", report).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(method.empty());
  server.Stop();
}

}  // namespace
}  // namespace medscribe::clinical
