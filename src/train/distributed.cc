#define USE_C10D_GLOO 1
#include "train/distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#include <utility>

namespace medscribe::train {
namespace {

class Done final : public PendingCollective {
 public:
  explicit Done(Status s = OkStatus()) : s_(std::move(s)) {}
  Status Wait() override { return s_; }

 private:
  Status s_;
};

// LibTorch's messages without the C++ backtrace it appends.
std::string Reason(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

Status CollectiveFailed(const std::exception& e) {
  return Status(ErrorCode::kUnavailable,
                "a collective with the other ranks failed (a worker died, a link is cut, or it "
                "waited longer than --timeout): " +
                    Reason(e));
}

// The handle type of a c10d collective (c10d::Work; ProcessGroup::Work in older releases).
using WorkPtr = decltype(std::declval<c10d::ProcessGroupGloo&>().barrier());

class GlooPending final : public PendingCollective {
 public:
  GlooPending(WorkPtr work, std::vector<torch::Tensor> tensors)
      : work_(std::move(work)), tensors_(std::move(tensors)) {}
  Status Wait() override {
    try {
      work_->wait();
      return OkStatus();
    } catch (const std::exception& e) {
      return CollectiveFailed(e);
    }
  }

 private:
  WorkPtr work_;
  std::vector<torch::Tensor> tensors_;  // kept alive while the collective runs
};

class Single final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  Status AllReduceMean(std::vector<torch::Tensor>&) override { return OkStatus(); }
  Status AllReduceSum(std::vector<torch::Tensor>&) override { return OkStatus(); }
  std::unique_ptr<PendingCollective> AllReduceSumAsync(torch::Tensor) override {
    return std::make_unique<Done>();
  }
  Status Broadcast(std::vector<torch::Tensor>&) override { return OkStatus(); }
  Status BroadcastFrom(torch::Tensor&, int) override { return OkStatus(); }
  Status ReduceTo(torch::Tensor&, int) override { return OkStatus(); }
  Status Barrier() override { return OkStatus(); }
};

class Gloo final : public Communicator {
 public:
  Gloo(c10::intrusive_ptr<c10d::ProcessGroupGloo> pg, int rank, int world)
      : pg_(std::move(pg)), rank_(rank), world_(world) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }

  Status AllReduceMean(std::vector<torch::Tensor>& tensors) override {
    RETURN_IF_ERROR(AllReduceSum(tensors));
    for (torch::Tensor& t : tensors) t.div_(world_);
    return OkStatus();
  }

  std::unique_ptr<PendingCollective> AllReduceSumAsync(torch::Tensor flat) override {
    try {
      std::vector<torch::Tensor> one = {flat};
      auto work = pg_->allreduce(one);
      return std::make_unique<GlooPending>(std::move(work), std::move(one));
    } catch (const std::exception& e) {
      return std::make_unique<Done>(CollectiveFailed(e));
    }
  }

  Status AllReduceSum(std::vector<torch::Tensor>& tensors) override {
    return Guard([&] {
      // One flat buffer: one collective per step instead of one per tensor.
      std::vector<torch::Tensor> flat;
      for (const torch::Tensor& t : tensors) flat.push_back(t.reshape({-1}));
      std::vector<torch::Tensor> buffer = {torch::cat(flat)};
      pg_->allreduce(buffer)->wait();
      int64_t at = 0;
      for (torch::Tensor& t : tensors) {
        t.copy_(buffer[0].narrow(0, at, t.numel()).view_as(t));
        at += t.numel();
      }
    });
  }

  Status Broadcast(std::vector<torch::Tensor>& tensors) override {
    return Guard([&] {
      for (torch::Tensor& t : tensors) {
        std::vector<torch::Tensor> one = {t};
        pg_->broadcast(one)->wait();
      }
    });
  }

  Status BroadcastFrom(torch::Tensor& flat, int root) override {
    return Guard([&] {
      std::vector<torch::Tensor> one = {flat};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      pg_->broadcast(one, o)->wait();
    });
  }

  Status ReduceTo(torch::Tensor& flat, int root) override {
    return Guard([&] {
      std::vector<torch::Tensor> one = {flat};
      c10d::ReduceOptions o;
      o.rootRank = root;
      pg_->reduce(one, o)->wait();
    });
  }

  Status Barrier() override {
    return Guard([&] { pg_->barrier()->wait(); });
  }

 private:
  template <typename Fn>
  Status Guard(Fn fn) {
    try {
      fn();
      return OkStatus();
    } catch (const std::exception& e) {
      return CollectiveFailed(e);
    }
  }
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  int rank_, world_;
};

}  // namespace

StatusOr<Topology> WorldFromEnv() { return ResolveTopology(ProcessEnvironment()); }

std::unique_ptr<Communicator> SingleProcess() { return std::make_unique<Single>(); }

StatusOr<std::unique_ptr<Communicator>> Connect(const Topology& w, int timeout_s) {
  if (w.world_size == 1) return SingleProcess();
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(w.master_port);
    so.isServer = w.rank == 0 && !w.agent_store;
    so.numWorkers = static_cast<size_t>(w.world_size);
    so.timeout = std::chrono::seconds(timeout_s);
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(w.master_addr, so);
    if (w.agent_store) {
      store = c10::make_intrusive<c10d::PrefixStore>(
          "/worker/attempt_" + std::to_string(w.restart_count), store);
    }
    auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(timeout_s));
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (w.master_addr == "127.0.0.1" || w.master_addr == "localhost") {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, w.rank, w.world_size, options);
    return std::unique_ptr<Communicator>(std::make_unique<Gloo>(pg, w.rank, w.world_size));
  } catch (const std::exception& e) {
    return Status(ErrorCode::kUnavailable,
                  "cannot join the training group at " + w.master_addr + ":" +
                      std::to_string(w.master_port) + " as rank " + std::to_string(w.rank) +
                      " of " + std::to_string(w.world_size) + " within " +
                      std::to_string(timeout_s) + " s (--timeout): " + Reason(e) +
                      "; check that every rank was started with the same MASTER_ADDR and "
                      "MASTER_PORT and can reach it");
  }
}

}  // namespace medscribe::train
