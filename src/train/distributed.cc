#define USE_C10D_GLOO 1
#include "train/distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
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
  Status AllReduceSum(std::vector<torch::Tensor>&) override { return OkStatus(); }
  std::unique_ptr<PendingCollective> AllReduceSumAsync(torch::Tensor) override {
    return std::make_unique<Done>();
  }
  Status Broadcast(std::vector<torch::Tensor>&) override { return OkStatus(); }
  Status BroadcastFrom(torch::Tensor&, int) override { return OkStatus(); }
  Status ReduceTo(torch::Tensor&, int) override { return OkStatus(); }
  Status Barrier() override { return OkStatus(); }
};

// A c10d process group (Gloo, or NCCL in CUDA builds). Tensors that are not on the group's
// device (CPU scalars such as token counts, with NCCL) travel through a copy on it.
template <typename PG>
class C10dCommunicator final : public Communicator {
 public:
  C10dCommunicator(c10::intrusive_ptr<PG> pg, int rank, int world, torch::Device device)
      : pg_(std::move(pg)), rank_(rank), world_(world), device_(device) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }

  std::unique_ptr<PendingCollective> AllReduceSumAsync(torch::Tensor flat) override {
    if (flat.device() != device_) {  // not on the data path: run it now
      std::vector<torch::Tensor> one = {flat};
      return std::make_unique<Done>(AllReduceSum(one));
    }
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
      std::vector<torch::Tensor> buffer = {torch::cat(flat).to(device_)};
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
        std::vector<torch::Tensor> one = {t.to(device_)};
        pg_->broadcast(one)->wait();
        if (!one[0].is_same(t)) t.copy_(one[0]);
      }
    });
  }

  Status BroadcastFrom(torch::Tensor& flat, int root) override {
    return Guard([&] {
      std::vector<torch::Tensor> one = {flat.to(device_)};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      pg_->broadcast(one, o)->wait();
      if (!one[0].is_same(flat)) flat.copy_(one[0]);
    });
  }

  Status ReduceTo(torch::Tensor& flat, int root) override {
    return Guard([&] {
      std::vector<torch::Tensor> one = {flat.to(device_)};
      c10d::ReduceOptions o;
      o.rootRank = root;
      pg_->reduce(one, o)->wait();
      if (!one[0].is_same(flat)) flat.copy_(one[0]);
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
  c10::intrusive_ptr<PG> pg_;
  int rank_, world_;
  torch::Device device_;
};

}  // namespace

StatusOr<Topology> WorldFromEnv() { return ResolveTopology(ProcessEnvironment()); }

std::unique_ptr<Communicator> SingleProcess() { return std::make_unique<Single>(); }

StatusOr<std::unique_ptr<Communicator>> Connect(const Topology& w, int timeout_s, bool cuda) {
  if (w.world_size == 1) return SingleProcess();
#ifndef USE_C10D_NCCL
  if (cuda) {
    return FailedPreconditionError(
        "training on CUDA with several ranks needs NCCL, which this build's LibTorch lacks; "
        "build against a CUDA PyTorch (scripts/gpu-check.sh) or use --device cpu");
  }
#endif
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
#ifdef USE_C10D_NCCL
    if (cuda) {
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = std::chrono::seconds(timeout_s);
      auto pg =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(store, w.rank, w.world_size, nccl_options);
      const torch::Device device(torch::kCUDA, static_cast<c10::DeviceIndex>(w.local_rank));
      return std::unique_ptr<Communicator>(
          std::make_unique<C10dCommunicator<c10d::ProcessGroupNCCL>>(pg, w.rank, w.world_size,
                                                                     device));
    }
#endif
    auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(timeout_s));
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (w.master_addr == "127.0.0.1" || w.master_addr == "localhost") {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, w.rank, w.world_size, options);
    return std::unique_ptr<Communicator>(std::make_unique<C10dCommunicator<c10d::ProcessGroupGloo>>(
        pg, w.rank, w.world_size, torch::Device(torch::kCPU)));
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
