#include "engine/kernels.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <tuple>

namespace medscribe::engine {
namespace {

// Largest |a - b| relative to the largest |b|.
double RelErr(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

class MatmulTest
    : public ::testing::TestWithParam<std::tuple<WeightFormat, int64_t, int64_t, int64_t>> {};

TEST_P(MatmulTest, EqualsTheFloatProductWithDequantizedWeights) {
  const auto [format, m, n, k] = GetParam();
  torch::manual_seed(n * 31 + k + m);
  const torch::Tensor w = torch::randn({n, k});
  const torch::Tensor x = torch::randn({m, k});
  auto p = Pack(w, format);
  ASSERT_TRUE(p.ok()) << p.status().message();
  PrepareForKernels(&*p);
  torch::Tensor y = torch::empty({m, n});
  Matmul(x.data_ptr<float>(), m, *p, y.data_ptr<float>());
  const torch::Tensor deq = Dequantize(*p);
  // int8 and int4 also round the activations (per 64 inputs) when k allows.
  const bool quantized = format == WeightFormat::kInt8 || format == WeightFormat::kInt4;
  const torch::Tensor xs =
      quantized && k % kActivationBlock == 0 ? QuantizeActivationsForTest(x) : x;
  EXPECT_LT(RelErr(y, torch::matmul(xs, deq.t())), 1e-5);
  if (quantized) {
    EXPECT_LT(RelErr(y, torch::matmul(x, deq.t())), 0.02);
  }
  // The quantization itself: bounded error against the original weights.
  const double bound = format == WeightFormat::kF32    ? 0
                       : format == WeightFormat::kBF16 ? 4e-3
                       : format == WeightFormat::kInt8 ? 5e-3
                                                       : 0.13;  // one step, -8 * d clamps to 7
  EXPECT_LE(RelErr(deq, w), bound + 1e-7);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MatmulTest,
    ::testing::Combine(::testing::Values(WeightFormat::kF32, WeightFormat::kBF16,
                                         WeightFormat::kInt8, WeightFormat::kInt4),
                       ::testing::Values(1, 3, 4, 9, 40),      // rows of x (decode, batch, prefill)
                       ::testing::Values(1, 7, 64, 130),       // output columns (tails of 4, 16)
                       ::testing::Values(32, 96, 416, 384)));  // input size (multiples of 32)

TEST(Matmul, ActivationsRoundToTheLevelsOfTheirBlock) {
  torch::manual_seed(8);
  torch::Tensor x = torch::randn({5, 192}) * 3;
  x[2].narrow(0, 64, 64).zero_();  // an all-zero block keeps scale 1 and stays zero
  x[3][7] = 40;                    // an outlier sets its own block's scale only
  const torch::Tensor got = QuantizeActivationsForTest(x);
  const torch::Tensor blocks = x.view({5, 3, 64});
  torch::Tensor s = blocks.abs().amax(2, true) / 127;
  s = torch::where(s > 0, s, torch::ones_like(s));
  const torch::Tensor q = torch::round(torch::clamp(blocks * (1 / s), -127, 127));
  EXPECT_TRUE(torch::equal(got, (q * s).view({5, 192})));
  EXPECT_TRUE(torch::equal(got[2].narrow(0, 64, 64), torch::zeros({64})));
}

TEST(Matmul, TwoThreadsComputeTheSameProductsAsOne) {
  // Long enough that both the activation rounding and the products are split over threads.
  torch::manual_seed(9);
  const torch::Tensor w = torch::randn({300, 1024}), x = torch::randn({70, 1024});
  const int before = at::get_num_threads();
  for (WeightFormat f : {WeightFormat::kF32, WeightFormat::kInt8, WeightFormat::kInt4}) {
    auto p = Pack(w, f);
    ASSERT_TRUE(p.ok());
    PrepareForKernels(&*p);
    torch::Tensor one = torch::empty({70, 300}), two = torch::empty({70, 300});
    at::set_num_threads(1);
    Matmul(x.data_ptr<float>(), 70, *p, one.data_ptr<float>());
    at::set_num_threads(2);
    Matmul(x.data_ptr<float>(), 70, *p, two.data_ptr<float>());
    const torch::Tensor xs = f == WeightFormat::kF32 ? x : QuantizeActivationsForTest(x);
    EXPECT_LT(RelErr(two, torch::matmul(xs, Dequantize(*p).t())), 1e-5) << WeightFormatName(f);
    if (f != WeightFormat::kF32) {
      EXPECT_TRUE(torch::equal(one, two)) << WeightFormatName(f);
    }
  }
  at::set_num_threads(before);
}

TEST(Matmul, InputSizesWithATailOfSixteen) {
  torch::manual_seed(3);
  for (WeightFormat f : {WeightFormat::kF32, WeightFormat::kBF16, WeightFormat::kInt8}) {
    const torch::Tensor w = torch::randn({10, 37}), x = torch::randn({5, 37});
    auto p = Pack(w, f);
    ASSERT_TRUE(p.ok());
    torch::Tensor y = torch::empty({5, 10});
    Matmul(x.data_ptr<float>(), 5, *p, y.data_ptr<float>());
    EXPECT_LT(RelErr(y, torch::matmul(x, Dequantize(*p).t())), 1e-5) << WeightFormatName(f);
  }
  EXPECT_FALSE(Pack(torch::randn({4, 37}), WeightFormat::kInt4).ok());
}

TEST(Pack, StoredFormRoundTripsAndIsChecked) {
  torch::manual_seed(4);
  const torch::Tensor w = torch::randn({6, 64});
  for (WeightFormat f : {WeightFormat::kInt8, WeightFormat::kInt4}) {
    auto p = Pack(w, f);
    ASSERT_TRUE(p.ok());
    auto stored = ToStored("m", *p);
    ASSERT_EQ(stored.size(), 2u);
    auto back = FromStored("m", f, 6, 64, stored[0].second, stored[1].second);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_TRUE(torch::equal(Dequantize(*back), Dequantize(*p)));
    // A file whose shapes disagree with the config is refused, naming the tensor.
    auto bad = FromStored("m", f, 7, 64, stored[0].second, stored[1].second);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("'m'"), std::string::npos);
    torch::Tensor nan_scales = stored[1].second.clone();
    nan_scales.view(-1)[0] = NAN;
    EXPECT_FALSE(FromStored("m", f, 6, 64, stored[0].second, nan_scales).ok());
    if (f == WeightFormat::kInt8) {
      // -128 is outside symmetric quantization; the kernels negate weights and need it absent.
      torch::Tensor q = stored[0].second.clone();
      q.view(-1)[5] = -128;
      auto out = FromStored("m", f, 6, 64, q, stored[1].second);
      ASSERT_FALSE(out.ok());
      EXPECT_NE(out.status().message().find("-128"), std::string::npos);
    }
  }
}

TEST(Kernels, RmsNormRopeSiluMatchLibTorch) {
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({96}), g = torch::randn({96});
  torch::Tensor y = torch::empty({96});
  RmsNorm(x.data_ptr<float>(), g.data_ptr<float>(), 96, 1e-5f, y.data_ptr<float>());
  EXPECT_LT(RelErr(y, g * x * torch::rsqrt(x.pow(2).mean() + 1e-5)), 1e-6);

  const torch::Tensor a = torch::randn({77}) * 6, b = torch::randn({77});
  torch::Tensor s = torch::empty({77});
  SiluMul(a.data_ptr<float>(), b.data_ptr<float>(), 77, s.data_ptr<float>());
  EXPECT_LT(RelErr(s, torch::silu(a) * b), 1e-6);

  // Rotate-half with the cos/sin of one position, two heads of 8.
  const torch::Tensor v = torch::randn({2, 8}), cos = torch::rand({8}), sin = torch::rand({8});
  torch::Tensor r = v.clone();
  Rope(r.data_ptr<float>(), 2, 8, cos.data_ptr<float>(), sin.data_ptr<float>());
  const torch::Tensor half = torch::cat({-v.narrow(1, 4, 4), v.narrow(1, 0, 4)}, 1);
  EXPECT_LT(RelErr(r, v * cos + half * sin), 1e-6);
}

TEST(Kernels, PagedAttentionMatchesSoftmaxAttention) {
  torch::manual_seed(6);
  const int64_t heads = 4, kv_heads = 2, hd = 32, slots_total = 40;
  const torch::Tensor k = torch::randn({slots_total, kv_heads, hd}) * 2;
  const torch::Tensor v = torch::randn({slots_total, kv_heads, hd});
  const torch::Tensor q = torch::randn({heads, hd}) * 2;
  const std::vector<int64_t> slots = {7, 3, 30, 31, 12, 0, 22, 5, 9, 39, 17};
  torch::Tensor out = torch::empty({heads, hd});
  std::vector<float> scratch(slots.size());
  PagedAttention(q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(), slots, heads,
                 kv_heads, hd, out.data_ptr<float>(), scratch.data());
  const torch::Tensor idx = torch::tensor(slots, torch::kLong);
  const torch::Tensor ks = k.index_select(0, idx).repeat_interleave(2, 1).transpose(0, 1);
  const torch::Tensor vs = v.index_select(0, idx).repeat_interleave(2, 1).transpose(0, 1);
  const torch::Tensor p = torch::softmax(
      torch::matmul(q.unsqueeze(1), ks.transpose(1, 2)) / std::sqrt(static_cast<double>(hd)), -1);
  EXPECT_LT(RelErr(out, torch::matmul(p, vs).squeeze(1)), 1e-5);
}

}  // namespace
}  // namespace medscribe::engine
