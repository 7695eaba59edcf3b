#include "engine/paged_decoder.h"

#include <gtest/gtest.h>

#include <map>

#include "engine/scheduler.h"
#include "model/generate.h"
#include "model/multimodal.h"

namespace medscribe::engine {
namespace {

model::LlamaForCausalLM Decoder() {
  model::DecoderConfig c;
  c.vocab_size = 61;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 128;
  torch::manual_seed(5);
  model::LlamaForCausalLM d(c);
  {
    // LLaMA's 0.02 initialization leaves attention nearly uniform and the next token decided by
    // the current one; larger weights make every cached key matter, so a wrong cache shows.
    torch::NoGradGuard no_grad;
    for (auto& p : d->parameters())
      if (p.dim() == 2) p.mul_(15);
  }
  d->to(torch::kFloat64);  // no near-ties flipping an argmax between two summation orders
  d->rope.cos = d->rope.cos.to(torch::kFloat64);
  d->rope.sin = d->rope.sin.to(torch::kFloat64);
  d->eval();
  return d;
}

// The naive path: full recompute of the whole sequence for every token, no cache.
std::vector<int32_t> NaiveGreedy(model::LlamaForCausalLM& d, std::vector<int32_t> seq, int n) {
  torch::NoGradGuard no_grad;
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    std::vector<int64_t> ids(seq.begin(), seq.end());
    const int64_t t = static_cast<int64_t>(ids.size());
    const torch::Tensor logits = d->forward_embeds(
        d->embed(torch::tensor(ids, torch::kLong).view({1, t})), torch::ones({1, t}, torch::kLong));
    out.push_back(static_cast<int32_t>(logits[0][t - 1].argmax().item<int64_t>()));
    seq.push_back(out.back());
  }
  return out;
}

int32_t Argmax(const torch::Tensor& logits) {
  return static_cast<int32_t>(logits.argmax().item<int64_t>());
}

std::vector<int32_t> Prompt(int n, int32_t seed) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back((seed * 13 + i * 7) % 57 + 3);
  return p;
}

TEST(PagedDecoder, OneSequenceMatchesTheFullRecompute) {
  auto d = Decoder();
  PagedDecoder engine(d, 16, 4);
  KvCacheManager kv(16, 4);
  std::vector<int32_t> seq = Prompt(9, 1);
  ASSERT_TRUE(kv.Add(1, seq).ok());
  auto logits = engine.Forward(kv.BlockTable(1), seq, 0, static_cast<int64_t>(seq.size()));
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  std::vector<int32_t> out = {Argmax(*logits)};
  for (int i = 1; i < 12; ++i) {
    ASSERT_TRUE(kv.Append(1, out.back()).ok());
    seq.push_back(out.back());
    logits = engine.Forward(kv.BlockTable(1), seq, static_cast<int64_t>(seq.size()) - 1, 1);
    ASSERT_TRUE(logits.ok());
    out.push_back(Argmax(*logits));
  }
  EXPECT_EQ(out, NaiveGreedy(d, Prompt(9, 1), 12));
  EXPECT_EQ(engine.Forward(kv.BlockTable(1), seq, 0, 100).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(PagedDecoder, BatchedWithChunksPrefixSharingAndPreemptionMatchesTheFullRecompute) {
  auto d = Decoder();
  const int blocks = 14, block_size = 4;
  PagedDecoder engine(d, blocks, block_size);
  KvCacheManager kv(blocks, block_size);
  Scheduler sched(&kv, {.max_step_tokens = 10, .max_running = 6, .max_context = 128});
  // Five reports of one study: a shared 12-token prefix, then their own tails.
  std::map<int64_t, std::vector<int32_t>> prompts;
  for (int64_t id = 0; id < 5; ++id) {
    std::vector<int32_t> p = Prompt(12, 99);
    const std::vector<int32_t> tail = Prompt(2 + static_cast<int>(id), static_cast<int32_t>(id));
    p.insert(p.end(), tail.begin(), tail.end());
    prompts[id] = p;
    ASSERT_TRUE(sched.Submit({.id = id, .prompt = p, .max_tokens = 10}).ok());
  }
  std::map<int64_t, std::vector<int32_t>> outputs;
  for (int step = 0; step < 1000 && (sched.running() || sched.waiting()); ++step) {
    const StepPlan plan = sched.Plan(Clock::now());
    for (const BlockCopy& c : plan.copies) engine.Copy(c);
    for (const Chunk& c : plan.chunks) {
      std::vector<int32_t> seq = prompts[c.id];
      const auto& gen = sched.Generated(c.id);
      seq.insert(seq.end(), gen.begin(), gen.end());
      auto logits = engine.Forward(kv.BlockTable(c.id), seq, c.start, c.count);
      ASSERT_TRUE(logits.ok()) << logits.status().message();
      if (!c.sample) continue;
      sched.Completed(c.id, Argmax(*logits));
      if (sched.Generated(c.id).size() == 10) {
        outputs[c.id] = sched.Generated(c.id);
        sched.Finish(c.id);
      }
    }
  }
  ASSERT_EQ(outputs.size(), 5u);
  for (const auto& [id, out] : outputs)
    EXPECT_EQ(out, NaiveGreedy(d, prompts[id], 10)) << "request " << id;
  EXPECT_GT(kv.prefix_hits(), 0) << "the shared prefix should be computed once";
  EXPECT_GT(sched.preemptions(), 0) << "14 blocks for 5 x 24 tokens should force preemption";
  EXPECT_EQ(kv.pool().num_available(), blocks);
}

model::ReportModel Multimodal() {
  model::ModelConfig c = model::PresetConfig("tiny").value();
  c.vision.image_size = 32;
  c.vision.patch_size = 8;  // 16 patches, pooled to 4 image tokens
  c.vision.hidden_size = 16;
  c.vision.layers = 1;
  c.projector.hidden_size = 16;
  c.decoder.vocab_size = 61;
  c.decoder.hidden_size = 32;
  c.decoder.intermediate_size = 48;
  c.decoder.num_hidden_layers = 2;
  c.decoder.num_attention_heads = 4;
  c.decoder.num_key_value_heads = 2;
  c.decoder.max_position_embeddings = 128;
  torch::manual_seed(8);
  model::ReportModel m(c);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : m->parameters())
      if (p.dim() == 2) p.mul_(15);
  }
  m->to(torch::kFloat64);
  m->decoder->rope.cos = m->decoder->rope.cos.to(torch::kFloat64);
  m->decoder->rope.sin = m->decoder->rope.sin.to(torch::kFloat64);
  m->eval();
  return m;
}

