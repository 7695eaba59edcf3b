#include "common/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace medscribe {
namespace {

TEST(ParallelForTest, VisitsEveryIndexExactlyOnce) {
  for (int jobs : {0, 1, 2, 4}) {
    std::vector<std::atomic<int>> hits(1000);
    ParallelFor(hits.size(), jobs, [&](size_t i) { hits[i]++; });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "jobs=" << jobs;
  }
  EXPECT_GE(HardwareJobs(), 1);
}

}  // namespace
}  // namespace medscribe
