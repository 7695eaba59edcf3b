#include "common/signals.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace medscribe {
namespace {

// The pipe's ends; -1 while no SignalWaiter lives. The handler reads the write end only.
std::atomic<int> g_read_fd{-1};
std::atomic<int> g_write_fd{-1};
std::atomic<bool> g_taken{false};

extern "C" void QueueSignal(int sig) {
  const int saved_errno = errno;  // the interrupted code may be about to read errno
  const int fd = g_write_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    const unsigned char byte = static_cast<unsigned char>(sig);
    // A full pipe (thousands of signals unread) drops this one: nothing to do about it here.
    [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);
  }
  errno = saved_errno;
}

}  // namespace

struct SignalWaiter::Saved {
  int signal = 0;
  struct sigaction action {};
};

StatusOr<std::unique_ptr<SignalWaiter>> SignalWaiter::Create(const std::vector<int>& signals) {
  if (g_taken.exchange(true))
    return FailedPreconditionError("a SignalWaiter already takes this process's signals");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    g_taken = false;
    return InternalError(std::string("cannot create the signal pipe: ") + std::strerror(errno));
  }
  g_read_fd = fds[0];
  g_write_fd = fds[1];
  std::unique_ptr<SignalWaiter> w(new SignalWaiter());
  for (int sig : signals) {
    struct sigaction action {};
    action.sa_handler = QueueSignal;
    action.sa_flags = SA_RESTART;
    sigfillset(&action.sa_mask);  // one handler at a time per thread
    Saved saved;
    saved.signal = sig;
    if (::sigaction(sig, &action, &saved.action) != 0)
      return InternalError("cannot handle signal " + std::to_string(sig) + ": " +
                           std::strerror(errno));  // ~SignalWaiter undoes what was done
    w->saved_.push_back(saved);
  }
  // A signal that this thread blocks would still reach the handler through another thread, but
  // unblocking it here makes the thread that waits the first to be chosen.
  sigset_t set;
  sigemptyset(&set);
  for (int sig : signals) sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  return w;
}

SignalWaiter::~SignalWaiter() {
  for (const Saved& s : saved_) ::sigaction(s.signal, &s.action, nullptr);
  const int w = g_write_fd.exchange(-1), r = g_read_fd.exchange(-1);
  ::close(w);
  ::close(r);
  g_taken = false;
}

int SignalWaiter::Wait(std::chrono::milliseconds timeout) {
  const int fd = g_read_fd.load();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    unsigned char byte = 0;
    if (::read(fd, &byte, 1) == 1) return byte;
    int wait_ms = -1;
    if (timeout.count() >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return 0;
      wait_ms = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, wait_ms);  // EINTR (a handled signal on this thread) loops to the read
  }
}

}  // namespace medscribe
