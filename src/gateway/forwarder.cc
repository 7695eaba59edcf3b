#include "gateway/forwarder.h"

#include "serve/error_body.h"

namespace medscribe::gateway {
namespace {

using serve::ErrorBody;

// Forwards a replica's response to the client; holds back a 503 of a first attempt (the replica
// is draining or not ready: the request never reached a model and goes to another replica).
class ForwardSink final : public ResponseSink {
 public:
  // `before_head(status)` runs before the response starts (the audit record); false turns the
  // response into a 500.
  ForwardSink(std::shared_ptr<serve::Responder> res, std::function<bool(int)> before_head,
              std::map<std::string, std::string> headers, bool hold_503)
      : res_(std::move(res)),
        before_head_(std::move(before_head)),
        headers_(std::move(headers)),
        hold_503_(hold_503) {}
  void Head(int status, const std::string& type, bool streamed) override {
    status_ = status;
    type_ = type;
    streamed_ = streamed;
    if (status == 503 && hold_503_) {
      held_ = true;
      return;
    }
    if (streamed_) {
      started_ = true;
      if (!before_head_(status)) {
        refused_ = true;
        SendUnrecorded();
        return;
      }
      res_->Begin(status, type, headers_);
    }
  }
  bool Data(std::string chunk) override {
    if (refused_) return false;
    if (held_) return true;
    if (streamed_) return res_->Write(std::move(chunk));
    if (body_.size() + chunk.size() > (256u << 20)) return false;
    body_ += chunk;
    return true;
  }
  void End() override {
    if (held_) return;
    if (streamed_) {
      if (!refused_) res_->End();
    } else {
      started_ = true;
      if (before_head_(status_)) {
        res_->Send(status_, type_, std::move(body_), headers_);
      } else {
        SendUnrecorded();
      }
    }
    ended_ = true;
  }
  // After a broken exchange: finishes whatever was started.
  void Abort() {
    if (started_ && streamed_ && !ended_ && !refused_) res_->End();
  }
  bool held() const { return held_; }
  bool started() const { return started_; }
  int status() const { return status_; }

 private:
  void SendUnrecorded() {
    res_->Send(500, "application/json",
               ErrorBody(500, "the audit log cannot be written; the answer is withheld"), headers_);
  }
  std::shared_ptr<serve::Responder> res_;
  std::function<bool(int)> before_head_;
  std::map<std::string, std::string> headers_;
  bool hold_503_;
  int status_ = 0;
  std::string type_, body_;
  bool streamed_ = false, held_ = false, started_ = false, ended_ = false, refused_ = false;
};

class DiscardSink final : public ResponseSink {
 public:
  void Head(int s, const std::string&, bool) override { status = s; }
  bool Data(std::string) override { return true; }
  void End() override {}
  int status = 0;
};

// Keeps a plain answer; hands a streamed 200 answer to `on_data` piece by piece.
class CallSink final : public ResponseSink {
 public:
  explicit CallSink(const std::function<bool(std::string_view)>& on_data) : on_data_(on_data) {}
  void Head(int status, const std::string&, bool streamed) override {
    c.status = status;
    c.streamed = streamed && status == 200 && on_data_;
  }
  bool Data(std::string chunk) override {
    if (c.streamed) return on_data_(chunk);
    if (c.body.size() + chunk.size() > (64u << 20)) return false;
    c.body += chunk;
    return true;
  }
  void End() override {}
  Forwarder::Called c;

