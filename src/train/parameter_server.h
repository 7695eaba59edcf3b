// Parameter-server training (`medscribe train --strategy ps --servers K --staleness S`).
//
// The world's first W ranks are workers and the last K are servers. Each trainable parameter
// is owned, whole, by one server (PartitionParameters: largest first to the least loaded), which
// alone holds its optimizer state and applies its updates. A worker computes the gradients of
// its step ("clock" c, 0-based) on its own batches, pushes to every server the gradients of the
// parameters it owns, and pulls back their weights.
//
// Staleness 0 is synchronous: a server applies clock c's update once it holds every worker's
// gradients of clock c, summed in worker order, and a worker's pull after clock c waits for it;
// every step waits for every worker and uses the summed gradients of an all-reduce, so the run
// equals data parallelism.
// Staleness S > 0 is asynchronous with bounded staleness (stale-synchronous parallel, Ho et al.,
// NIPS 2013): a server applies each push as soon as it arrives, as one optimizer step of its own
// (as in Downpour SGD, Dean et al., NIPS 2012: a clock of W workers makes W steps), and answers
// a worker's pull after clock c at once with the newest weights, as long as every worker has
// pushed clock c - S; a worker up to S clocks behind the fastest stalls no one, and the fastest
// waits when it would lead by more.
// Clocks where the trainer validates or checkpoints ask for c + 1 (every worker's clock c in).
// A version counts clocks: at version v every worker's gradients of the clocks below v are in
// the weights (synchronous: exactly those; asynchronous: perhaps some of later clocks too).
// The wire format of a push is a header {clock, version needed, 0} (int64) and the flat float
// gradients of the server's parameters, in their order; a pull's answer is {version, waited,
// 0} and the flat weights. Tags are private to this protocol.
//
// Thread safety: one client or server per process, used from the training thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "train/distributed.h"

namespace medscribe::train {

// The roles in a world of `world` ranks with `servers` servers: workers 0 .. W - 1, servers
// W .. world - 1.
struct PsLayout {
  int workers = 0, servers = 0;
  bool IsServer(int rank) const { return rank >= workers; }
  int ServerRank(int k) const { return workers + k; }
};

// OK when at least one worker and one server fit in the world and staleness >= 0; otherwise
// InvalidArgument naming what to change.
StatusOr<PsLayout> MakePsLayout(int world, int servers, int staleness);

// What a worker learns from one exchange.
struct PullResult {
  int64_t oldest_version = 0;  // the lowest version (clocks every worker pushed) answered
  bool waited = false;         // a server held the answer until other workers caught up
  double seconds = 0;          // from the last push sent to the last weight received
};

class ParameterClient {
 public:
  // `params`: the trainable parameters, the same list in the same order on every rank;
  // `owner[k]`: the server (0 .. K - 1) of params[k]. REQUIRES: `world` outlives this object.
  ParameterClient(std::vector<torch::Tensor> params, std::vector<int> owner, Communicator* world,
                  PsLayout layout);

  // Pushes the gradients of `clock` (an undefined gradient counts as zeros), then replaces the
  // parameters by the servers' weights once each holds at least version `need`.
  // Unavailable when a server died or stopped answering (with its rank).
  StatusOr<PullResult> Exchange(int64_t clock, int64_t need);

 private:
  std::vector<torch::Tensor> params_;
  std::vector<std::vector<size_t>> of_server_;  // parameter indices per server
  Communicator* world_;
  PsLayout layout_;
};

// Counts of one server's run.
struct ServerStats {
  int64_t updates = 0;  // optimizer steps: one per clock, or one per push when asynchronous
  int64_t pushes = 0;
  int64_t held_pulls = 0;  // answers held until the version a worker asked for existed
  int64_t max_lead = 0;    // the most clocks the fastest worker was ahead of the slowest
};

class ParameterServer {
 public:
  // `params`: the parameters this server owns, in the trainer's order (their gradients arrive
  // flat in that order). `version`: the version they are at (a resumed run's step); the server
  // answers until every worker has pulled `final_version`.
  // REQUIRES: `world` outlives this object; version < final_version.
  ParameterServer(std::vector<torch::Tensor> params, Communicator* world, PsLayout layout,
                  int staleness, int64_t version, int64_t final_version);

  // Serves pushes and pulls. `apply(clock)` is called with each parameter's .grad() set to the
  // sum of the workers' gradients of `clock` or, asynchronously, to one worker's, and must
  // update the parameters (one optimizer step); `after(version)` is called once every worker has
  // pushed clock version - 1 and every pull waiting for that has been answered (where the trainer
  // joins the workers' validation barrier and checkpoints). Returns the first error of either, or
  // Unavailable when a worker died (with its rank).
  StatusOr<ServerStats> Run(const std::function<Status(int64_t)>& apply,
                            const std::function<Status(int64_t)>& after);

 private:
  std::vector<torch::Tensor> params_;
  Communicator* world_;
  PsLayout layout_;
  int staleness_;
  int64_t version_, final_version_;
};

}  // namespace medscribe::train
