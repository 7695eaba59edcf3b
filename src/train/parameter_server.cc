#include "train/parameter_server.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <string>

namespace medscribe::train {
namespace {

// Point-to-point tags of the protocol (apart from the pipeline's).
constexpr int kPushHeader = 9101, kPushGradients = 9102, kPullHeader = 9103, kPullWeights = 9104;

// The parameters' values (or gradients, zeros where undefined) as one flat float tensor.
torch::Tensor Flat(const std::vector<torch::Tensor>& params, const std::vector<size_t>& which,
                   bool gradients) {
  std::vector<torch::Tensor> parts;
  parts.reserve(which.size());
  for (size_t k : which) {
    const torch::Tensor& p = params[k];
    const torch::Tensor t =
        gradients ? (p.grad().defined() ? p.grad() : torch::zeros_like(p)) : p.detach();
    parts.push_back(t.reshape({-1}).to(torch::kFloat32));
  }
  return torch::cat(parts).contiguous();
}

int64_t Numel(const std::vector<torch::Tensor>& params, const std::vector<size_t>& which) {
  int64_t n = 0;
  for (size_t k : which) n += params[k].numel();
  return n;
}

Status Lost(const std::string& who, const Status& s) {
  return Status(ErrorCode::kUnavailable, who + ": " + s.message());
}

}  // namespace

StatusOr<PsLayout> MakePsLayout(int world, int servers, int staleness) {
  if (servers < 1) return InvalidArgumentError("--servers must be at least 1 with --strategy ps");
  if (staleness < 0) return InvalidArgumentError("--staleness must be 0 or more");
  if (world <= servers) {
    return InvalidArgumentError("--strategy ps with --servers " + std::to_string(servers) +
                                " needs at least " + std::to_string(servers + 1) +
                                " ranks (servers and at least one worker), not " +
                                std::to_string(world) + "; start more ranks or fewer servers");
  }
  return PsLayout{world - servers, servers};
}

ParameterClient::ParameterClient(std::vector<torch::Tensor> params, std::vector<int> owner,
                                 Communicator* world, PsLayout layout)
    : params_(std::move(params)),
      of_server_(static_cast<size_t>(layout.servers)),
      world_(world),
      layout_(layout) {
  for (size_t k = 0; k < owner.size(); ++k) of_server_[static_cast<size_t>(owner[k])].push_back(k);
}

StatusOr<PullResult> ParameterClient::Exchange(int64_t clock, int64_t need) {
  // A send in flight keeps its tensor alive (PendingCollective).
  std::vector<std::unique_ptr<PendingCollective>> sends;
  for (int k = 0; k < layout_.servers; ++k) {
    const torch::Tensor header = torch::tensor({clock, need, int64_t{0}}, torch::kLong);
    const torch::Tensor grads = Flat(params_, of_server_[static_cast<size_t>(k)], true);
    sends.push_back(world_->SendAsync(header, layout_.ServerRank(k), kPushHeader));
    sends.push_back(world_->SendAsync(grads, layout_.ServerRank(k), kPushGradients));
  }
  const auto start = std::chrono::steady_clock::now();
  PullResult r;
  r.oldest_version = std::numeric_limits<int64_t>::max();
  torch::NoGradGuard no_grad;
  for (int k = 0; k < layout_.servers; ++k) {
    const std::string who = "parameter server rank " + std::to_string(layout_.ServerRank(k));
    torch::Tensor header = torch::zeros({3}, torch::kLong);
    const std::vector<size_t>& mine = of_server_[static_cast<size_t>(k)];
    torch::Tensor weights = torch::empty({Numel(params_, mine)}, torch::kFloat32);
    if (Status s = world_->Recv(header, layout_.ServerRank(k), kPullHeader); !s.ok())
      return Lost(who + " stopped answering", s);
    if (Status s = world_->Recv(weights, layout_.ServerRank(k), kPullWeights); !s.ok())
      return Lost(who + " stopped answering", s);
    const int64_t version = header[0].item<int64_t>();
    if (version < need) {
      return InternalError(who + " answered clock " + std::to_string(clock) + " with version " +
                           std::to_string(version) + ", below the " + std::to_string(need) +
                           " asked for");
    }
    r.oldest_version = std::min(r.oldest_version, version);
    r.waited = r.waited || header[1].item<int64_t>() != 0;
    int64_t at = 0;
    for (size_t i : mine) {
      torch::Tensor& p = params_[i];
      p.copy_(weights.narrow(0, at, p.numel()).view_as(p));
      at += p.numel();
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& s : sends) {
    if (Status st = s->Wait(); !st.ok()) return Lost("a parameter server stopped answering", st);
  }
  return r;
}

ParameterServer::ParameterServer(std::vector<torch::Tensor> params, Communicator* world,
                                 PsLayout layout, int staleness, int64_t version,
                                 int64_t final_version)
    : params_(std::move(params)),
      world_(world),
      layout_(layout),
      staleness_(staleness),
      version_(version),
      final_version_(final_version) {}

StatusOr<ServerStats> ParameterServer::Run(const std::function<Status(int64_t)>& apply,
                                           const std::function<Status(int64_t)>& after) {
  const int workers = layout_.workers;
  std::vector<size_t> all(params_.size());
  for (size_t k = 0; k < all.size(); ++k) all[k] = k;
  const int64_t n = Numel(params_, all);
  const std::string me = "parameter server rank " + std::to_string(world_->rank());
  // Synchronous: gradients received, by clock, one slot per worker (summed in worker order once
  // full).
  std::map<int64_t, std::vector<torch::Tensor>> received;
  struct Pull {
    int worker;
    int64_t need;
    bool held;
  };
  std::vector<Pull> pulls;
  std::vector<int64_t> next_clock(static_cast<size_t>(workers), version_);
  ServerStats stats;

  // Answers every pull whose version exists, with the current weights.
  const auto answer = [&]() -> Status {
    torch::Tensor weights;
    std::vector<std::unique_ptr<PendingCollective>> sends;
    std::vector<Pull> waiting;
    for (const Pull& p : pulls) {
      if (p.need > version_) {
        waiting.push_back(p);
        continue;
      }
      if (!weights.defined()) weights = Flat(params_, all, false);
      const torch::Tensor header =
          torch::tensor({version_, int64_t{p.held ? 1 : 0}, int64_t{0}}, torch::kLong);
      sends.push_back(world_->SendAsync(header, p.worker, kPullHeader));
      sends.push_back(world_->SendAsync(weights, p.worker, kPullWeights));
    }
    pulls = std::move(waiting);
    for (auto& s : sends) {
      if (Status st = s->Wait(); !st.ok()) return Lost(me + ": a worker stopped pulling", st);
    }
    return OkStatus();
  };

  // Each parameter's gradient as its slice of `flat`.
  const auto set_gradients = [&](const torch::Tensor& flat) {
    int64_t at = 0;
    for (torch::Tensor& p : params_) {
      p.mutable_grad() = flat.narrow(0, at, p.numel()).view_as(p);
      at += p.numel();
    }
  };
  // version_: the clocks every worker has pushed (the lowest next clock).
  const auto lowest = [&] { return *std::min_element(next_clock.begin(), next_clock.end()); };
  while (version_ < final_version_ || !pulls.empty()) {
    torch::Tensor header = torch::zeros({3}, torch::kLong);
    auto from = world_->RecvAny(header, kPushHeader);
    if (!from.ok()) return Lost(me + ": lost the workers", from.status());
    const int w = *from;
    const int64_t clock = header[0].item<int64_t>(), need = header[1].item<int64_t>();
    if (w < 0 || w >= workers || clock != next_clock[static_cast<size_t>(w)] ||
        clock >= final_version_ || need > clock + 1 || need < clock + 1 - staleness_) {
      return InternalError(me + ": an unexpected push (rank " + std::to_string(w) + ", clock " +
                           std::to_string(clock) + ")");
    }
    torch::Tensor grads = torch::empty({n}, torch::kFloat32);
    if (Status s = world_->Recv(grads, w, kPushGradients); !s.ok())
      return Lost(me + ": worker rank " + std::to_string(w) + " stopped pushing", s);
    ++next_clock[static_cast<size_t>(w)];
    ++stats.pushes;
    const auto [lo, hi] = std::minmax_element(next_clock.begin(), next_clock.end());
    stats.max_lead = std::max(stats.max_lead, *hi - *lo);
    pulls.push_back({w, need, false});
    if (staleness_ > 0) {  // asynchronous: each push is one update
      set_gradients(grads);
      RETURN_IF_ERROR(apply(clock));
      ++stats.updates;
    } else {  // synchronous: one update per clock, of the sum in worker order
      auto& slots = received[clock];
      slots.resize(static_cast<size_t>(workers));
      slots[static_cast<size_t>(w)] = std::move(grads);
      if (std::none_of(slots.begin(), slots.end(),
                       [](const torch::Tensor& t) { return !t.defined(); })) {
        torch::Tensor sum = slots[0];
        for (int k = 1; k < workers; ++k) sum = sum + slots[static_cast<size_t>(k)];
        received.erase(clock);
        set_gradients(sum);
        RETURN_IF_ERROR(apply(clock));
        ++stats.updates;
      }
    }
    // Each clock every worker has now pushed: its pulls are answered, then `after`.
    while (version_ < lowest()) {
      ++version_;
      RETURN_IF_ERROR(answer());
      RETURN_IF_ERROR(after(version_));
    }
    // Asynchronous pulls whose clock is in; what is still unanswered waits for other workers.
    RETURN_IF_ERROR(answer());
    for (Pull& p : pulls) {
      if (!p.held) ++stats.held_pulls;
      p.held = true;
    }
  }
  return stats;
}

}  // namespace medscribe::train
