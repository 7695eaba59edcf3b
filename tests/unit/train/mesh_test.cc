// Tensor parallelism against the whole decoder, over real Gloo groups on loopback (one thread
// per rank).
#include "train/mesh.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <map>

#include "model/multimodal.h"
#include "model/tensor_parallel.h"
#include "testing/gloo_ranks.h"

namespace medscribe::train {
namespace {

using medscribe::testing::RunRanks;

// Grouped-query attention (4 heads, 2 key/value heads) and a vocabulary of 51, which two ranks
// split unevenly (26 + 25 rows).
model::DecoderConfig SmallDecoder() {
  model::DecoderConfig c;
  c.vocab_size = 51;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 64;
  return c;
}

struct Reference {
  std::map<std::string, torch::Tensor> weights, grads;
  double loss = 0;
};

torch::Tensor Ids() {
  return torch::remainder(torch::arange(2 * 12, torch::kLong) * 7 + 3, 51).view({2, 12});
}
torch::Tensor Labels() {
  torch::Tensor l = Ids().clone();
  l.narrow(1, 0, 4).fill_(model::kIgnoreIndex);  // the prompt
  return l;
}

// The summed next-token loss of a decoder on the fixed batch.
torch::Tensor Loss(model::LlamaForCausalLM& d) {
  const torch::Tensor ids = Ids();
  const torch::Tensor mask = torch::ones_like(ids);
  return model::TargetLossSum(d, d->forward_hidden(d->embed(ids), mask), Labels());
}

Reference WholeDecoder() {
  torch::manual_seed(11);
  model::LlamaForCausalLM d(SmallDecoder());
  Reference ref;
  const torch::Tensor loss = Loss(d);
  loss.backward();
  ref.loss = loss.item<double>();
  for (const auto& p : d->named_parameters()) {
    ref.weights[p.key()] = p.value().detach().clone();
    ref.grads[p.key()] = p.value().grad().clone();
  }
  return ref;
}

void CopyWeights(model::LlamaForCausalLM& d, const Reference& ref) {
  torch::NoGradGuard no_grad;
  for (auto& p : d->named_parameters()) p.value().copy_(ref.weights.at(p.key()));
}

TEST(TensorParallel, ShardsComputeTheWholeDecodersLossAndGradients) {
  const Reference ref = WholeDecoder();
  const auto errors = RunRanks(2, [&](int rank, Communicator* world) -> std::string {
    auto mesh = Mesh::Make(world, 2);
    if (!mesh.ok()) return mesh.status().message();
    model::LlamaForCausalLM d(SmallDecoder());
    CopyWeights(d, ref);
    model::ShardDecoder(d, mesh->model_group());
    const torch::Tensor loss = Loss(d);
    loss.backward();
    std::string out;
    if (std::abs(loss.item<double>() - ref.loss) > 1e-4 * std::abs(ref.loss))
      out +=
          "loss " + std::to_string(loss.item<double>()) + " vs " + std::to_string(ref.loss) + "; ";
    for (const auto& p : d->named_parameters()) {
      const torch::Tensor want = model::ShardOf(p.key(), ref.grads.at(p.key()), d->config, rank, 2);
      if (p.value().sizes() != want.sizes()) {
        out += p.key() + " has shape " + c10::str(p.value().sizes()) + "; ";
      } else if (!torch::allclose(p.value().grad(), want, 1e-4, 1e-6)) {
        out += p.key() + " gradient differs; ";
      }
      const torch::Tensor whole =
          model::GatherShard(p.key(), p.value().detach(), d->config, mesh->model_group());
      if (!torch::equal(whole, ref.weights.at(p.key()))) out += p.key() + " gathers wrong; ";
    }
    return out;
  });
  for (size_t r = 0; r < errors.size(); ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

TEST(TensorParallel, TheHalvesOfAMatrixAreItsHeadsAndTheVocabularyIsCoveredOnce) {
  const model::DecoderConfig c = SmallDecoder();
  const torch::Tensor q = torch::arange(32 * 32, torch::kFloat32).view({32, 32});
  // Two query heads of 8 rows per rank; the output projection cut by the same columns.
  EXPECT_TRUE(torch::equal(model::ShardOf("model.layers.1.self_attn.q_proj.weight", q, c, 1, 2),
                           q.narrow(0, 16, 16)));
  EXPECT_TRUE(torch::equal(model::ShardOf("model.layers.1.self_attn.o_proj.weight", q, c, 1, 2),
                           q.narrow(1, 16, 16)));
  EXPECT_TRUE(torch::equal(model::ShardOf("model.norm.weight", q, c, 1, 2), q));
  int64_t next = 0;
  for (int r = 0; r < 4; ++r) {
    const auto [first, count] = model::VocabRange(51, r, 4);
    EXPECT_EQ(first, next);
    EXPECT_GT(count, 0);
    next = first + count;
  }
  EXPECT_EQ(next, 51);
}

TEST(TensorParallel, ADegreeThatDoesNotDivideTheModelIsRefusedWithTheReason) {
  model::DecoderConfig c = SmallDecoder();
  EXPECT_TRUE(model::CheckTensorParallel(c, 2).ok());
  const Status heads = model::CheckTensorParallel(c, 3);
  EXPECT_NE(heads.message().find("4 attention heads"), std::string::npos) << heads.message();
  const Status kv = model::CheckTensorParallel(c, 4);
  EXPECT_NE(kv.message().find("key/value heads"), std::string::npos) << kv.message();
  c.num_key_value_heads = 4;
  c.intermediate_size = 50;
  const Status mlp = model::CheckTensorParallel(c, 4);
  EXPECT_NE(mlp.message().find("MLP width 50"), std::string::npos) << mlp.message();
}

TEST(Mesh, ConsecutiveRanksShareATensorParallelGroup) {
  std::vector<std::pair<int, int>> place(4);
  const auto errors = RunRanks(4, [&](int rank, Communicator* world) -> std::string {
    auto mesh = Mesh::Make(world, 2);
    if (!mesh.ok()) return mesh.status().message();
    place[static_cast<size_t>(rank)] = {mesh->tensor().rank(), mesh->data().rank()};
    // Each group sums only its own members: rank + 1 over {0,1} is 3, over {2,3} is 7.
    std::vector<torch::Tensor> v = {torch::tensor({rank + 1.0})};
    if (Status s = mesh->tensor().AllReduceSum(v); !s.ok()) return s.message();
    const double want = rank < 2 ? 3 : 7;
    if (v[0].item<double>() != want)
      return "tensor group sum " + std::to_string(v[0].item<double>());
    std::vector<torch::Tensor> w = {torch::tensor({rank + 1.0})};
    if (Status s = mesh->data().AllReduceSum(w); !s.ok()) return s.message();
    const double want_dp = rank % 2 == 0 ? 4 : 6;  // {0,2} and {1,3}
    if (w[0].item<double>() != want_dp)
      return "data group sum " + std::to_string(w[0].item<double>());
    return "";
  });
  for (size_t r = 0; r < errors.size(); ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
  EXPECT_EQ(place[0], std::make_pair(0, 0));
  EXPECT_EQ(place[1], std::make_pair(1, 0));
  EXPECT_EQ(place[2], std::make_pair(0, 1));
  EXPECT_EQ(place[3], std::make_pair(1, 1));
}

TEST(Mesh, ADegreeThatDoesNotDivideTheWorldIsRefused) {
  const auto single = SingleProcess();
  const auto mesh = Mesh::Make(single.get(), 2);
  ASSERT_FALSE(mesh.ok());
  EXPECT_NE(mesh.status().message().find("does not divide the 1 ranks"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::train
