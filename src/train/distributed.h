// Data-parallel training over PyTorch's c10d: rank and world from the environment, a TCPStore
// rendezvous and a Gloo process group (CPU). The collectives the trainer needs, synchronous and
// asynchronous (train/ddp.h overlaps gradient all-reduces with backward).
//
// Rank, world and rendezvous come from the launch contract (train/launch.h). With a world of
// one, training runs alone and nothing is opened.
//
// Thread safety: one Communicator per process, used from the training thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/status.h"
#include "train/launch.h"

namespace medscribe::train {

// The topology of this process from its environment (train/launch.h).
StatusOr<Topology> WorldFromEnv();

// A collective in flight. Wait() returns once the result is in the tensor it was started on.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual Status Wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Replaces each tensor by the sum over ranks (in place).
  virtual Status AllReduceSum(std::vector<torch::Tensor>& tensors) = 0;
  // Starts summing `flat` (contiguous) over ranks in place. REQUIRES: every rank starts its
  // collectives in the same order; `flat` stays alive and untouched until Wait() returns.
  virtual std::unique_ptr<PendingCollective> AllReduceSumAsync(torch::Tensor flat) = 0;
  // Replaces each tensor by rank 0's (in place).
  virtual Status Broadcast(std::vector<torch::Tensor>& tensors) = 0;
  // Replaces `flat` (contiguous) by rank `root`'s.
  virtual Status BroadcastFrom(torch::Tensor& flat, int root) = 0;
  // Sums `flat` (contiguous) over ranks into rank `root`'s copy; the others' are unspecified after.
  virtual Status ReduceTo(torch::Tensor& flat, int root) = 0;
  virtual Status Barrier() = 0;
  // Point to point (pipeline parallelism). SendAsync starts sending `t` (contiguous) to rank `to`
  // under `tag`; `t` stays alive and untouched until Wait() returns. Recv fills `t` (contiguous,
  // the sender's shape and type) from rank `from`'s send with the same tag.
  virtual std::unique_ptr<PendingCollective> SendAsync(torch::Tensor t, int to, int tag) = 0;
  virtual Status Recv(torch::Tensor& t, int from, int tag) = 0;
  // Fills `t` (contiguous) from the first send under `tag` by any rank and returns that rank
  // (parameter servers). Unimplemented where the backend cannot (NCCL).
  virtual StatusOr<int> RecvAny(torch::Tensor& t, int tag) = 0;
  // The communicator of this rank's group when the world is cut into `groups` (a partition of
  // 0 .. world_size - 1, listed the same on every rank); a rank's number in it is its position in
  // its group. `name` keeps the rendezvous of different cuts apart. REQUIRES: every rank calls
  // it with the same arguments. InvalidArgument when `groups` is not a partition.
  virtual StatusOr<std::unique_ptr<Communicator>> Subgroup(
      const std::vector<std::vector<int>>& groups, const std::string& name) = 0;
};

// A communicator for a single process (all operations are no-ops).
std::unique_ptr<Communicator> SingleProcess();
// Joins the group described by `w`: Gloo over TCP, or NCCL when `cuda` (tensors on the local
// rank's GPU; FailedPrecondition when this build's LibTorch has no NCCL). Unavailable when the
// rendezvous times out.
StatusOr<std::unique_ptr<Communicator>> Connect(const Topology& w, int timeout_s = 300,
                                                bool cuda = false);

}  // namespace medscribe::train