 private:
  const std::function<bool(std::string_view)>& on_data_;
};

std::string OutcomeLabel(Outcome o, int status) {
  return o == Outcome::kOk ? std::to_string(status) : OutcomeName(o);
}

// Counts a replica's request as outstanding for the lifetime of the guard.
struct Outstanding {
  explicit Outstanding(Replica& r) : r_(r) { ++r_.outstanding; }
  ~Outstanding() { --r_.outstanding; }
  Replica& r_;
};

}  // namespace

Forwarder::Forwarder(Upstream& upstream, GatewayMetrics& metrics, const Clock& clock)
    : upstream_(upstream), metrics_(metrics), clock_(clock) {}

void Forwarder::Failed(Replica& r, bool connect_failure, const EjectionPolicy& ejection) {
  if (RecordFailure(r, connect_failure, ejection, clock_.SteadyMs())) metrics_.Ejection();
}

double Forwarder::Uniform() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::uniform_real_distribution<double>(0, 1)(rng_);
}

std::shared_ptr<Replica> Forwarder::Next(EndpointRoute& ep, DeploymentRoute*& dep,
                                         const Replica& failed) {
  const int64_t now = clock_.SteadyMs();
  std::shared_ptr<Replica> next = PickReplica(*dep, &failed, now);
  if (next && next->available(now)) return next;
  if (DeploymentRoute* other = PickDeployment(ep, dep, now)) {
    if (auto r = PickReplica(*other, nullptr, now); r && r->available(now)) {
      dep = other;
      return r;
    }
  }
  return next;
}

asio::awaitable<void> Forwarder::Mirror(std::shared_ptr<Replica> r, std::string deployment,
                                        UpstreamRequest up) {
  DiscardSink sink;
  Outcome o;
  {
    Outstanding counted(*r);
    o = co_await upstream_.Exchange(r->addr, up, sink);
  }
  metrics_.Mirrored();
  metrics_.Upstream(deployment + "(mirror)", OutcomeLabel(o, sink.status));
}

asio::awaitable<ForwardResult> Forwarder::Forward(EndpointRoute& ep, EjectionPolicy ejection,
                                                  UpstreamRequest up,
                                                  std::shared_ptr<serve::Responder> res,
                                                  std::map<std::string, std::string> headers,
                                                  AuditHook audit) {
  ForwardResult result;
  DeploymentRoute* dep = PickDeployment(ep, nullptr, clock_.SteadyMs());
  if (dep == nullptr) {
    result.status = 503;
    res->Send(503, "application/json",
              ErrorBody(503, "endpoint '" + ep.name + "' has no deployment with weight"));
    co_return result;
  }
  // A copy for the mirror deployment, answered nowhere.
  if (ep.mirror >= 0 && ep.deployments[static_cast<size_t>(ep.mirror)].get() != dep &&
      Uniform() * 100 < ep.mirror_percent) {
    DeploymentRoute& m = *ep.deployments[static_cast<size_t>(ep.mirror)];
    if (auto r = PickReplica(m, nullptr, clock_.SteadyMs()))
      asio::co_spawn(co_await asio::this_coro::executor, Mirror(r, m.name, up), asio::detached);
  }
  std::shared_ptr<Replica> replica = PickReplica(*dep, nullptr, clock_.SteadyMs());
  bool done = false;
  for (int attempt = 0; attempt < 2 && !done && replica; ++attempt) {
    const std::string model = replica->model();
    const std::string deployment = dep->name;
    auto before_head = [&](int st) {
      result.status = st;
      if (!audit) return true;
      if (audit(st, st < 400 ? "ok" : "model server error", deployment, model)) return true;
      result.status = 500;
      return false;
    };
    std::map<std::string, std::string> h = headers;
    h["x-medscribe-deployment"] = deployment;
    ForwardSink sink(res, before_head, h, /*hold_503=*/attempt == 0);
    const int64_t u0 = clock_.SteadyMs();
    Outcome o;
    {
      Outstanding counted(*replica);
      o = co_await upstream_.Exchange(replica->addr, up, sink);
    }
    const double took = static_cast<double>(clock_.SteadyMs() - u0) / 1000.0;
    metrics_.upstream_latency.Observe(took);
    metrics_.UpstreamTime(deployment, took);
    ++result.attempts;
    result.deployment = deployment;
    result.replica = replica->addr.key();
    result.outcome = OutcomeLabel(o, sink.status());
    metrics_.Upstream(deployment, result.outcome);
    const bool retryable = o == Outcome::kNotSent || (o == Outcome::kOk && sink.held());
    if (retryable) {
      if (o == Outcome::kNotSent) {
        Failed(*replica, /*connect_failure=*/true, ejection);
      } else {
        replica->ready = false;  // draining: until the health check says otherwise
      }
      if (attempt == 0) metrics_.Retry();
      replica = Next(ep, dep, *replica);
      continue;
    }
    done = true;
    if (o == Outcome::kOk) {
      if (sink.status() >= 500) {
        Failed(*replica, /*connect_failure=*/false, ejection);
      } else {
        RecordSuccess(*replica);
      }
    } else if (o == Outcome::kReceiverGone) {
      // The client left mid-stream (or the body passed 256 MiB): not the replica's fault. The
      // response must still end, or the connection would wait for it forever.
      if (sink.started()) {
        sink.Abort();
      } else {
        result.status = 502;
        res->Send(502, "application/json",
                  ErrorBody(502, "the model replica's answer is larger than the gateway forwards"),
                  h);
      }
    } else {
      Failed(*replica, /*connect_failure=*/false, ejection);
      if (sink.started()) {
        sink.Abort();
      } else {
        const int st = o == Outcome::kTimeout ? 504 : 502;
        before_head(st);
        result.status = st;
        res->Send(st, "application/json",
                  ErrorBody(st, o == Outcome::kTimeout
                                    ? "the model replica did not answer in time"
                                    : "the model replica failed while answering; the request "
                                      "may be retried"),
                  h);
      }
    }
  }
  if (!done) {
    result.status = 503;
    if (audit) audit(503, "no replica available", dep->name, "");
    res->Send(503, "application/json",
              ErrorBody(503, "no replica of endpoint '" + ep.name +
                                 "' could take the request; retry later"),
              {{"Retry-After", "1"}});
  }
  co_return result;
}

