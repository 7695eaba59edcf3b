// A progress bar for long commands.
//
// Draws "label [#####.....] 120/1000 12%  35.2/s  ETA 0:25" on stderr, redrawn at most ten times a
// second, and only when stderr is a terminal (so logs and CI output stay clean). Finish() prints
// the final state and a newline.
//
// Thread safety: Advance() may be called from any number of threads concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace medscribe {

class ProgressBar {
 public:
  // `enabled` defaults to "stderr is a TTY".
  ProgressBar(std::string label, uint64_t total);
  ProgressBar(std::string label, uint64_t total, bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Advance(uint64_t n = 1);
  void Finish();
  uint64_t done() const { return done_.load(); }

  // The line drawn for the given state (exposed for tests).
  static std::string Render(const std::string& label, uint64_t done, uint64_t total,
                            double elapsed_s, int width = 30);

 private:
  void Draw(bool final);

  // Constant after construction.
  const std::string label_;
  const uint64_t total_;
  const bool enabled_;
  const std::chrono::steady_clock::time_point start_;

  std::atomic<uint64_t> done_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_draw_;  // GUARDED_BY(mu_)
  bool finished_ = false;                            // GUARDED_BY(mu_)
};

}  // namespace medscribe
