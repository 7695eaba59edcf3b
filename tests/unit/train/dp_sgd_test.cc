#include "train/dp_sgd.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "train/privacy_accountant.h"

namespace medscribe::train {
namespace {

TEST(DpSgdPlan, ABudgetAloneSetsTheSmallestNoiseThatSpendsItInTheSteps) {
  auto p = PlanDpSgd({.max_grad_norm = 1, .epsilon = 3, .delta = 1e-5}, 1000, 10, 500);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_DOUBLE_EQ(p->sample_rate, 0.01);
  EXPECT_EQ(p->steps, 500);
  EXPECT_LE(p->epsilon, 3.0);
  EXPECT_GT(p->epsilon, 2.9);  // within the accountant's 0.1% on the noise
  // A little less noise would spend more than the budget.
  EXPECT_GT(DpSgdEpsilon(0.01, p->noise_multiplier * 0.99, 500, 1e-5)->epsilon, 3.0);
}

TEST(DpSgdPlan, NoiseAndBudgetStopTheRunAtTheLastStepWithinTheBudget) {
  const double full = DpSgdEpsilon(0.01, 0.8, 1000, 1e-5)->epsilon;
  auto p = PlanDpSgd({.max_grad_norm = 1, .noise_multiplier = 0.8, .epsilon = 2, .delta = 1e-5},
                     1000, 10, 1000);
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_GT(full, 2.0);
  EXPECT_LT(p->steps, 1000);
  EXPECT_LE(p->epsilon, 2.0);
  EXPECT_GT(DpSgdEpsilon(0.01, 0.8, p->steps + 1, 1e-5)->epsilon, 2.0);
  // Noise alone: every step, whatever it spends.
  auto all =
      PlanDpSgd({.max_grad_norm = 1, .noise_multiplier = 0.8, .delta = 1e-5}, 1000, 10, 1000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->steps, 1000);
  EXPECT_NEAR(all->epsilon, full, 1e-12);
}

TEST(DpSgdPlan, RefusesWhatCannotBePrivate) {
  const auto code = [](DpSgdOptions o, int64_t n, int64_t batch) {
    return PlanDpSgd(o, n, batch, 100).status();
  };
  // Neither noise nor budget.
  EXPECT_NE(code({.max_grad_norm = 1}, 1000, 10).message().find("--dp-epsilon"), std::string::npos);
  // A batch larger than the data.
  EXPECT_NE(code({.max_grad_norm = 1, .epsilon = 1}, 8, 10).message().find("--batch-size"),
            std::string::npos);
  // delta not below 1/N.
  EXPECT_NE(code({.max_grad_norm = 1, .epsilon = 1, .delta = 0.01}, 1000, 10)
                .message()
                .find("--dp-delta"),
            std::string::npos);
  // A budget not even one step fits.
  EXPECT_NE(code({.max_grad_norm = 1, .noise_multiplier = 0.1, .epsilon = 0.01}, 1000, 10)
                .message()
                .find("one step"),
            std::string::npos);
  EXPECT_EQ(code({.max_grad_norm = -1, .epsilon = 1}, 1000, 10).code(),
            ErrorCode::kInvalidArgument);
}

TEST(PoissonSample, EachExampleIsDrawnIndependentlyAtTheRateAndReproducibly) {
  const size_t n = 10000;
  double total = 0;
  for (uint64_t step = 0; step < 50; ++step) {
    const std::vector<size_t> s = PoissonSample(n, 0.01, 7, step);
    EXPECT_EQ(s, PoissonSample(n, 0.01, 7, step));
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
    total += static_cast<double>(s.size());
  }
  EXPECT_NEAR(total / 50, 100, 5);  // 5000 draws in all: within 2.5 standard deviations
  EXPECT_NE(PoissonSample(n, 0.01, 7, 0), PoissonSample(n, 0.01, 7, 1));
  EXPECT_NE(PoissonSample(n, 0.01, 7, 0), PoissonSample(n, 0.01, 8, 0));
  EXPECT_TRUE(PoissonSample(n, 0, 7, 0).empty());
  EXPECT_EQ(PoissonSample(50, 1, 7, 0).size(), 50u);
}

// A linear model whose gradient for example (x, y) under 0.5 (w.x - y)^2 is (w.x - y) x.
struct Linear {
  torch::Tensor w = torch::zeros({3}, torch::requires_grad());
  torch::Tensor Gradient(const torch::Tensor& x, double y) {
    w.mutable_grad() = torch::Tensor();
    (0.5 * (w.dot(x) - y).pow(2)).backward();
    return w.grad().clone();
  }
};

TEST(PerExampleClipper, AnOutlierContributesAtMostTheClipNorm) {
  const double c = 1.0;
  const std::vector<torch::Tensor> xs = {torch::tensor({0.1f, 0.2f, 0.0f}),
                                         torch::tensor({0.0f, 0.3f, 0.1f}),
                                         torch::tensor({500.0f, -400.0f, 900.0f})};  // the outlier
  const std::vector<double> ys = {1, -1, 1000};
  Linear model;
  PerExampleClipper clipper({model.w}, c);
  torch::Tensor expected = torch::zeros({3});
  std::vector<double> norms;
  for (size_t i = 0; i < xs.size(); ++i) {
    const torch::Tensor g = model.Gradient(xs[i], ys[i]);
    norms.push_back(clipper.AddExample());
    EXPECT_NEAR(norms.back(), g.norm().item<double>(), 1e-3 * norms.back());
    expected += g * std::min(1.0, c / g.norm().item<double>());
    EXPECT_FALSE(model.w.grad().defined()) << "the example's gradient is cleared";
  }
  EXPECT_LT(norms[0], c);
  EXPECT_GT(norms[2], 1e5);
  EXPECT_EQ(clipper.examples(), 3);
  EXPECT_EQ(clipper.clipped(), 1);
  clipper.Finish(0, 2.0, 1);
  EXPECT_TRUE(torch::allclose(model.w.grad(), expected / 2, 1e-5, 1e-6));

  // The data set with and without the outlier: their clipped sums differ by at most C.
  PerExampleClipper without({model.w}, c), with({model.w}, c);
  for (size_t i = 0; i < xs.size(); ++i) {
    model.Gradient(xs[i], ys[i]);
    if (i < 2) {
      const torch::Tensor keep = model.w.grad().clone();
      without.AddExample();
      model.w.mutable_grad() = keep;
    }
    with.AddExample();
  }
  without.Finish(0, 1, 1);
  const torch::Tensor a = model.w.grad().clone();
  with.Finish(0, 1, 1);
  EXPECT_NEAR((model.w.grad() - a).norm().item<double>(), c, 1e-5);
}

TEST(PerExampleClipper, TheNoiseHasTheAskedDeviationAndDependsOnlyOnItsSeed) {
  torch::Tensor p = torch::zeros({20000}, torch::requires_grad());
  PerExampleClipper clipper({p}, 1.0);
  clipper.Finish(2.5, 1.0, 42);  // no examples: the noise alone
  const torch::Tensor first = p.grad().clone();
  EXPECT_NEAR(first.std().item<double>(), 2.5, 0.05);
  EXPECT_NEAR(first.mean().item<double>(), 0, 0.05);
  clipper.Finish(2.5, 4.0, 42);
  EXPECT_TRUE(torch::allclose(p.grad(), first / 4));
  clipper.Finish(2.5, 1.0, 43);
  EXPECT_FALSE(torch::allclose(p.grad(), first));
  EXPECT_NE(DpNoiseSeed(1, 5), DpNoiseSeed(1, 6));
  EXPECT_NE(DpNoiseSeed(1, 5), DpNoiseSeed(2, 5));
}

}  // namespace
}  // namespace medscribe::train