asio::awaitable<StatusOr<Forwarder::Called>> Forwarder::Call(
    EndpointRoute& ep, EjectionPolicy ejection, UpstreamRequest up,
    std::function<bool(std::string_view)> on_data) {
  DeploymentRoute* dep = PickDeployment(ep, nullptr, clock_.SteadyMs());
  std::shared_ptr<Replica> replica = dep ? PickReplica(*dep, nullptr, clock_.SteadyMs()) : nullptr;
  for (int attempt = 0; attempt < 2 && replica; ++attempt) {
    CallSink sink(on_data);
    Outcome o;
    {
      Outstanding counted(*replica);
      o = co_await upstream_.Exchange(replica->addr, up, sink);
    }
    metrics_.Upstream(dep->name, OutcomeLabel(o, sink.c.status));
    if (o == Outcome::kNotSent || (o == Outcome::kOk && sink.c.status == 503 && attempt == 0)) {
      if (o == Outcome::kNotSent) {
        Failed(*replica, /*connect_failure=*/true, ejection);
      } else {
        replica->ready = false;
      }
      if (attempt == 0) metrics_.Retry();
      replica = Next(ep, dep, *replica);
      continue;
    }
    if (o != Outcome::kOk) {
      Failed(*replica, /*connect_failure=*/false, ejection);
      co_return o == Outcome::kTimeout
          ? DeadlineExceededError("the model replica did not answer in time")
          : UnavailableError("the model replica failed while drafting");
    }
    if (sink.c.status >= 500) {
      Failed(*replica, /*connect_failure=*/false, ejection);
    } else {
      RecordSuccess(*replica);
    }
    Called c = std::move(sink.c);
    c.model = replica->model();
    co_return c;
  }
  co_return UnavailableError("no model replica could take the draft; retry later");
}

}  // namespace medscribe::gateway
