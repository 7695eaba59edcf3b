#include "train/ddp.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>

#include "testing/free_port.h"

namespace medscribe::train {
namespace {

using medscribe::testing::FreePort;

// Three layers, the middle one unused when `skip_middle`: the reducer must still complete its
// bucket (zeros) instead of waiting for a gradient that never comes.
struct Net : torch::nn::Module {
  Net() {
    a = register_module("a", torch::nn::Linear(8, 16));
    b = register_module("b", torch::nn::Linear(16, 16));
    c = register_module("c", torch::nn::Linear(16, 4));
    // Fixed weights (no shared random generator between the ranks' threads).
    torch::NoGradGuard no_grad;
    double k = 1;
    for (auto& p : parameters()) {
      p.copy_(torch::sin(torch::arange(p.numel(), torch::kFloat32) * 0.37 + k).view_as(p) * 0.3);
      k += 1;
    }
  }
  torch::Tensor forward(const torch::Tensor& x, bool skip_middle) {
    torch::Tensor h = torch::tanh(a->forward(x));
    if (!skip_middle) h = torch::tanh(b->forward(h));
    return c->forward(h);
  }
  torch::nn::Linear a{nullptr}, b{nullptr}, c{nullptr};
};

torch::Tensor Input(int rank, int micro) {
  return torch::linspace(-1, 1, 24).view({3, 8}) * (rank + 1) + micro * 0.25;
}

// Gradients of one process that sees every rank's micro-batches (the reference).
std::vector<torch::Tensor> ReferenceGradients(int world, int micro_steps, bool skip_middle) {
  Net net;
  for (int r = 0; r < world; ++r)
    for (int m = 0; m < micro_steps; ++m)
      net.forward(Input(r, m), skip_middle).square().sum().backward();
  std::vector<torch::Tensor> out;
  for (auto& p : net.parameters())
    out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return out;
}

void RunRanks(int world, int micro_steps, bool skip_middle, bool overlap, int64_t bucket_bytes) {
  const std::vector<torch::Tensor> expected = ReferenceGradients(world, micro_steps, skip_middle);
  const int port = FreePort();
  std::vector<std::vector<torch::Tensor>> got(world);
  std::vector<std::string> errors(world);
  std::vector<size_t> buckets(world), early(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      Topology t;
      t.rank = r;
      t.world_size = world;
      t.master_port = port;
      auto comm = Connect(t, 60);
      if (!comm.ok()) {
        errors[r] = comm.status().message();
        return;
      }
      Net net;
      GradientReducer reducer(net.parameters(), comm->get(), bucket_bytes, overlap);
      for (int m = 0; m < micro_steps; ++m) {
        reducer.Prepare(m + 1 == micro_steps);
        net.forward(Input(r, m), skip_middle).square().sum().backward();
      }
      if (Status s = reducer.Finish(); !s.ok()) errors[r] = s.message();
      for (auto& p : net.parameters()) got[r].push_back(p.grad().clone());
      buckets[r] = reducer.num_buckets();
      early[r] = reducer.launched_during_backward();
    });
  }
  for (std::thread& th : threads) th.join();
  for (int r = 0; r < world; ++r) {
    ASSERT_EQ(errors[r], "") << "rank " << r;
    ASSERT_EQ(got[r].size(), expected.size());
    for (size_t k = 0; k < expected.size(); ++k)
      EXPECT_TRUE(torch::allclose(got[r][k], expected[k], 1e-5, 1e-6))
          << "rank " << r << " parameter " << k;
  }
  if (bucket_bytes < 1024) {
    EXPECT_GT(buckets[0], 1u);
  }
  if (overlap && !skip_middle) {
    EXPECT_EQ(early[0], buckets[0]) << "every bucket should start during backward";
  }
  if (!overlap) {
    EXPECT_EQ(early[0], 0u);
  }
}

TEST(GradientReducer, SumsGradientsOfAllRanks) { RunRanks(2, 1, false, true, 25 << 20); }

TEST(GradientReducer, SmallBucketsStartDuringBackward) { RunRanks(2, 1, false, true, 256); }

TEST(GradientReducer, AccumulatesMicroStepsAndSendsOnce) { RunRanks(2, 3, false, true, 256); }

TEST(GradientReducer, UnusedParametersCountAsZero) { RunRanks(2, 1, true, true, 256); }

TEST(GradientReducer, AfterBackwardBaselineGivesTheSameResult) {
  RunRanks(3, 2, false, false, 256);
}

}  // namespace
}  // namespace medscribe::train
