// Test doubles for the gateway's seams: a clock that moves only when told, an upstream that
// answers from a script instead of a network, and a responder that records the answer.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/clock.h"
#include "gateway/upstream.h"
#include "serve/http_server.h"

namespace medscribe::gateway::testing {

class FakeClock final : public Clock {
 public:
  int64_t SteadyMs() const override { return ms_.load(); }
  int64_t UnixSeconds() const override { return kUnixStart + ms_.load() / 1000; }
  void Advance(std::chrono::milliseconds d) { ms_ += d.count(); }
  static constexpr int64_t kUnixStart = 1'800'000'000;

 private:
  std::atomic<int64_t> ms_{1'000'000};
};

// One scripted exchange.
struct Answer {
  Outcome outcome = Outcome::kOk;  // kOk: a complete response; kBroken: cut after the chunks
  int status = 200;
  std::vector<std::string> chunks = {R"({"report":"FINDINGS: Clear."})"};
  bool streamed = false;
};

// Answers exchanges from a queue in call order; with the queue empty, from the per-address
// default, else kNotSent (as if nothing listened). Records every exchange.
class ScriptedUpstream final : public Upstream {
 public:
  struct Call {
    std::string to, method, target, body;
  };
  void Then(Answer a) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(a));
  }
  void Always(const std::string& host_port, Answer a) {
    std::lock_guard<std::mutex> lock(mu_);
    defaults_[host_port] = std::move(a);
  }
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  // Exchanges other than health checks.
  std::vector<Call> requests() const {
    std::vector<Call> out;
    for (auto& c : calls())
      if (c.target != "/readyz") out.push_back(c);
    return out;
  }

  asio::awaitable<Outcome> Exchange(const Address& to, const UpstreamRequest& req,
                                    ResponseSink& sink) override {
    Answer a;
    a.outcome = Outcome::kNotSent;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back({to.key(), req.method, req.target, req.body});
      if (req.target == "/readyz") {
        auto it = defaults_.find(to.key());
        a = it != defaults_.end() ? it->second : a;
        if (a.outcome == Outcome::kOk) a.chunks = {R"({"status":"ready","model":"tiny@1"})"};
      } else if (!queue_.empty()) {
        a = queue_.front();
        queue_.pop_front();
      } else if (auto it = defaults_.find(to.key()); it != defaults_.end()) {
        a = it->second;
      }
    }
    if (a.outcome == Outcome::kNotSent || a.outcome == Outcome::kNoResponse ||
        a.outcome == Outcome::kTimeout)
      co_return a.outcome;
    sink.Head(a.status, "application/json", a.streamed);
    for (auto& c : a.chunks)
      if (!sink.Data(c)) co_return Outcome::kReceiverGone;
    if (a.outcome == Outcome::kBroken) co_return Outcome::kBroken;
    sink.End();
    co_return Outcome::kOk;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Answer> queue_;
  std::map<std::string, Answer> defaults_;
  std::vector<Call> calls_;
};

// Records the one answer a request gets; Wait() blocks until it is complete.
class RecordingResponder final : public serve::Responder {
 public:
  void Send(int status, std::string, std::string body,
            std::map<std::string, std::string> headers) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++sends_;
    status_ = status;
    body_ = std::move(body);
    headers_ = std::move(headers);
    done_ = true;
    cv_.notify_all();
  }
  void Begin(int status, std::string, std::map<std::string, std::string> headers) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++sends_;
    status_ = status;
    headers_ = std::move(headers);
    streamed_ = true;
  }
  bool Write(std::string chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    body_ += chunk;
    return true;
  }
  void End() override {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  // The status (0 when nothing came within 30 s).
  int Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return done_; });
    return done_ ? status_ : 0;
  }
  int status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  std::string body() const {
    std::lock_guard<std::mutex> lock(mu_);
    return body_;
  }
  std::string header(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }
  int answers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sends_;
  }
  bool streamed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return streamed_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int status_ = 0, sends_ = 0;
  bool done_ = false, streamed_ = false;
  std::string body_;
  std::map<std::string, std::string> headers_;
};

// Runs `a` to completion on a private io_context and returns its value.
template <typename T>
T RunSync(asio::awaitable<T> a) {
  asio::io_context io;
  std::optional<T> out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(a)); }, asio::detached);
  io.run();
  return std::move(*out);
}
inline void RunSync(asio::awaitable<void> a) {
  asio::io_context io;
  asio::co_spawn(io, std::move(a), asio::detached);
  io.run();
}

}  // namespace medscribe::gateway::testing