TEST(PagedDecoder, ImagePromptsMatchGreedyGenerationAndOnlyTheSameImageSharesBlocks) {
  constexpr int32_t kImage = 60, kBos = 2;  // Prompt() uses ids 3..59
  auto m = Multimodal();
  const int64_t n = m->config.image_tokens();
  const std::vector<int32_t> text_before = Prompt(9, 4), text_after = Prompt(3, 6);
  auto image = [](double phase) {
    return (torch::sin(torch::arange(32 * 32, torch::kFloat64) * 0.05 + phase) * 0.5 + 0.5)
        .view({1, 32, 32});
  };
  const std::vector<torch::Tensor> images = {image(0), image(1.5), image(0)};
  // The reference: ids with one <image> token, spliced inside the model.
  std::vector<int64_t> ref_ids = {kBos};
  ref_ids.insert(ref_ids.end(), text_before.begin(), text_before.end());
  ref_ids.push_back(kImage);
  ref_ids.insert(ref_ids.end(), text_after.begin(), text_after.end());
  // The engine: the image token expanded into n placeholders whose embeddings come from the image.
  std::vector<int32_t> tokens = {kBos};
  tokens.insert(tokens.end(), text_before.begin(), text_before.end());
  const int64_t at = static_cast<int64_t>(tokens.size());
  tokens.insert(tokens.end(), static_cast<size_t>(n), kImage);
  tokens.insert(tokens.end(), text_after.begin(), text_after.end());

  PagedDecoder engine(m->decoder, 32, 4);
  KvCacheManager kv(32, 4);
  std::vector<std::vector<int32_t>> outputs;
  for (size_t r = 0; r < images.size(); ++r) {
    torch::NoGradGuard no_grad;
    const ImageSpan span{at, m->projector(m->vision(images[r].unsqueeze(0)))[0]};
    // Equal images give equal salts (a digest of the pixels would do the same).
    const uint64_t salt = r == 1 ? 2 : 1;
    const int64_t hits_before = kv.prefix_hits();
    ASSERT_TRUE(kv.Add(static_cast<int64_t>(r), tokens, salt).ok());
    if (r == 2) {
      EXPECT_GT(kv.prefix_hits(), hits_before) << "the same image and text share blocks";
    }
    if (r == 1) {
      EXPECT_EQ(kv.prefix_hits(), hits_before) << "another image must not reuse the first's blocks";
    }
    std::vector<int32_t> seq = tokens;
    const int64_t hit = kv.prefix_hits() > hits_before ? (kv.prefix_hits() - hits_before) * 4 : 0;
    auto logits = engine.Forward(kv.BlockTable(static_cast<int64_t>(r)), seq, hit,
                                 static_cast<int64_t>(seq.size()) - hit, &span);
    ASSERT_TRUE(logits.ok()) << logits.status().message();
    kv.MarkComputed(static_cast<int64_t>(r), static_cast<int64_t>(seq.size()));
    std::vector<int32_t> out = {Argmax(*logits)};
    for (int i = 1; i < 10; ++i) {
      ASSERT_TRUE(kv.Append(static_cast<int64_t>(r), out.back()).ok());
      seq.push_back(out.back());
      logits = engine.Forward(kv.BlockTable(static_cast<int64_t>(r)), seq,
                              static_cast<int64_t>(seq.size()) - 1, 1, &span);
      ASSERT_TRUE(logits.ok());
      out.push_back(Argmax(*logits));
    }
    auto ref = model::GenerateGreedy(
        m, ref_ids, images[r], {.max_new_tokens = 10, .eos_id = -1, .image_token_id = kImage});
    ASSERT_TRUE(ref.ok()) << ref.status().message();
    EXPECT_EQ(std::vector<int32_t>(ref->begin(), ref->end()), out) << "request " << r;
    outputs.push_back(out);
  }
  EXPECT_NE(outputs[0], outputs[1]) << "the image should matter";
  EXPECT_EQ(outputs[0], outputs[2]);
}

}  // namespace
}  // namespace medscribe::engine
