#include "model/llama.h"

#include <gtest/gtest.h>

#include <cmath>

namespace medscribe::model {
namespace {

DecoderConfig SmallDecoder() {
  DecoderConfig c;
  c.vocab_size = 50;
  c.hidden_size = 16;
  c.intermediate_size = 24;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 64;
  return c;
}

// RoPE written out per pair of dimensions (i, i + D/2) and per position, as in the paper with the
// rotate-half layout.
torch::Tensor NaiveRope(const torch::Tensor& x, double theta) {  // x [T, D]
  const int64_t t = x.size(0), d = x.size(1);
  torch::Tensor out = x.clone();
  auto a = x.accessor<float, 2>();
  auto o = out.accessor<float, 2>();
  for (int64_t p = 0; p < t; ++p) {
    for (int64_t i = 0; i < d / 2; ++i) {
      const double angle = p / std::pow(theta, 2.0 * i / d);
      const double c = std::cos(angle), s = std::sin(angle);
      o[p][i] = static_cast<float>(a[p][i] * c - a[p][i + d / 2] * s);
      o[p][i + d / 2] = static_cast<float>(a[p][i + d / 2] * c + a[p][i] * s);
    }
  }
  return out;
}

TEST(LlamaTest, RopeMatchesTheNaiveRotation) {
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({1, 1, 7, 8});
  const RopeTables rope = MakeRope(32, 8, 10000.0);
  const torch::Tensor got = ApplyRope(x, rope, torch::arange(7));
  const torch::Tensor want = NaiveRope(x[0][0], 10000.0);
  EXPECT_TRUE(torch::allclose(got[0][0], want, 1e-5, 1e-5));
  // Position 0 is not rotated; rotation keeps the norm.
  EXPECT_TRUE(torch::allclose(got[0][0][0], x[0][0][0]));
  EXPECT_NEAR(got.norm().item<double>(), x.norm().item<double>(), 1e-4);
}

TEST(LlamaTest, GroupedQueryAttentionMatchesANaiveCausalReference) {
  torch::manual_seed(2);
  const DecoderConfig c = SmallDecoder();
  LlamaAttention attn(c);
  const int64_t t = 6, hd = c.head_dim();
  const torch::Tensor x = torch::randn({1, t, c.hidden_size});
  const RopeTables rope = MakeRope(c.max_position_embeddings, hd, c.rope_theta);
  const torch::Tensor mask = CausalMask(torch::ones({1, t}), torch::kFloat32);
  const torch::Tensor got = attn->forward(x, rope, torch::arange(t), mask)[0];

  torch::NoGradGuard no_grad;
  const torch::Tensor q = torch::matmul(x[0], attn->q_proj->weight.t());  // [T, H*hd]
  const torch::Tensor k = torch::matmul(x[0], attn->k_proj->weight.t());  // [T, KV*hd]
  const torch::Tensor v = torch::matmul(x[0], attn->v_proj->weight.t());
  std::vector<torch::Tensor> heads;
  const int64_t group = c.num_attention_heads / c.num_key_value_heads;
  for (int64_t h = 0; h < c.num_attention_heads; ++h) {
    const int64_t kvh = h / group;
    const torch::Tensor qh = NaiveRope(q.narrow(1, h * hd, hd).contiguous(), c.rope_theta);
    const torch::Tensor kh = NaiveRope(k.narrow(1, kvh * hd, hd).contiguous(), c.rope_theta);
    const torch::Tensor vh = v.narrow(1, kvh * hd, hd);
    torch::Tensor out = torch::zeros({t, hd});
    for (int64_t i = 0; i < t; ++i) {
      std::vector<double> w;
      double sum = 0, mx = -1e30;
      for (int64_t j = 0; j <= i; ++j) {  // causal: keys up to i
        w.push_back(torch::dot(qh[i], kh[j]).item<double>() / std::sqrt(static_cast<double>(hd)));
        mx = std::max(mx, w.back());
      }
      for (double& wj : w) sum += (wj = std::exp(wj - mx));
      for (int64_t j = 0; j <= i; ++j) out[i] += vh[j] * static_cast<float>(w[j] / sum);
    }
    heads.push_back(out);
  }
  const torch::Tensor want = torch::matmul(torch::cat(heads, 1), attn->o_proj->weight.t());
  EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-5)) << (got - want).abs().max();
}

TEST(LlamaTest, PaddingAtTheEndDoesNotChangeEarlierLogits) {
  torch::manual_seed(3);
  LlamaForCausalLM m(SmallDecoder());
  m->eval();
  const torch::Tensor ids = torch::randint(4, 50, {1, 5});
  const torch::Tensor padded = torch::cat({ids, torch::zeros({1, 3}, torch::kLong)}, 1);
  const torch::Tensor a = m->forward_embeds(m->embed(ids), torch::ones({1, 5}));
  const torch::Tensor mask = torch::cat({torch::ones({1, 5}), torch::zeros({1, 3})}, 1);
  const torch::Tensor b = m->forward_embeds(m->embed(padded), mask);
  EXPECT_TRUE(torch::allclose(a, b.narrow(1, 0, 5), 1e-5, 1e-5));
  // Causality: changing a later token leaves earlier logits unchanged.
  torch::Tensor changed = ids.clone();
  changed[0][4] = (ids[0][4].item<int64_t>() + 1) % 50;
  const torch::Tensor c = m->forward_embeds(m->embed(changed), torch::ones({1, 5}));
  EXPECT_TRUE(torch::allclose(a.narrow(1, 0, 4), c.narrow(1, 0, 4), 1e-5, 1e-5));
  EXPECT_FALSE(torch::allclose(a.narrow(1, 4, 1), c.narrow(1, 4, 1), 1e-5, 1e-5));
}

TEST(LlamaTest, ParameterNamesAreHuggingFaces) {
  DecoderConfig c = SmallDecoder();
  c.tie_word_embeddings = false;
  LlamaForCausalLM m(c);
  std::set<std::string> names;
  for (const auto& p : m->named_parameters()) names.insert(p.key());
  for (const char* want :
       {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
        "model.layers.1.self_attn.k_proj.weight", "model.layers.1.self_attn.v_proj.weight",
        "model.layers.0.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight",
        "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
        "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
        "model.norm.weight", "lm_head.weight"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
  EXPECT_EQ(names.size(), 2u + 2 * 9 + 1);
  LlamaForCausalLM tied(SmallDecoder());
  for (const auto& p : tied->named_parameters()) EXPECT_NE(p.key(), "lm_head.weight");
}

}  // namespace
}  // namespace medscribe::model

namespace medscribe::model {
namespace {

TEST(LlamaTest, CachedDecodingMatchesTheFullForward) {
  torch::manual_seed(6);
  LlamaForCausalLM m(SmallDecoder());
  m->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = torch::randint(4, 50, {1, 9});
  const torch::Tensor full = m->forward_embeds(m->embed(ids), torch::ones({1, 9}));
  KvCache cache;
  std::vector<torch::Tensor> parts = {m->forward_cached(m->embed(ids.narrow(1, 0, 5)), cache)};
  for (int64_t i = 5; i < 9; ++i)
    parts.push_back(m->forward_cached(m->embed(ids.narrow(1, i, 1)), cache));
  EXPECT_EQ(cache.length, 9);
  EXPECT_TRUE(torch::allclose(torch::cat(parts, 1), full, 1e-4, 1e-5));
}

}  // namespace
}  // namespace medscribe::model
