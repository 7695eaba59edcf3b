// A software TPM 2.0 (swtpm, from Debian's swtpm package) on loopback for tests: started on
// free ports with its own state directory (so its own owner seed), stopped on destruction.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "testing/free_port.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace medscribe::testing {

class SoftwareTpm {
 public:
  // Starts swtpm; ok() is false when it is not installed or does not answer within 10 s.
  SoftwareTpm() {
    // The TSS's swtpm TCTI reaches the control channel on the next port.
    port_ = FreePort();
    const int ctrl = port_ + 1;
    std::vector<std::string> args = {
        "swtpm",
        "socket",
        "--tpm2",
        "--tpmstate",
        "dir=" + dir_.path().string(),
        "--server",
        "type=tcp,port=" + std::to_string(port_) + ",bindaddr=127.0.0.1",
        "--ctrl",
        "type=tcp,port=" + std::to_string(ctrl) + ",bindaddr=127.0.0.1",
        "--flags",
        "not-need-init,startup-clear"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "swtpm", nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = 0;
      return;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (Answers()) {
        ok_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~SoftwareTpm() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  SoftwareTpm(const SoftwareTpm&) = delete;
  SoftwareTpm& operator=(const SoftwareTpm&) = delete;

  bool ok() const { return ok_; }
  // The TCTI configuration that reaches it.
  std::string tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

 private:
  bool Answers() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return up;
  }

  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = 0;
  bool ok_ = false;
};

}  // namespace medscribe::testing
