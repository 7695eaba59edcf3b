// `replicas: {local: ...}`: model-server child processes (`medscribe serve`) that the gateway
// starts, watches and restarts. Each child listens on 127.0.0.1 on a port of its own choosing
// (reported through a port file) and keeps that port when restarted, so its URL is stable and
// the health checks re-admit it when it is back. Output goes to HOME/logs/<deployment>-<i>.log.
//
// A reload replaces a deployment's children by starting a new group before the old one stops,
// so the deployment always has replicas that answer.
//
// Thread safety: Start/Stop from one controlling thread (a supervisor thread restarts children).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace medscribe::gateway {

struct LocalReplicaSpec {
  std::string deployment, model;
  int count = 1;
  std::vector<std::string> args;  // extra `medscribe serve` arguments
  // Mutual TLS: the child serves HTTPS with this certificate and requires client certificates
  // signed by `client_ca`. All empty: plain HTTP on loopback.
  std::string tls_cert, tls_key, client_ca;
  bool operator==(const LocalReplicaSpec&) const = default;
};

class LocalReplicas {
 public:
  // The children of one Start: what a reload keeps, or replaces and stops as a whole.
  struct Group {
    int id = 0;
    std::vector<std::string> urls;  // base URLs, in start order
  };

  // `exe`: the medscribe binary; `home`: passed to the children as --home.
  LocalReplicas(std::filesystem::path exe, std::filesystem::path home);
  ~LocalReplicas();
  // Starts spec.count children as a new group and waits until each has bound its port (the
  // model loads first). Unavailable naming the log file when a child exits or does not come up
  // within `wait`; the children this call started are then stopped again.
  StatusOr<Group> Start(const LocalReplicaSpec& spec, std::chrono::seconds wait);
  // Stops one group's children (SIGTERM: they drain; SIGKILL after `grace`); the others run on.
  void Stop(int group, std::chrono::seconds grace);
  // SIGTERM to every child (they drain), then waits up to `grace` before SIGKILL. Final.
  void Stop(std::chrono::seconds grace);
  std::vector<pid_t> pids() const;

 private:
  struct Child {
    int group = 0;
    std::string deployment, log, url;
    std::vector<std::string> argv;
    pid_t pid = -1;
    uint16_t port = 0;
  };
  StatusOr<pid_t> Spawn(const Child& c) const;
  void Supervise();
  // SIGTERM to each child, SIGKILL to those still running after `grace`; reaps them all.
  static void Terminate(std::vector<Child>& children, std::chrono::seconds grace);

  std::filesystem::path exe_, home_;
  mutable std::mutex mu_;
  std::vector<Child> children_;
  int next_group_ = 1;
  std::atomic<bool> stopping_{false};
  std::thread supervisor_;
};

}  // namespace medscribe::gateway
