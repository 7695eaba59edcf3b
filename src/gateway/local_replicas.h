// `replicas: {local: ...}`: model-server child processes (`medscribe serve`) that the gateway
// starts, watches and restarts. Each child listens on 127.0.0.1 on a port of its own choosing
// (reported through a port file) and keeps that port when restarted, so its URL is stable and
// the health checks re-admit it when it is back. Output goes to HOME/logs/<deployment>-<i>.log.
//
// Thread safety: Start/Stop from one controlling thread; urls() after Start is immutable.
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
};

class LocalReplicas {
 public:
  // `exe`: the medscribe binary; `home`: passed to the children as --home.
  LocalReplicas(std::filesystem::path exe, std::filesystem::path home);
  ~LocalReplicas();
  // Starts the children and waits until each has bound its port (the model loads first).
  // Unavailable naming the log file when a child exits or does not come up within `wait`.
  Status Start(const LocalReplicaSpec& spec, std::chrono::seconds wait);
  // The replicas' base URLs, in start order.
  std::vector<std::string> urls() const;
  // SIGTERM to every child (they drain), then waits up to `grace` before SIGKILL.
  void Stop(std::chrono::seconds grace);
  std::vector<pid_t> pids() const;

 private:
  struct Child {
    std::string deployment, log, url;
    std::vector<std::string> argv;
    pid_t pid = -1;
    uint16_t port = 0;
  };
  StatusOr<pid_t> Spawn(const Child& c) const;
  void Supervise();

  std::filesystem::path exe_, home_;
  mutable std::mutex mu_;
  std::vector<Child> children_;
  std::atomic<bool> stopping_{false};
  std::thread supervisor_;
};

}  // namespace medscribe::gateway
