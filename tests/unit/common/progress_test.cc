#include "common/progress.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace medscribe {
namespace {

TEST(ProgressBarTest, RenderShowsCountPercentRateAndEta) {
  const std::string line = ProgressBar::Render("synth", 50, 200, 10.0, 20);
  EXPECT_EQ(line, "synth [#####...............] 50/200  25%  5.0/s  ETA 0:30");
}

TEST(ProgressBarTest, RenderHandlesStartAndEnd) {
  EXPECT_NE(ProgressBar::Render("x", 0, 10, 0.0).find("ETA --:--"), std::string::npos);
  EXPECT_NE(ProgressBar::Render("x", 10, 10, 2.0).find("100%"), std::string::npos);
}

TEST(ProgressBarTest, CountsFromManyThreads) {
  ProgressBar bar("t", 4000, /*enabled=*/false);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) bar.Advance();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bar.done(), 4000u);
}

}  // namespace
}  // namespace medscribe
