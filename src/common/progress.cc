#include "common/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace medscribe {

ProgressBar::ProgressBar(std::string label, uint64_t total)
    : ProgressBar(std::move(label), total, isatty(STDERR_FILENO) == 1) {}

ProgressBar::ProgressBar(std::string label, uint64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { Finish(); }

std::string ProgressBar::Render(const std::string& label, uint64_t done, uint64_t total,
                                double elapsed_s, int width) {
  const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(frac * width);
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  std::string eta = "--:--";
  if (rate > 0 && done <= total) {
    const auto secs = static_cast<uint64_t>(static_cast<double>(total - done) / rate + 0.5);
    eta = fmt::format("{}:{:02d}", secs / 60, secs % 60);
  }
  return fmt::format("{} [{}{}] {}/{} {:3d}%  {:.1f}/s  ETA {}", label, std::string(filled, '#'),
                     std::string(width - filled, '.'), done, total,
                     static_cast<int>(frac * 100 + 1e-9), rate, eta);
}

void ProgressBar::Advance(uint64_t n) {
  done_.fetch_add(n);
  if (!enabled_) return;
  Draw(false);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  Draw(true);
}

void ProgressBar::Draw(bool final) {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::string line = Render(label_, done_.load(), total_, elapsed);
  std::fprintf(stderr, "\r%s\x1b[K%s", line.c_str(), final ? "\n" : "");
  std::fflush(stderr);
  if (final) finished_ = true;
}

}  // namespace medscribe
