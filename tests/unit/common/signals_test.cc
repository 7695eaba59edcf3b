#include "common/signals.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace medscribe {
namespace {

using std::chrono::milliseconds;

// The handler installed for `sig` now.
void (*HandlerOf(int sig))(int) {
  struct sigaction now {};
  sigaction(sig, nullptr, &now);
  return now.sa_handler;
}

TEST(SignalWaiter, SignalsSentToTheProcessAreQueuedInOrder) {
  auto w = SignalWaiter::Create({SIGHUP, SIGUSR1});
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  ASSERT_EQ(kill(getpid(), SIGHUP), 0);
  EXPECT_EQ((*w)->Wait(milliseconds(2000)), SIGUSR1);
  EXPECT_EQ((*w)->Wait(milliseconds(2000)), SIGHUP);
  EXPECT_EQ((*w)->Wait(milliseconds(20)), 0) << "nothing more was sent";
}

// The failure this class exists for: a thread started before it (as a BLAS pool is, before
// main) blocks nothing, and a signal the kernel hands to that thread must not end the process.
TEST(SignalWaiter, ASignalDeliveredToAnotherThreadReachesTheWaiter) {
  std::atomic<bool> stop{false};
  std::atomic<pthread_t> other{};
  std::atomic<bool> started{false};
  std::thread t([&] {
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    other = pthread_self();
    started = true;
    while (!stop) std::this_thread::sleep_for(milliseconds(1));
  });
  while (!started) std::this_thread::sleep_for(milliseconds(1));
  auto w = SignalWaiter::Create({SIGHUP, SIGTERM});
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(pthread_kill(other.load(), SIGHUP), 0);
  ASSERT_EQ(pthread_kill(other.load(), SIGTERM), 0);
  EXPECT_EQ((*w)->Wait(milliseconds(2000)), SIGHUP);
  EXPECT_EQ((*w)->Wait(milliseconds(2000)), SIGTERM);
  stop = true;
  t.join();
}

TEST(SignalWaiter, WaitReturnsZeroAfterItsTimeout) {
  auto w = SignalWaiter::Create({SIGUSR2});
  ASSERT_TRUE(w.ok());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ((*w)->Wait(milliseconds(50)), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(45));
}

TEST(SignalWaiter, OneAtATimeAndTheOldDispositionsComeBack) {
  ASSERT_EQ(HandlerOf(SIGUSR1), SIG_DFL);
  {
    auto w = SignalWaiter::Create({SIGUSR1});
    ASSERT_TRUE(w.ok());
    EXPECT_NE(HandlerOf(SIGUSR1), SIG_DFL);
    auto second = SignalWaiter::Create({SIGUSR2});
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), ErrorCode::kFailedPrecondition);
    EXPECT_EQ(HandlerOf(SIGUSR2), SIG_DFL) << "the refused waiter installed nothing";
  }
  EXPECT_EQ(HandlerOf(SIGUSR1), SIG_DFL);
  EXPECT_TRUE(SignalWaiter::Create({SIGUSR1}).ok()) << "free again once the first is gone";
}

TEST(SignalWaiter, AnUncatchableSignalIsRefusedAndLeavesNothingInstalled) {
  auto w = SignalWaiter::Create({SIGUSR1, SIGKILL});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(HandlerOf(SIGUSR1), SIG_DFL);
  EXPECT_TRUE(SignalWaiter::Create({SIGUSR1}).ok());
}

}  // namespace
}  // namespace medscribe
