// The parameter-server protocol over real Gloo groups on loopback (one thread per rank): plain
// SGD on small tensors whose gradients each worker knows in advance.
#include "train/parameter_server.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "testing/gloo_ranks.h"

namespace medscribe::train {
namespace {

using medscribe::testing::RunRanks;

constexpr double kLr = 0.01;

// The same three tensors on every rank.
std::vector<torch::Tensor> Params() {
  return {torch::arange(4, torch::kFloat32), torch::ones({2, 3}), torch::full({5}, 2.0f)};
}
const std::vector<int> kOwner = {0, 1, 0};  // server of each tensor (two servers)

// Worker w's gradient at `clock`: (w + 1) x (clock + 1) everywhere.
void SetGradients(std::vector<torch::Tensor>& params, int w, int64_t clock) {
  for (torch::Tensor& p : params)
    p.mutable_grad() = torch::full_like(p, static_cast<float>((w + 1) * (clock + 1)));
}

// The server side: plain SGD on the summed gradients.
std::string Serve(Communicator* world, PsLayout layout, int staleness, int64_t steps,
                  const std::vector<int>& owner) {
  std::vector<torch::Tensor> all = Params(), mine;
  const int k = world->rank() - layout.workers;
  for (size_t i = 0; i < all.size(); ++i)
    if (owner[i] == k) mine.push_back(all[i]);
  ParameterServer server(mine, world, layout, staleness, 0, steps);
  int64_t afters = 0;
  auto stats = server.Run(
      [&](int64_t) {
        torch::NoGradGuard no_grad;
        for (torch::Tensor& p : mine) p.sub_(p.grad() * kLr);
        return OkStatus();
      },
      [&](int64_t) {
        ++afters;
        return OkStatus();
      });
  if (!stats.ok()) return stats.status().message();
  const int64_t updates = staleness > 0 ? steps * layout.workers : steps;
  if (stats->updates != updates || afters != steps || stats->pushes != steps * layout.workers)
    return "server: " + std::to_string(stats->updates) + " updates, " +
           std::to_string(stats->pushes) + " pushes";
  return "";
}

TEST(ParameterServer, SynchronousStepsApplyTheSumOfEveryWorkersGradients) {
  const PsLayout layout{2, 2};
  constexpr int64_t kSteps = 5;
  std::vector<std::vector<torch::Tensor>> final(2);
  const auto errors = RunRanks(4, [&](int rank, Communicator* world) -> std::string {
    if (layout.IsServer(rank)) return Serve(world, layout, 0, kSteps, kOwner);
    std::vector<torch::Tensor> params = Params();
    ParameterClient client(params, kOwner, world, layout);
    for (int64_t c = 0; c < kSteps; ++c) {
      SetGradients(params, rank, c);
      auto pulled = client.Exchange(c, c + 1);
      if (!pulled.ok()) return pulled.status().message();
      if (pulled->oldest_version != c + 1) return "clock " + std::to_string(c) + ": stale weights";
    }
    final[static_cast<size_t>(rank)] = params;
    return "";
  });
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  // Each step subtracts lr x (1 + 2) x (clock + 1): 0.03 x (1 + ... + 5) = 0.45 in all.
  const std::vector<torch::Tensor> start = Params();
  for (int w = 0; w < 2; ++w) {
    ASSERT_EQ(final[static_cast<size_t>(w)].size(), 3u);
    for (size_t i = 0; i < 3; ++i)
      EXPECT_TRUE(torch::allclose(final[static_cast<size_t>(w)][i], start[i] - 0.45f))
          << "worker " << w << ", tensor " << i;
  }
}

// Asynchronous: every push is applied at once, and a worker runs ahead of the slowest by up to
// the staleness.
TEST(ParameterServer, AWorkerRunsUpToStalenessStepsAheadOfTheSlowestAndNoFurther) {
  const PsLayout layout{2, 1};
  constexpr int kStaleness = 2;
  constexpr int64_t kSteps = 4;
  std::atomic<int> fast_done{0};
  std::atomic<bool> blocked_while_waiting{false}, slow_started_late{false};
  const auto errors = RunRanks(3, [&](int rank, Communicator* world) -> std::string {
    const std::vector<int> owner(3, 0);
    if (layout.IsServer(rank)) return Serve(world, layout, kStaleness, kSteps, owner);
    std::vector<torch::Tensor> params = Params();
    ParameterClient client(params, owner, world, layout);
    if (rank == 1) {  // the slow worker starts only once the fast one is kStaleness steps ahead
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (fast_done < kStaleness && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      slow_started_late = fast_done == kStaleness;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      blocked_while_waiting = fast_done == kStaleness;  // its third step waits for this one
    }
    for (int64_t c = 0; c < kSteps; ++c) {
      SetGradients(params, rank, c);
      const int64_t need = c + 1 == kSteps ? kSteps : c + 1 - kStaleness;
      auto pulled = client.Exchange(c, need);
      if (!pulled.ok()) return pulled.status().message();
      if (pulled->oldest_version < need) return "a pull below the version asked for";
      if (rank == 0) ++fast_done;
    }
    // The last step is synchronous: both end on the same weights, every push applied once:
    // 0.01 x (1 + 2) x (1 + 2 + 3 + 4).
    const std::vector<torch::Tensor> start = Params();
    for (size_t i = 0; i < 3; ++i)
      if (!torch::allclose(params[i], start[i] - 0.3f)) return "wrong final weights";
    return "";
  });
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_TRUE(slow_started_late) << "the fast worker did not get " << kStaleness << " steps ahead";
  EXPECT_TRUE(blocked_while_waiting)
      << "the fast worker ran more than " << kStaleness << " steps ahead of the slowest";
}

TEST(ParameterServer, AWorldWithoutRoomForServersAndWorkersIsRefused) {
  EXPECT_TRUE(MakePsLayout(3, 1, 0).ok());
  EXPECT_EQ(MakePsLayout(3, 1, 0)->workers, 2);
  const auto few = MakePsLayout(2, 2, 0);
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("needs at least 3 ranks"), std::string::npos);
  EXPECT_FALSE(MakePsLayout(4, 0, 0).ok());
  EXPECT_FALSE(MakePsLayout(4, 1, -1).ok());
}

}  // namespace
}  // namespace medscribe::train
