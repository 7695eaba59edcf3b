#include "common/url.h"

#include <gtest/gtest.h>

namespace medscribe {
namespace {

TEST(Url, ReadsSchemeHostPortAndTarget) {
  auto u = ParseHttpUrl("HTTPS://FHIR.Example.org:8443/r4/Patient?name=x#f");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "fhir.example.org");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/r4/Patient?name=x#f");
  EXPECT_EQ(u->path(), "/r4/Patient");
  EXPECT_EQ(u->origin(), "https://fhir.example.org:8443");
  auto d = ParseHttpUrl("http://h");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->target, "/");
  auto q = ParseHttpUrl("http://h?x=1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->target, "/?x=1");
  auto v6 = ParseHttpUrl("https://[::1]:9/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->origin(), "https://[::1]:9");
}

TEST(Url, RefusesWhatOtherParsersReadDifferently) {
  for (const char* bad :
       {"ftp://h/", "h/x", "http://", "http://:80/", "http://h:/", "http://h:0/", "http://h:65536/",
        "http://h:8x/", "http://user@evil.example/", "http://good.example@evil.example/",
        "http://h\\@evil/", "http://h x/", "http://h\r\n/", "http://[::1/", "http://[zz]/",
        "http://[::1]x/", "http://ho%73t/", "http://h\xc3\xa9/"}) {
    auto u = ParseHttpUrl(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_EQ(u.status().message().find('\r'), std::string::npos);
  }
}

TEST(Url, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.evil.example"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("localhost.example"));
}

TEST(Url, UnderItsBaseOnly) {
  const Url base = ParseHttpUrl("https://h.example/fhir").value();
  const auto under = [&](const char* s) { return IsUnder(ParseHttpUrl(s).value(), base); };
  EXPECT_TRUE(under("https://h.example/fhir"));
  EXPECT_TRUE(under("https://H.EXAMPLE:443/fhir?_getpages=abc&_page=2"));
  EXPECT_TRUE(under("https://h.example/fhir/Observation?page=2"));
  EXPECT_FALSE(under("http://h.example/fhir?page=2"));        // another scheme
  EXPECT_FALSE(under("https://h.example:8443/fhir?page=2"));  // another port
  EXPECT_FALSE(under("https://evil.example/fhir?page=2"));    // another host
  EXPECT_FALSE(under("https://h.example/fhirx?page=2"));
  EXPECT_FALSE(under("https://h.example/other"));
  EXPECT_FALSE(under("https://h.example/fhir/../admin"));
  EXPECT_FALSE(under("https://h.example/fhir/%2E%2E/admin"));
  const Url root = ParseHttpUrl("http://127.0.0.1:8080/").value();
  EXPECT_TRUE(IsUnder(ParseHttpUrl("http://127.0.0.1:8080/Patient?p=2").value(), root));
}

TEST(Url, SplitQuery) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(SplitQuery("a=1&b=&c&&d=x=y"), (Pairs{{"a", "1"}, {"b", ""}, {"c", ""}, {"d", "x=y"}}));
  EXPECT_TRUE(SplitQuery("").empty());
}

TEST(Url, QueryParamIsAnExactKeyOfTheQuery) {
  EXPECT_EQ(QueryParam("/fl/update?round=12&attempt=3", "attempt"), "3");
  EXPECT_EQ(QueryParam("/fl/update?round=12&attempt=3", "round"), "12");
  EXPECT_EQ(QueryParam("/fl/update?xround=1", "round"), "");  // not a substring match
  EXPECT_EQ(QueryParam("/fl/update", "round"), "");
  EXPECT_EQ(QueryParam("/p?a=1&a=2", "a"), "1");
}

TEST(Url, PercentDecode) {
  EXPECT_EQ(PercentDecode("Emergency%20Department"), "Emergency Department");
  EXPECT_EQ(PercentDecode("a+b%2Bc"), "a b+c");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
}

}  // namespace
}  // namespace medscribe
