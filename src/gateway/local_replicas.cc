#include "gateway/local_replicas.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "common/logging.h"

extern char** environ;

namespace medscribe::gateway {
namespace fs = std::filesystem;

LocalReplicas::LocalReplicas(fs::path exe, fs::path home)
    : exe_(std::move(exe)), home_(std::move(home)) {}

LocalReplicas::~LocalReplicas() { Stop(std::chrono::seconds(30)); }

StatusOr<pid_t> LocalReplicas::Spawn(const Child& c) const {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, c.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const std::string& a : c.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe_.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    return Status(ErrorCode::kUnavailable,
                  "cannot start " + exe_.string() + ": " + std::strerror(rc));
  return pid;
}

StatusOr<LocalReplicas::Group> LocalReplicas::Start(const LocalReplicaSpec& spec,
                                                    std::chrono::seconds wait) {
  std::error_code ec;
  fs::create_directories(home_ / "logs", ec);
  fs::create_directories(home_ / "run", ec);
  Group group;
  {
    std::lock_guard<std::mutex> lock(mu_);
    group.id = next_group_++;
  }
  std::vector<Child> started;
  const auto fail = [&](Status s) {
    Terminate(started, std::chrono::seconds(10));
    return s;
  };
  for (int i = 0; i < spec.count; ++i) {
    Child c;
    c.group = group.id;
    c.deployment = spec.deployment;
    c.log = (home_ / "logs" / (spec.deployment + "-" + std::to_string(i) + ".log")).string();
    const fs::path port_file =
        home_ / "run" /
        (spec.deployment + "-g" + std::to_string(group.id) + "-" + std::to_string(i) + ".port");
    fs::remove(port_file, ec);
    c.argv = {exe_.string(), "--home",           home_.string(),       "serve",
              "--model",     spec.model,         "--listen",           "127.0.0.1:0",
              "--port-file", port_file.string(), "--exit-with-parent", std::to_string(getpid())};
    const bool tls = !spec.tls_cert.empty();
    if (tls) {
      c.argv.insert(c.argv.end(), {"--tls-cert", spec.tls_cert, "--tls-key", spec.tls_key,
                                   "--tls-client-ca", spec.client_ca});
    }
    c.argv.insert(c.argv.end(), spec.args.begin(), spec.args.end());
    auto pid = Spawn(c);
    if (!pid.ok()) return fail(pid.status());
    c.pid = *pid;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port && port > 0) {
        c.port = static_cast<uint16_t>(port);
        break;
      }
      int status = 0;
      if (waitpid(c.pid, &status, WNOHANG) == c.pid) {
        return fail(Status(ErrorCode::kUnavailable, "local replica " + std::to_string(i) + " of '" +
                                                        spec.deployment +
                                                        "' (medscribe serve --model " + spec.model +
                                                        ") exited while starting; see " + c.log));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &status, 0);
        return fail(Status(ErrorCode::kUnavailable,
                           "local replica of '" + spec.deployment + "' did not listen within " +
                               std::to_string(wait.count()) + " s; see " + c.log));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    c.url = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(c.port);
    // A restart keeps the port: the URL stays valid.
    for (std::string& a : c.argv)
      if (a == "127.0.0.1:0") a = "127.0.0.1:" + std::to_string(c.port);
    LOG_INFO("local replica {} of '{}' ({}) is up at {} (pid {})", i, spec.deployment, spec.model,
             c.url, c.pid);
    group.urls.push_back(c.url);
    started.push_back(std::move(c));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Child& c : started) children_.push_back(std::move(c));
  }
  if (!supervisor_.joinable()) supervisor_ = std::thread([this] { Supervise(); });
  return group;
}

void LocalReplicas::Supervise() {
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::lock_guard<std::mutex> lock(mu_);
    for (Child& c : children_) {
      if (stopping_) break;
      int status = 0;
      const pid_t w = c.pid > 0 ? waitpid(c.pid, &status, WNOHANG) : 0;
      // ECHILD: reaped elsewhere (SIGCHLD ignored by an ancestor's disposition): gone all the same.
      if (c.pid > 0 && (w == c.pid || (w < 0 && errno == ECHILD))) {
        const std::string how = w < 0 ? std::string("reaped elsewhere")
                                : WIFSIGNALED(status)
                                    ? "signal " + std::to_string(WTERMSIG(status))
                                    : "status " + std::to_string(WEXITSTATUS(status));
        LOG_WARN("local replica {} of '{}' exited ({}); restarting on the same port", c.url,
                 c.deployment, how);
        c.pid = -1;
        if (auto pid = Spawn(c); pid.ok()) c.pid = *pid;
      } else if (c.pid < 0) {
        if (auto pid = Spawn(c); pid.ok()) c.pid = *pid;
      }
    }
  }
}

std::vector<pid_t> LocalReplicas::pids() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<pid_t> out;
  for (const Child& c : children_) out.push_back(c.pid);
  return out;
}

void LocalReplicas::Terminate(std::vector<Child>& children, std::chrono::seconds grace) {
  for (const Child& c : children)
    if (c.pid > 0) kill(c.pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (Child& c : children) {
    if (c.pid <= 0) continue;
    int status = 0;
    while (waitpid(c.pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    c.pid = -1;
  }
}

void LocalReplicas::Stop(int group, std::chrono::seconds grace) {
  std::vector<Child> leaving;
  {
    // Out of the supervisor's sight first, so that it does not restart them.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = children_.begin(); it != children_.end();) {
      if (it->group == group) {
        leaving.push_back(std::move(*it));
        it = children_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const Child& c : leaving)
    LOG_INFO("stopping local replica {} of '{}' (pid {})", c.url, c.deployment, c.pid);
  Terminate(leaving, grace);
}

void LocalReplicas::Stop(std::chrono::seconds grace) {
  if (stopping_.exchange(true)) return;
  if (supervisor_.joinable()) supervisor_.join();
  std::lock_guard<std::mutex> lock(mu_);
  Terminate(children_, grace);
}

}  // namespace medscribe::gateway
