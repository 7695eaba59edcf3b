#include "model/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

#include "model/io.h"
#include "model/llama.h"
#include "model/multimodal.h"

namespace medscribe::model {
namespace {

// A reader of what the test needs from a GGUF file: the metadata (numbers and strings; arrays
// by length) and each tensor's dims, type and bytes.
struct Gguf {
  uint32_t version = 0;
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;
  std::map<std::string, uint64_t> array_lengths;
  struct Tensor {
    std::vector<uint64_t> dims;
    uint32_t type;
    std::string_view data;
  };
  std::map<std::string, Tensor> tensors;
  std::string bytes;
};

class Cursor {
 public:
  explicit Cursor(std::string_view b) : b_(b) {}
  template <typename T>
  T Get() {
    T v{};
    if (at_ + sizeof(T) > b_.size()) throw std::runtime_error("past the end");
    std::memcpy(&v, b_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string Str() {
    const auto n = Get<uint64_t>();
    if (at_ + n > b_.size()) throw std::runtime_error("string past the end");
    std::string s(b_.substr(at_, n));
    at_ += n;
    return s;
  }
  double Scalar(uint32_t type) {
    switch (type) {
      case 4:
        return Get<uint32_t>();
      case 5:
        return Get<int32_t>();
      case 6:
        return Get<float>();
      case 7:
        return Get<uint8_t>();
      case 10:
        return static_cast<double>(Get<uint64_t>());
      default:
        throw std::runtime_error("type " + std::to_string(type));
    }
  }
  size_t at() const { return at_; }

 private:
  std::string_view b_;
  size_t at_ = 0;
};

Gguf Read(const std::string& path) {
  Gguf g;
  g.bytes = ReadBytes(path).value();
  Cursor c(g.bytes);
  EXPECT_EQ(g.bytes.substr(0, 4), "GGUF");
  c.Get<uint32_t>();
  g.version = c.Get<uint32_t>();
  const auto tensors = c.Get<uint64_t>(), keys = c.Get<uint64_t>();
  for (uint64_t i = 0; i < keys; ++i) {
    const std::string key = c.Str();
    const auto type = c.Get<uint32_t>();
    if (type == 8) {
      g.strings[key] = c.Str();
    } else if (type == 9) {
      const auto elem = c.Get<uint32_t>();
      const auto n = c.Get<uint64_t>();
      g.array_lengths[key] = n;
      for (uint64_t k = 0; k < n; ++k) elem == 8 ? (void)c.Str() : (void)c.Scalar(elem);
    } else {
      g.numbers[key] = c.Scalar(type);
    }
  }
  std::vector<std::tuple<std::string, std::vector<uint64_t>, uint32_t, uint64_t>> infos;
  for (uint64_t i = 0; i < tensors; ++i) {
    std::string name = c.Str();
    std::vector<uint64_t> dims(c.Get<uint32_t>());
    for (auto& d : dims) d = c.Get<uint64_t>();
    const auto type = c.Get<uint32_t>();
    infos.emplace_back(std::move(name), std::move(dims), type, c.Get<uint64_t>());
  }
  const size_t data = (c.at() + 31) / 32 * 32;
  for (size_t i = 0; i < infos.size(); ++i) {
    const auto& [name, dims, type, offset] = infos[i];
    const size_t end = i + 1 < infos.size() ? data + std::get<3>(infos[i + 1]) : g.bytes.size();
    EXPECT_EQ(offset % 32, 0u) << name;
    g.tensors[name] = {dims, type,
                       std::string_view(g.bytes).substr(data + offset, end - data - offset)};
  }
  return g;
}

DecoderConfig Small() {
  DecoderConfig c;
  c.vocab_size = 40;
  c.hidden_size = 64;
  c.intermediate_size = 96;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 128;
  c.tie_word_embeddings = false;
  return c;
}

GgufVocab Vocab(int n) {
  GgufVocab v;
  for (int i = 0; i < n; ++i) {
    v.tokens.push_back(i < 4 ? std::vector<std::string>{"<pad>", "<unk>", "<s>", "</s>"}[i]
                             : "\xe2\x96\x81w" + std::to_string(i));
    v.scores.push_back(-static_cast<float>(i));
    v.types.push_back(i == 1 ? kGgufUnknown : i < 4 ? kGgufControl : kGgufNormal);
  }
  return v;
}

NamedTensors DecoderOf(const LlamaForCausalLM& m) {
  NamedTensors out;
  for (const auto& p : m->named_parameters()) out.emplace_back(p.key(), p.value().detach());
  return out;
}

torch::Tensor F32(const Gguf::Tensor& t, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<char*>(t.data.data()), {rows, cols}, torch::kFloat32).clone();
}

TEST(Gguf, WritesLlamaMetadataVocabularyAndEveryTensor) {
  torch::manual_seed(3);
  const DecoderConfig c = Small();
  LlamaForCausalLM m(c);
  const std::string path = ::testing::TempDir() + "/small.gguf";
  ASSERT_TRUE(WriteGguf(c, DecoderOf(m), Vocab(c.vocab_size), GgufType::kF32, "small", path).ok());
  const Gguf g = Read(path);
  EXPECT_EQ(g.version, 3u);
  EXPECT_EQ(g.strings.at("general.architecture"), "llama");
  EXPECT_EQ(g.strings.at("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(g.numbers.at("llama.embedding_length"), 64);
  EXPECT_EQ(g.numbers.at("llama.block_count"), 2);
  EXPECT_EQ(g.numbers.at("llama.feed_forward_length"), 96);
  EXPECT_EQ(g.numbers.at("llama.attention.head_count"), 4);
  EXPECT_EQ(g.numbers.at("llama.attention.head_count_kv"), 2);
  EXPECT_EQ(g.numbers.at("llama.rope.dimension_count"), 16);
  EXPECT_EQ(g.numbers.at("llama.context_length"), 128);
  EXPECT_FLOAT_EQ(g.numbers.at("llama.rope.freq_base"), 10000);
  EXPECT_EQ(g.numbers.at("tokenizer.ggml.bos_token_id"), 2);
  EXPECT_EQ(g.numbers.at("tokenizer.ggml.eos_token_id"), 3);
  EXPECT_EQ(g.array_lengths.at("tokenizer.ggml.tokens"), 40u);
  EXPECT_EQ(g.array_lengths.at("tokenizer.ggml.scores"), 40u);
  EXPECT_EQ(g.array_lengths.at("tokenizer.ggml.token_type"), 40u);
  EXPECT_EQ(g.tensors.size(), 2u + 9u * 2 + 1);  // embeddings, 9 per layer, norm, head
  const auto& embd = g.tensors.at("token_embd.weight");
  EXPECT_EQ(embd.dims, (std::vector<uint64_t>{64, 40}));  // ne0 (the row) first
  EXPECT_TRUE(torch::equal(F32(embd, 40, 64), m->model->embed_tokens->weight));
  EXPECT_TRUE(torch::equal(F32(g.tensors.at("blk.1.ffn_down.weight"), 64, 96),
                           m->model->layers[1]->as<LlamaLayer>()->mlp->down_proj->weight));
  EXPECT_TRUE(g.tensors.count("output.weight"));
  EXPECT_EQ(g.tensors.at("blk.0.attn_norm.weight").dims, (std::vector<uint64_t>{64}));
}

// llama.cpp rotates interleaved pairs (2i, 2i + 1); MedScribe rotates halves (i, i + d/2). With
// the exported query and key rows, every attention score is the same as MedScribe's.
TEST(Gguf, ReorderedQueryAndKeyRowsGiveTheSameAttentionScoresUnderInterleavedRope) {
  torch::manual_seed(5);
  const DecoderConfig c = Small();
  LlamaForCausalLM m(c);
  const std::string path = ::testing::TempDir() + "/rope.gguf";
  ASSERT_TRUE(WriteGguf(c, DecoderOf(m), Vocab(c.vocab_size), GgufType::kF32, "rope", path).ok());
  const Gguf g = Read(path);
  auto attn = m->model->layers[0]->as<LlamaLayer>()->self_attn;
  const int64_t hd = c.head_dim(), t = 7;
  const torch::Tensor x = torch::randn({t, c.hidden_size});
  const torch::Tensor pos = torch::arange(t);
  // MedScribe: rotate-half RoPE on [1, heads, T, hd].
  const RopeTables rope = MakeRope(c.max_position_embeddings, hd, c.rope_theta);
  auto heads = [&](const torch::Tensor& y, int64_t n) {
    return y.view({1, t, n, hd}).transpose(1, 2);
  };
  torch::NoGradGuard no_grad;
  const torch::Tensor q = ApplyRope(heads(attn->q_proj(x), 4), rope, pos);
  const torch::Tensor k = ApplyRope(heads(attn->k_proj(x), 2), rope, pos);
  // llama.cpp: interleaved RoPE with the exported rows.
  auto interleaved = [&](const torch::Tensor& y) {  // [1, n, T, hd]
    const torch::Tensor freqs =
        torch::pow(c.rope_theta, -torch::arange(0, hd, 2, torch::kFloat64) / hd)
            .to(torch::kFloat32);
    const torch::Tensor angle =
        pos.to(torch::kFloat32).unsqueeze(1) * freqs.unsqueeze(0);  // [T, hd/2]
    const torch::Tensor a = y.index({"...", torch::indexing::Slice(0, torch::indexing::None, 2)});
    const torch::Tensor b = y.index({"...", torch::indexing::Slice(1, torch::indexing::None, 2)});
    return torch::stack({a * angle.cos() - b * angle.sin(), a * angle.sin() + b * angle.cos()}, -1)
        .flatten(-2);
  };
  const torch::Tensor wq = F32(g.tensors.at("blk.0.attn_q.weight"), 64, 64);
  const torch::Tensor wk = F32(g.tensors.at("blk.0.attn_k.weight"), 32, 64);
  const torch::Tensor q2 = interleaved(heads(torch::matmul(x, wq.t()), 4));
  const torch::Tensor k2 = interleaved(heads(torch::matmul(x, wk.t()), 2));
  for (int64_t h = 0; h < 4; ++h) {
    const torch::Tensor s1 = torch::matmul(q[0][h], k[0][h / 2].t());
    const torch::Tensor s2 = torch::matmul(q2[0][h], k2[0][h / 2].t());
    EXPECT_TRUE(torch::allclose(s1, s2, 1e-4, 1e-4)) << "head " << h;
  }
}

TEST(Gguf, BlockQuantizationRoundTripsWithinItsStep) {
  torch::manual_seed(9);
  const torch::Tensor w = torch::randn({6, 96});
  for (const GgufType type : {GgufType::kQ8_0, GgufType::kQ4_0}) {
    const std::string bytes = QuantizeBlocks(w, type);
    EXPECT_EQ(bytes.size(), 6u * 3 * (type == GgufType::kQ8_0 ? 34 : 18));
    const torch::Tensor back = DequantizeBlocks(bytes, type, 6, 96);
    const torch::Tensor amax = w.view({-1, 32}).abs().amax(1, true);
    const torch::Tensor step = amax / (type == GgufType::kQ8_0 ? 127.0 : 8.0);
    const torch::Tensor err = (back.view({-1, 32}) - w.view({-1, 32})).abs();
    // Half a step from rounding, plus the f16 scale's own rounding; q4_0 spans -8..7 steps, so a
    // value opposite the block's largest one may lose a whole step to the clamp at 7.
    const double bound = type == GgufType::kQ8_0 ? 0.5 : 1.0;
    EXPECT_TRUE((err <= step * bound + amax * 2e-3).all().item<bool>())
        << static_cast<int>(type) << " worst " << (err / step).max().item<float>() << " steps";
  }
  const std::string zeros = QuantizeBlocks(torch::zeros({1, 32}), GgufType::kQ4_0);
  EXPECT_TRUE(torch::equal(DequantizeBlocks(zeros, GgufType::kQ4_0, 1, 32), torch::zeros({1, 32})));
}

TEST(Gguf, QuantizedFilesKeepVectorsInF32AndRefuseAMismatchedVocabulary) {
  const DecoderConfig c = Small();
  LlamaForCausalLM m(c);
  const std::string path = ::testing::TempDir() + "/q.gguf";
  ASSERT_TRUE(WriteGguf(c, DecoderOf(m), Vocab(c.vocab_size), GgufType::kQ4_0, "q", path).ok());
  const Gguf g = Read(path);
  EXPECT_EQ(g.numbers.at("general.file_type"), 2);
  EXPECT_EQ(g.tensors.at("blk.0.attn_q.weight").type, 2u);     // q4_0
  EXPECT_EQ(g.tensors.at("blk.0.attn_norm.weight").type, 0u);  // f32
  EXPECT_EQ(g.tensors.at("blk.0.attn_q.weight").data.size(), 64u * 2 * 18);

  const Status bad = WriteGguf(c, DecoderOf(m), Vocab(39), GgufType::kF32, "q", path);
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  NamedTensors missing = DecoderOf(m);
  missing.pop_back();
  EXPECT_EQ(WriteGguf(c, missing, Vocab(40), GgufType::kF32, "q", path).code(),
            ErrorCode::kDataLoss);
  EXPECT_FALSE(ParseGgufType("q5_k").ok());
}

}  // namespace
}  // namespace medscribe::model
