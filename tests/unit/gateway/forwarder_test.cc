// Routing, ejection, health checks and forwarding with retry, hermetically: a scripted upstream
// instead of replicas and a clock that moves only when told.
#include "gateway/forwarder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes.h"
#include "gateway/routing.h"

namespace medscribe::gateway {
namespace {

using testing::Answer;
using testing::FakeClock;
using testing::RecordingResponder;
using testing::RunSync;
using testing::ScriptedUpstream;

Deployment Dep(const std::string& name, double weight, std::vector<std::string> urls) {
  Deployment d;
  d.name = name;
  d.weight = weight;
  d.replicas = std::move(urls);
  return d;
}

Endpoint Ep(std::vector<Deployment> deps) {
  Endpoint e;
  e.name = "reports";
  e.paths = {"/v1/reports:generate"};
  e.deployments = std::move(deps);
  return e;
}

struct Bench {
  FakeClock clock;
  ScriptedUpstream upstream;
  GatewayMetrics metrics;
  ReplicaSet replicas;
  std::unique_ptr<RoutingTable> table;
  Forwarder forwarder{upstream, metrics, clock};
  EjectionPolicy ejection{3, std::chrono::milliseconds(10000)};

  explicit Bench(std::vector<Endpoint> endpoints) {
    auto t = RoutingTable::Build(endpoints, {}, replicas);
    EXPECT_TRUE(t.ok()) << t.status().message();
    table = std::move(*t);
  }
  EndpointRoute& ep() { return *table->Find("/v1/reports:generate"); }
  std::pair<ForwardResult, std::shared_ptr<RecordingResponder>> Forward(AuditHook audit = {}) {
    auto res = std::make_shared<RecordingResponder>();
    UpstreamRequest up;
    up.method = "POST";
    up.target = "/v1/reports:generate";
    up.body = "{}";
    ForwardResult r =
        RunSync(forwarder.Forward(ep(), ejection, up, res, {{"x-request-id", "r1"}}, audit));
    return {r, res};
  }
  std::shared_ptr<Replica> replica(const std::string& url) {
    return replicas.Get(url, *ParseUrl(url));
  }
};

const std::string kA = "http://10.0.0.1:9000", kB = "http://10.0.0.2:9000",
                  kC = "http://10.0.0.3:9000";

TEST(Routing, WeightsShareTrafficExactlyAndReplicasByLoad) {
  Bench b({Ep({Dep("stable", 3, {kA}), Dep("canary", 1, {kB})})});
  std::map<std::string, int> picks;
  for (int i = 0; i < 400; ++i) ++picks[PickDeployment(b.ep(), nullptr, 0)->name];
  EXPECT_EQ(picks["stable"], 300);
  EXPECT_EQ(picks["canary"], 100);

  Bench two({Ep({Dep("stable", 1, {kA, kB})})});
  DeploymentRoute& d = *two.ep().deployments[0];
  two.replica(kA)->outstanding = 5;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(PickReplica(d, nullptr, 0)->url, kB);
  two.replica(kB)->ejected_until = 1'000;  // out of rotation until t=1000
  EXPECT_EQ(PickReplica(d, nullptr, 500)->url, kA);
  EXPECT_EQ(PickReplica(d, nullptr, 1000)->url, kB);
}

TEST(Routing, ReplicaStateSurvivesAReloadAndOldTablesStayUsable) {
  FakeClock clock;
  ReplicaSet replicas;
  auto first = RoutingTable::Build({Ep({Dep("stable", 1, {kA})})}, {}, replicas);
  ASSERT_TRUE(first.ok());
  auto a = (*first)->Find("/v1/reports:generate")->deployments[0]->replicas[0];
  EXPECT_TRUE(RecordFailure(*a, true, {}, clock.SteadyMs()));
  auto second = RoutingTable::Build({Ep({Dep("renamed", 2, {kA, kB})})}, {}, replicas);
  ASSERT_TRUE(second.ok());
  auto& dep = *(*second)->Find("/v1/reports:generate")->deployments[0];
  EXPECT_EQ(dep.replicas[0].get(), a.get()) << "the same replica object across reloads";
  EXPECT_FALSE(dep.replicas[0]->available(clock.SteadyMs()));
  EXPECT_EQ((*second)->Down(clock.SteadyMs()).size(), 0u);  // kB is up
  EXPECT_EQ((*first)->Down(clock.SteadyMs()), std::vector<std::string>{"reports"});

  // A path routed twice, and a local deployment that appeared on reload, are refused.
  Endpoint dup = Ep({Dep("x", 1, {kA})});
  EXPECT_EQ(RoutingTable::Build({dup, dup}, {}, replicas).status().code(),
            ErrorCode::kInvalidArgument);
  Endpoint local = Ep({Dep("l", 1, {})});
  local.deployments[0].local.model = "tiny";
  EXPECT_EQ(RoutingTable::Build({local}, {}, replicas).status().code(),
            ErrorCode::kFailedPrecondition);
}

TEST(Routing, EjectionAfterErrorsEndsWithTimeAndHealthChecksReadmit) {
  FakeClock clock;
  ScriptedUpstream upstream;
  ReplicaSet replicas;
  auto r = replicas.Get(kA, *ParseUrl(kA));
  const EjectionPolicy policy{3, std::chrono::milliseconds(10000)};
  EXPECT_FALSE(RecordFailure(*r, false, policy, clock.SteadyMs()));
  EXPECT_FALSE(RecordFailure(*r, false, policy, clock.SteadyMs()));
  EXPECT_TRUE(r->available(clock.SteadyMs())) << "two errors in a row: still in rotation";
  EXPECT_TRUE(RecordFailure(*r, false, policy, clock.SteadyMs()));
  EXPECT_FALSE(r->available(clock.SteadyMs()));
  clock.Advance(std::chrono::milliseconds(9999));
  EXPECT_FALSE(r->available(clock.SteadyMs()));
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(r->available(clock.SteadyMs())) << "passive ejection ends after eject_for";

  // A refused connection takes it out until a health check admits it again.
  EXPECT_TRUE(RecordFailure(*r, true, policy, clock.SteadyMs()));
  clock.Advance(std::chrono::milliseconds(20000));
  EXPECT_FALSE(r->available(clock.SteadyMs()));
  RunSync(CheckHealth(upstream, replicas, std::chrono::milliseconds(100), clock));
  EXPECT_FALSE(r->available(clock.SteadyMs())) << "nothing answers /readyz yet";
  upstream.Always("10.0.0.1:9000", Answer{});
  RunSync(CheckHealth(upstream, replicas, std::chrono::milliseconds(100), clock));
  EXPECT_TRUE(r->available(clock.SteadyMs()));
  EXPECT_EQ(r->model(), "tiny@1") << "the model named by /readyz";
  EXPECT_EQ(r->errors.load(), 0);
}

TEST(Forwarder, ARequestThatNeverReachedAModelGoesToAnotherReplicaOnce) {
  Bench b({Ep({Dep("stable", 1, {kA, kB})})});
  b.upstream.Then(Answer{Outcome::kNotSent});
  b.upstream.Then(Answer{});
  auto [r, res] = b.Forward();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(res->status(), 200);
  EXPECT_EQ(res->answers(), 1);
  ASSERT_EQ(b.upstream.requests().size(), 2u);
  EXPECT_NE(b.upstream.requests()[0].to, b.upstream.requests()[1].to);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(b.metrics.retries(), 1u);
  EXPECT_EQ(b.metrics.ejections(), 1u) << "the refusing replica leaves rotation";
  EXPECT_EQ(res->header("x-medscribe-deployment"), "stable");
  EXPECT_EQ(res->header("x-request-id"), "r1");
}

TEST(Forwarder, AtMostOneRetryThen503WithRetryAfter) {
  Bench b({Ep({Dep("stable", 1, {kA, kB, kC})})});
  for (int i = 0; i < 3; ++i) b.upstream.Then(Answer{Outcome::kNotSent});
  int audited = 0;
  auto [r, res] = b.Forward(
      [&](int status, const std::string& outcome, const std::string&, const std::string&) {
        ++audited;
        EXPECT_EQ(status, 503);
        EXPECT_EQ(outcome, "no replica available");
        return true;
      });
  EXPECT_EQ(res->status(), 503);
  EXPECT_EQ(res->header("Retry-After"), "1");
  EXPECT_EQ(b.upstream.requests().size(), 2u) << "a third replica is never tried";
  EXPECT_EQ(audited, 1);
}

TEST(Forwarder, WhatMayHaveReachedAModelIsNeverSentTwice) {
  for (Outcome o : {Outcome::kNoResponse, Outcome::kTimeout, Outcome::kBroken}) {
    Bench b({Ep({Dep("stable", 1, {kA, kB})})});
    Answer a;
    a.outcome = o;
    b.upstream.Then(a);
    b.upstream.Then(Answer{});
    auto [r, res] = b.Forward();
    EXPECT_EQ(b.upstream.requests().size(), 1u) << OutcomeName(o);
    EXPECT_EQ(res->status(), o == Outcome::kTimeout ? 504 : 502) << OutcomeName(o);
  }
}

TEST(Forwarder, ADrainingReplicas503IsHeldBackAndTheNextAnswers) {
  Bench b({Ep({Dep("stable", 1, {kA, kB})})});
  Answer draining;
  draining.status = 503;
  draining.chunks = {R"({"error":{"message":"draining"}})"};
  b.upstream.Then(draining);
  b.upstream.Then(Answer{});
  auto [r, res] = b.Forward();
  EXPECT_EQ(res->status(), 200);
  EXPECT_EQ(res->answers(), 1) << "the client never sees the 503";
  const std::string drained = b.upstream.requests()[0].to;
  EXPECT_FALSE(b.replica("http://" + drained)->available(b.clock.SteadyMs()))
      << "the draining replica leaves rotation until its health check";
}

TEST(Forwarder, TheRetryMovesToAnotherDeploymentWhenItsOwnHasNoReplicaLeft) {
  Bench b({Ep({Dep("stable", 1, {kA}), Dep("canary", 1, {kB})})});
  b.upstream.Then(Answer{Outcome::kNotSent});
  b.upstream.Then(Answer{});
  auto [r, res] = b.Forward();
  ASSERT_EQ(b.upstream.requests().size(), 2u);
  EXPECT_NE(b.upstream.requests()[0].to, b.upstream.requests()[1].to);
  EXPECT_EQ(res->status(), 200);
  EXPECT_EQ(res->header("x-medscribe-deployment"),
            b.upstream.requests()[1].to == "10.0.0.1:9000" ? "stable" : "canary");
}

TEST(Forwarder, NothingLeavesUnauditedAndStreamsPassThrough) {
  Bench b({Ep({Dep("stable", 1, {kA})})});
  b.replica(kA)->set_model("tiny@7");
  b.upstream.Then(Answer{});
  std::string seen;
  auto [r, res] = b.Forward(
      [&](int status, const std::string&, const std::string& deployment, const std::string& model) {
        seen = std::to_string(status) + " " + deployment + " " + model;
        return false;  // the audit log is down
      });
  EXPECT_EQ(seen, "200 stable tiny@7");
  EXPECT_EQ(res->status(), 500);
  EXPECT_NE(res->body().find("audit log"), std::string::npos);
  EXPECT_EQ(res->body().find("FINDINGS"), std::string::npos) << "the answer is withheld";

  Answer sse;
  sse.streamed = true;
  sse.chunks = {"data: {\"delta\":\"FIND\"}\n\n", "data: [DONE]\n\n"};
  b.upstream.Then(sse);
  auto [r2, res2] = b.Forward();
  EXPECT_TRUE(res2->streamed());
  EXPECT_EQ(res2->body(), "data: {\"delta\":\"FIND\"}\n\ndata: [DONE]\n\n");
}

TEST(Forwarder, RepeatedServerErrorsEjectTheReplica) {
  Bench b({Ep({Dep("stable", 1, {kA, kB})})});
  Answer err;
  err.status = 500;
  b.upstream.Always("10.0.0.1:9000", err);
  b.upstream.Always("10.0.0.2:9000", Answer{});
  int errors = 0;
  for (int i = 0; i < 20; ++i) errors += b.Forward().second->status() == 500;
  EXPECT_EQ(errors, 3) << "after 3 errors in a row the replica leaves rotation";
  EXPECT_FALSE(b.replica(kA)->available(b.clock.SteadyMs()));
  b.clock.Advance(std::chrono::milliseconds(10000));
  EXPECT_TRUE(b.replica(kA)->available(b.clock.SteadyMs()));
}

TEST(Forwarder, CallCollectsTheAnswerWithTheSameRetry) {
  Bench b({Ep({Dep("stable", 1, {kA, kB})})});
  b.replica(kA)->set_model("tiny@3");
  b.replica(kB)->set_model("tiny@3");
  b.upstream.Then(Answer{Outcome::kNotSent});
  b.upstream.Then(Answer{});
  UpstreamRequest up;
  up.target = "/v1/reports:generate";
  auto c = RunSync(b.forwarder.Call(b.ep(), b.ejection, up, {}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->status, 200);
  EXPECT_EQ(c->model, "tiny@3");
  EXPECT_NE(c->body.find("FINDINGS"), std::string::npos);

  b.upstream.Then(Answer{Outcome::kTimeout});
  c = RunSync(b.forwarder.Call(b.ep(), b.ejection, up, {}));
  EXPECT_EQ(c.status().code(), ErrorCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace medscribe::gateway
