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
#include <functional>
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

// Where this rank stands in `groups`: {group index, position}, or InvalidArgument.
StatusOr<std::pair<size_t, int>> PlaceIn(const std::vector<std::vector<int>>& groups, int rank,
                                         int world) {
  std::vector<int> seen(static_cast<size_t>(world), 0);
  std::pair<size_t, int> at{0, -1};
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t i = 0; i < groups[g].size(); ++i) {
      const int r = groups[g][i];
      if (r < 0 || r >= world || seen[static_cast<size_t>(r)]++)
        return InvalidArgumentError("process groups must cut the world of " +
                                    std::to_string(world) + " ranks into disjoint groups");
      if (r == rank) at = {g, static_cast<int>(i)};
    }
  }
  for (int v : seen)
    if (v != 1)
      return InvalidArgumentError("process groups must cover every one of the " +
                                  std::to_string(world) + " ranks");
  return at;
}

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
  std::unique_ptr<PendingCollective> SendAsync(torch::Tensor, int to, int) override {
    return std::make_unique<Done>(
        InvalidArgumentError("a single process has no rank " + std::to_string(to) + " to send to"));
  }
  Status Recv(torch::Tensor&, int from, int) override {
    return InvalidArgumentError("a single process has no rank " + std::to_string(from) +
                                " to receive from");
  }
  StatusOr<int> RecvAny(torch::Tensor&, int) override {
    return InvalidArgumentError("a single process has no other rank to receive from");
  }
  StatusOr<std::unique_ptr<Communicator>> Subgroup(const std::vector<std::vector<int>>& groups,
                                                   const std::string&) override {
    RETURN_IF_ERROR(PlaceIn(groups, 0, 1).status());
    return std::unique_ptr<Communicator>(std::make_unique<Single>());
  }
};

// A c10d process group (Gloo, or NCCL in CUDA builds). Tensors that are not on the group's
// device (CPU scalars such as token counts, with NCCL) travel through a copy on it.
template <typename PG>
class C10dCommunicator final : public Communicator {
 public:
  // Makes the process group of `rank` of `world` that meets at `store` (for Subgroup).
  using Factory = std::function<c10::intrusive_ptr<PG>(c10::intrusive_ptr<c10d::Store>, int, int)>;
  C10dCommunicator(c10::intrusive_ptr<PG> pg, int rank, int world, torch::Device device,
                   c10::intrusive_ptr<c10d::Store> store, Factory factory)
      : pg_(std::move(pg)),
        rank_(rank),
        world_(world),
        device_(device),
        store_(std::move(store)),
        factory_(std::move(factory)) {}
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

  std::unique_ptr<PendingCollective> SendAsync(torch::Tensor t, int to, int tag) override {
    try {
      std::vector<torch::Tensor> one = {t.device() == device_ ? t : t.to(device_)};
      auto work = pg_->send(one, to, tag);
      return std::make_unique<GlooPending>(std::move(work), std::move(one));
    } catch (const std::exception& e) {
      return std::make_unique<Done>(CollectiveFailed(e));
    }
  }

  Status Recv(torch::Tensor& t, int from, int tag) override {
    return Guard([&] {
      std::vector<torch::Tensor> one = {
          t.device() == device_ ? t : torch::empty_like(t, t.options().device(device_))};
      pg_->recv(one, from, tag)->wait();
      if (!one[0].is_same(t)) t.copy_(one[0]);
    });
  }

  StatusOr<int> RecvAny(torch::Tensor& t, int tag) override {
    if (t.device() != device_)
      return UnimplementedError("receiving from any rank needs the tensor on the group's device");
    int from = -1;
    RETURN_IF_ERROR(Guard([&] {
      std::vector<torch::Tensor> one = {t};
      auto work = pg_->recvAnysource(one, tag);
      work->wait();
      from = work->sourceRank();
    }));
    return from;
  }

  StatusOr<std::unique_ptr<Communicator>> Subgroup(const std::vector<std::vector<int>>& groups,
                                                   const std::string& name) override {
    ASSIGN_OR_RETURN(const auto at, PlaceIn(groups, rank_, world_));
    const int size = static_cast<int>(groups[at.first].size());
    if (size == 1) return SingleProcess();
    try {
      auto store = c10::make_intrusive<c10d::PrefixStore>(
          "/group/" + name + "/" + std::to_string(at.first), store_);
      return std::unique_ptr<Communicator>(std::make_unique<C10dCommunicator<PG>>(
          factory_(store, at.second, size), at.second, size, device_, store, factory_));
    } catch (const std::exception& e) {
      return Status(ErrorCode::kUnavailable,
                    "cannot form the '" + name + "' process group: " + Reason(e));
    }
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
  c10::intrusive_ptr<c10d::Store> store_;
  Factory factory_;
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
      auto make = [nccl_options](c10::intrusive_ptr<c10d::Store> s, int rank, int size) {
        return c10::make_intrusive<c10d::ProcessGroupNCCL>(s, rank, size, nccl_options);
      };
      const torch::Device device(torch::kCUDA, static_cast<c10::DeviceIndex>(w.local_rank));
      return std::unique_ptr<Communicator>(
          std::make_unique<C10dCommunicator<c10d::ProcessGroupNCCL>>(
              make(store, w.rank, w.world_size), w.rank, w.world_size, device, store, make));
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
    auto make = [options](c10::intrusive_ptr<c10d::Store> s, int rank, int size) {
      return c10::make_intrusive<c10d::ProcessGroupGloo>(s, rank, size, options);
    };
    return std::unique_ptr<Communicator>(std::make_unique<C10dCommunicator<c10d::ProcessGroupGloo>>(
        make(store, w.rank, w.world_size), w.rank, w.world_size, torch::Device(torch::kCPU), store,
        make));
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
