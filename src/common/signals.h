// Process-wide signals taken from every thread and handed to one waiting loop.
//
// A signal sent to a process is delivered to any one of its threads that does not block it.
// Threads that libraries start before main() (a BLAS thread pool, for one) block nothing, so
// blocking a signal in main() and calling sigwait() does not own it: when the waiting thread is
// busy, the kernel hands the signal to such a thread, and a SIGHUP or SIGTERM then takes its
// default action and ends the process. While a SignalWaiter lives, each of its signals instead
// runs a handler, on whichever thread, that queues the signal's number on a pipe; Wait() takes
// them in the order they came.
//
// Example:
//   ASSIGN_OR_RETURN(auto signals, SignalWaiter::Create({SIGTERM, SIGINT, SIGHUP}));
//   while (int sig = signals->Wait()) { if (sig != SIGHUP) break; Reload(); }
//
// Child processes start with the default dispositions (exec resets handled signals).
// At most one SignalWaiter exists at a time: the handler's pipe is process-wide.
// Thread safety: call Wait() from one thread at a time; construction and destruction from the
// thread that owns the object.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "common/status.h"

namespace medscribe {

class SignalWaiter {
 public:
  // Installs the handler for each of `signals` (SA_RESTART: other threads' system calls go on).
  // FailedPrecondition when another SignalWaiter lives; Internal when the pipe or a handler
  // cannot be set up (nothing stays installed then).
  // REQUIRES: each signal can be caught (not SIGKILL or SIGSTOP).
  static StatusOr<std::unique_ptr<SignalWaiter>> Create(const std::vector<int>& signals);

  // Restores the dispositions found at Create() and closes the pipe; signals still queued are
  // dropped.
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // The next signal received, or 0 when `timeout` passes first; a negative timeout waits with
  // no limit.
  int Wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

 private:
  SignalWaiter() = default;
  struct Saved;
  std::vector<Saved> saved_;
};

}  // namespace medscribe
