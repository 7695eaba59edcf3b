// `medscribe launch`: starts the worker processes of one node under the launch contract
// (train/launch.h) and supervises them with TorchElastic's semantics: when any worker fails, all
// of this node's workers are stopped and started again (they resume from the last complete
// checkpoint), up to a restart limit; then the launch fails with the cause.
//
// Each worker gets MASTER_ADDR, MASTER_PORT, RANK = node_rank * nproc + local rank,
// WORLD_SIZE = nnodes * nproc, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK,
// TORCHELASTIC_RESTART_COUNT and TORCHELASTIC_MAX_RESTARTS, and runs in a process group of its
// own; SIGINT, SIGTERM and SIGHUP sent to the launcher are forwarded to every worker.
//
// On several nodes every node runs its own launcher with the same --nnodes and --master: a
// failure on one node makes the other nodes' workers fail at their next collective, so every
// launcher restarts its workers and the group meets again at the master.
//
// Thread safety: one Launch at a time per process (it owns the signal dispositions while it
// runs).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::train {

struct LaunchOptions {
  int nproc = 1;  // workers on this node
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  // 0: a free port on this host, chosen per start (one node only)
  int max_restarts = 0;
  double stop_grace_s = 10;          // SIGTERM, then SIGKILL after this long
  std::vector<std::string> command;  // argv of every worker; command[0] is looked up in PATH
  std::function<void(const std::string&)> log;  // progress and causes; null: stderr
};

struct LaunchResult {
  int exit_code = 0;  // 0 when every worker of the last start exited 0
  int restarts = 0;
  std::string cause;  // the failure that ended the launch, empty on success
};

// InvalidArgument for impossible options (no command, node rank out of range, a free port with
// several nodes); otherwise the outcome of the workers.
StatusOr<LaunchResult> Launch(const LaunchOptions& options);

}  // namespace medscribe::train
