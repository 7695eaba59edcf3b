#include "train/launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>

#include "common/signals.h"

extern char** environ;

namespace medscribe::train {
namespace {

StatusOr<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return IoError("cannot find a free port: " + why);
  }
  ::close(fd);
  return static_cast<int>(ntohs(a.sin_port));
}

std::string Describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "stopped";
}

struct Worker {
  pid_t pid = -1;
  int local_rank = 0;
  int status = 0;
  bool done = false;
};

class Supervisor {
 public:
  explicit Supervisor(const LaunchOptions& o) : o_(o) {}

  void Log(const std::string& m) const {
    if (o_.log)
      o_.log(m);
    else
      std::fprintf(stderr, "launch: %s\n", m.c_str());
  }

  StatusOr<LaunchResult> Run() {
    // SIGINT, SIGTERM and SIGHUP come to this loop whichever thread the kernel hands them to
    // (common/signals.h); the workers start with the default dispositions (exec resets them).
    ASSIGN_OR_RETURN(std::unique_ptr<SignalWaiter> signals,
                     SignalWaiter::Create({SIGINT, SIGTERM, SIGHUP}));
    return Loop(*signals);
  }

 private:
  StatusOr<LaunchResult> Loop(SignalWaiter& signals) {
    LaunchResult result;
    for (int attempt = 0;; ++attempt) {
      int port = o_.master_port;
      if (port == 0) {
        ASSIGN_OR_RETURN(port, FreePort());
      }
      RETURN_IF_ERROR(Start(attempt, port));
      Log("started " + std::to_string(o_.nproc) + " worker(s), ranks " +
          std::to_string(o_.node_rank * o_.nproc) + ".." +
          std::to_string(o_.node_rank * o_.nproc + o_.nproc - 1) + " of " +
          std::to_string(o_.nnodes * o_.nproc) + ", master " + o_.master_addr + ":" +
          std::to_string(port) + (attempt ? ", restart " + std::to_string(attempt) : ""));
      std::string failure;
      int signal_received = 0;
      while (failure.empty() && !signal_received && Running() > 0) {
        signal_received = signals.Wait(std::chrono::milliseconds(200));  // 0: a tick
        failure = Reap();
      }
      if (signal_received) {
        Log(std::string("received ") + strsignal(signal_received) + "; stopping the workers");
        Stop(signal_received);
        result.exit_code = 128 + signal_received;
        result.cause = std::string("interrupted by ") + strsignal(signal_received);
        return result;
      }
      if (failure.empty()) {
        result.exit_code = 0;
        return result;
      }
      Stop(SIGTERM);
      if (attempt >= o_.max_restarts) {
        result.exit_code = 1;
        result.cause = failure + (o_.max_restarts ? " (after " + std::to_string(attempt) +
                                                        " restart(s), the "
                                                        "limit)"
                                                  : " (no restarts allowed: --max-restarts 0)");
        return result;
      }
      result.restarts = attempt + 1;
      Log(failure + "; restarting all workers (restart " + std::to_string(attempt + 1) + " of " +
          std::to_string(o_.max_restarts) + ")");
    }
  }

  Status Start(int attempt, int port) {
    workers_.clear();
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
      const std::string kv = *e;
      const size_t eq = kv.find('=');
      if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    const int world = o_.nnodes * o_.nproc;
    for (int local = 0; local < o_.nproc; ++local) {
      env["MASTER_ADDR"] = o_.master_addr;
      env["MASTER_PORT"] = std::to_string(port);
      env["RANK"] = std::to_string(o_.node_rank * o_.nproc + local);
      env["WORLD_SIZE"] = std::to_string(world);
      env["LOCAL_RANK"] = std::to_string(local);
      env["LOCAL_WORLD_SIZE"] = std::to_string(o_.nproc);
      env["GROUP_RANK"] = std::to_string(o_.node_rank);
      env["TORCHELASTIC_RESTART_COUNT"] = std::to_string(attempt);
      env["TORCHELASTIC_MAX_RESTARTS"] = std::to_string(o_.max_restarts);
      env["MEDSCRIBE_LAUNCH"] = "1";
      std::vector<std::string> env_strings;
      for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
      std::vector<char*> envp, argv;
      for (std::string& s : env_strings) envp.push_back(s.data());
      envp.push_back(nullptr);
      std::vector<std::string> args = o_.command;
      for (std::string& s : args) argv.push_back(s.data());
      argv.push_back(nullptr);
      const pid_t pid = ::fork();
      if (pid < 0) {
        Stop(SIGKILL);
        return InternalError(std::string("cannot start a worker: ") + std::strerror(errno));
      }
      if (pid == 0) {
        ::setpgid(0, 0);
        ::execvpe(argv[0], argv.data(), envp.data());
        std::fprintf(stderr, "launch: cannot run '%s': %s\n", argv[0], std::strerror(errno));
        ::_exit(127);
      }
      ::setpgid(pid, pid);  // also from the parent: no race with the first signal
      workers_.push_back(Worker{pid, local, 0, false});
    }
    return OkStatus();
  }

  int Running() const {
    int n = 0;
    for (const Worker& w : workers_) n += !w.done;
    return n;
  }

  // Collects exited workers; returns the first failure ("" when none).
  std::string Reap() {
    std::string failure;
    for (Worker& w : workers_) {
      if (w.done) continue;
      int status = 0;
      const pid_t r = ::waitpid(w.pid, &status, WNOHANG);
      if (r != w.pid) continue;
      w.done = true;
      w.status = status;
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && failure.empty()) {
        failure = "worker " + std::to_string(w.local_rank) + " (rank " +
                  std::to_string(o_.node_rank * o_.nproc + w.local_rank) + ") " + Describe(status);
      }
    }
    return failure;
  }

  // Sends `sig` to every running worker's process group, waits up to the grace period, then
  // kills what is left.
  void Stop(int sig) {
    for (const Worker& w : workers_)
      if (!w.done) ::kill(-w.pid, sig);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(o_.stop_grace_s);
    while (Running() > 0 && std::chrono::steady_clock::now() < deadline) {
      ::usleep(20000);
      Reap();
    }
    for (const Worker& w : workers_)
      if (!w.done) ::kill(-w.pid, SIGKILL);
    for (Worker& w : workers_) {
      if (w.done) continue;
      ::waitpid(w.pid, &w.status, 0);
      w.done = true;
    }
  }

  const LaunchOptions& o_;
  std::vector<Worker> workers_;
};

}  // namespace

StatusOr<LaunchResult> Launch(const LaunchOptions& o) {
  if (o.command.empty()) {
    return InvalidArgumentError(
        "no worker command; put it after `--`, e.g. "
        "`medscribe launch --nproc 2 -- medscribe train ...`");
  }
  if (o.nproc < 1 || o.nproc > 4096) return InvalidArgumentError("--nproc must be 1..4096");
  if (o.nnodes < 1 || o.nnodes > 65536) return InvalidArgumentError("--nnodes must be 1..65536");
  if (o.node_rank < 0 || o.node_rank >= o.nnodes) {
    return InvalidArgumentError("--node-rank " + std::to_string(o.node_rank) +
                                " is not below --nnodes " + std::to_string(o.nnodes));
  }
  if (o.nnodes > 1 && o.master_port == 0) {
    return InvalidArgumentError(
        "with --nnodes > 1 every node must meet at the same address: pass --master HOST:PORT");
  }
  if (o.max_restarts < 0) return InvalidArgumentError("--max-restarts must be >= 0");
  Supervisor s(o);
  return s.Run();
}

}  // namespace medscribe::train
