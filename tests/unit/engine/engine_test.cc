#include "engine/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "engine/cpu_decoder.h"
#include "engine/speculative.h"
#include "model/io.h"
#include "model/json.h"
#include "model/safetensors.h"

namespace medscribe::engine {
namespace {
namespace fs = std::filesystem;

constexpr int32_t kImage = 4, kEos = 3;

// Token i reads " w<i>".
class WordDecoder : public TextDecoder {
 public:
  std::string Decode(std::span<const int32_t> ids) const override {
    std::string s;
    for (int32_t t : ids) s += " w" + std::to_string(t);
    return s;
  }
};

model::ModelConfig Config() {
  model::ModelConfig c;
  c.vision = {"vit", 32, 1, 8, 32, 1, 2, 2};
  c.projector = {32, true};
  c.decoder.vocab_size = 64;
  c.decoder.hidden_size = 32;
  c.decoder.intermediate_size = 64;
  c.decoder.num_hidden_layers = 2;
  c.decoder.num_attention_heads = 4;
  c.decoder.num_key_value_heads = 2;
  c.decoder.max_position_embeddings = 96;
  return c;
}

// A model directory with random weights (decoder matrices scaled so that every cached key
// matters and no argmax is a near-tie).
std::string ModelDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("engine_" + name);
  fs::create_directories(dir);
  torch::manual_seed(11);
  model::ReportModel m(Config());
  {
    torch::NoGradGuard no_grad;
    for (auto& p : m->decoder->named_parameters())
      if (p.value().dim() == 2) p.value().mul_(12);
  }
  EXPECT_TRUE(model::WriteBytesAtomic((dir / "config.json").string(),
                                      model::json::Dump(model::ToJson(Config())))
                  .ok());
  EXPECT_TRUE(
      model::SaveSafetensors((dir / "model.safetensors").string(), model::NamedWeights(*m)).ok());
  return dir.string();
}

EngineOptions Options() {
  EngineOptions o;
  o.eos_id = kEos;
  o.image_token_id = kImage;
  o.threads = 1;
  o.block_size = 4;
  o.kv_cache_mb = 1;
  return o;
}

std::unique_ptr<Engine> Load(const EngineOptions& o = Options(),
                             const std::string& dir = ModelDir("f32")) {
  auto e = Engine::Load(dir, o, std::make_shared<WordDecoder>());
  EXPECT_TRUE(e.ok()) << e.status().message();
  return e.ok() ? std::move(*e) : nullptr;
}

GenerateRequest Text(int n, int seed, int max_tokens = 20) {
  GenerateRequest r;
  r.prompt = {1};
  for (int i = 0; i < n; ++i) r.prompt.push_back((seed * 7 + i * 5) % 50 + 10);
  r.sampling.max_tokens = max_tokens;
  return r;
}

GenerateRequest WithImage(int seed) {
  GenerateRequest r = Text(6, seed);
  r.prompt.insert(r.prompt.begin() + 1, kImage);
  torch::manual_seed(seed);
  r.image = torch::rand({1, 32, 32});
  r.image_digest = "img" + std::to_string(seed);
  return r;
}

// Runs requests together; results by submission order.
std::vector<GenerateResult> RunAll(Engine& e, std::vector<GenerateRequest> rs) {
  std::vector<GenerateResult> out(rs.size());
  for (size_t i = 0; i < rs.size(); ++i) {
    rs[i].on_done = [&out, i](const GenerateResult& r) { out[i] = r; };
    auto id = e.Submit(std::move(rs[i]));
    EXPECT_TRUE(id.ok()) << id.status().message();
  }
  e.RunUntilIdle();
  return out;
}

TEST(Engine, BatchedGreedyEqualsTheNaiveReferenceTokenForToken) {
  auto e = Load();
  ASSERT_TRUE(e);
  std::vector<GenerateRequest> rs = {Text(5, 1), Text(17, 2), WithImage(3), Text(9, 4),
                                     WithImage(5)};
  const auto got = RunAll(*e, rs);
  for (size_t i = 0; i < rs.size(); ++i) {
    auto ref = e->Reference(rs[i]);
    ASSERT_TRUE(ref.ok()) << ref.status().message();
    EXPECT_TRUE(got[i].status.ok()) << got[i].status.message();
    EXPECT_EQ(got[i].tokens, ref->tokens) << "request " << i;
    EXPECT_EQ(got[i].text, ref->text);
    EXPECT_FALSE(got[i].tokens.empty());
  }
  EXPECT_EQ(e->stats().finished, 5);
}

TEST(Engine, APromptBanKeepsItsTokensOutOnlyWhereTheTriggerIsInThePrompt) {
  // Unconstrained greedy outputs first, to ban tokens that would otherwise be generated.
  const std::vector<GenerateRequest> rs = {Text(5, 1), WithImage(3), Text(9, 4)};
  const auto free = RunAll(*Load(), rs);
  std::vector<int32_t> banned;
  for (const auto& r : free) banned.insert(banned.end(), r.tokens.begin(), r.tokens.begin() + 2);
  EngineOptions o = Options();
  const int32_t trigger = 60;
  o.prompt_bans = {{trigger, banned, {}}};
  auto e = Load(o);
  ASSERT_TRUE(e);
  std::vector<GenerateRequest> triggered = rs;
  for (auto& r : triggered) r.prompt.push_back(trigger);
  std::vector<GenerateRequest> all = rs;
  all.insert(all.end(), triggered.begin(), triggered.end());
  all.push_back(Text(5, 1));
  all.back().sampling.banned = banned;  // the same constraint asked for by the request
  const auto got = RunAll(*e, all);
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(got[i].tokens, free[i].tokens) << "no trigger, no constraint: request " << i;
    const auto& c = got[rs.size() + i];
    ASSERT_TRUE(c.status.ok()) << c.status.message();
    EXPECT_FALSE(c.tokens.empty());
    for (const int32_t t : c.tokens)
      EXPECT_EQ(std::count(banned.begin(), banned.end(), t), 0) << "request " << i;
    auto ref = e->Reference(triggered[i]);
    ASSERT_TRUE(ref.ok()) << ref.status().message();
    EXPECT_EQ(c.tokens, ref->tokens) << "request " << i;
  }
  for (const int32_t t : got.back().tokens)
    EXPECT_EQ(std::count(banned.begin(), banned.end(), t), 0);
  o.prompt_bans = {{trigger, {64}, {}}};
  EXPECT_FALSE(Engine::Load(ModelDir("f32"), o, nullptr).ok());
  o.prompt_bans = {{trigger, {1}, {64}}};
  EXPECT_FALSE(Engine::Load(ModelDir("f32"), o, nullptr).ok());
}

TEST(Engine, APromptBanRedirectsToItsAllowedTokensInBatchesAsInTheReference) {
  const int32_t trigger = 60;
  std::vector<GenerateRequest> triggered = {Text(5, 1), WithImage(3), Text(9, 4)};
  for (auto& r : triggered) r.prompt.push_back(trigger);
  const auto free = RunAll(*Load(), triggered);
  // Ban each request's first greedy token; redirect to two tokens none of them would choose.
  std::vector<int32_t> banned, redirect = {11, 12};
  for (const auto& r : free) {
    ASSERT_FALSE(r.tokens.empty());
    banned.push_back(r.tokens[0]);
  }
  for (const int32_t t : redirect) ASSERT_EQ(std::count(banned.begin(), banned.end(), t), 0);
  EngineOptions o = Options();
  o.prompt_bans = {{trigger, banned, redirect}};
  auto e = Load(o);
  ASSERT_TRUE(e);
  const auto got = RunAll(*e, triggered);
  for (size_t i = 0; i < triggered.size(); ++i) {
    ASSERT_TRUE(got[i].status.ok()) << got[i].status.message();
    ASSERT_FALSE(got[i].tokens.empty());
    // The favourite of the first step was banned: the draft took an allowed token instead.
    EXPECT_TRUE(got[i].tokens[0] == 11 || got[i].tokens[0] == 12) << got[i].tokens[0];
    auto ref = e->Reference(triggered[i]);
    ASSERT_TRUE(ref.ok()) << ref.status().message();
    EXPECT_EQ(got[i].tokens, ref->tokens) << "request " << i;
  }
}

TEST(Engine, PrefixAndEncoderCachesServeARepeatedStudyWithTheSameOutput) {
  auto e = Load();
  const auto first = RunAll(*e, {WithImage(7)});
  const int64_t computed = e->stats().computed_prompt_tokens;
  const auto second = RunAll(*e, {WithImage(7)});
  EXPECT_EQ(first[0].tokens, second[0].tokens);
  EXPECT_EQ(e->stats().encoder_hits, 1);
  // The second prompt computed only its last block's tokens.
  EXPECT_LT(e->stats().computed_prompt_tokens - computed, computed);
  // Another image with the same tokens shares nothing.
  GenerateRequest other = WithImage(7);
  other.image = torch::rand({1, 32, 32});
  other.image_digest = "another";
  const int64_t before = e->stats().computed_prompt_tokens;
  RunAll(*e, {other});
  EXPECT_EQ(e->stats().computed_prompt_tokens - before, first[0].prompt_tokens);
}

TEST(Engine, PreemptionAndSpeculationKeepTheOutput) {
  EngineOptions tight = Options();
  tight.kv_cache_mb = 1;
  tight.speculative = false;
  auto plain = Load(tight);
  std::vector<GenerateRequest> rs;
  for (int i = 0; i < 12; ++i) rs.push_back(Text(20 + i, i, 40));
  const auto want = RunAll(*plain, rs);

  // So few blocks that sequences are preempted and recomputed.
  EngineOptions small = tight;
  small.block_size = 4;
  small.kv_blocks = 60;
  auto e = Engine::Load(ModelDir("f32"), small, std::make_shared<WordDecoder>());
  ASSERT_TRUE(e.ok());
  // 60 blocks of 4 tokens; 12 sequences of up to 71 tokens need about 200.
  const auto got = RunAll(**e, rs);
  EXPECT_GT((*e)->stats().preemptions, 0);
  for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(got[i].tokens, want[i].tokens) << i;

  EngineOptions spec = Options();
  spec.speculative = true;
  auto s = Load(spec);
  const auto first = RunAll(*s, rs);
  // The second time round, drafts come from the first round's outputs (the n-gram corpus):
  // long accepted runs, fewer steps, the same tokens.
  const int64_t steps = s->stats().steps;
  const auto fast = RunAll(*s, rs);
  EXPECT_GT(s->stats().accepted, 0);
  EXPECT_LT(s->stats().steps - steps, plain->stats().steps / 2);
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(first[i].tokens, want[i].tokens) << i;
    EXPECT_EQ(fast[i].tokens, want[i].tokens) << i;
  }
}

// A model directory like ModelDir's with another seed and a smaller decoder: a draft model.
std::string DraftDir() {
  const fs::path dir = fs::path(::testing::TempDir()) / "engine_draft";
  fs::create_directories(dir);
  model::ModelConfig c = Config();
  c.decoder.num_hidden_layers = 1;
  c.vision.image_size = 16;  // another image placeholder count than the served model's
  c.vision.patch_size = 4;
  torch::manual_seed(99);
  model::ReportModel m(c);
  EXPECT_TRUE(
      model::WriteBytesAtomic((dir / "config.json").string(), model::json::Dump(model::ToJson(c)))
          .ok());
  EXPECT_TRUE(
      model::SaveSafetensors((dir / "model.safetensors").string(), model::NamedWeights(*m)).ok());
  return dir.string();
}

TEST(Engine, DraftModelsSpeedUpWithoutChangingTheOutput) {
  EngineOptions plain_o = Options();
  plain_o.speculative = false;
  auto plain = Load(plain_o);
  std::vector<GenerateRequest> rs = {Text(7, 1, 30), WithImage(2), Text(12, 3, 30)};
  const auto want = RunAll(*plain, rs);
  // The served model as its own draft: every draft is accepted.
  EngineOptions same = Options();
  same.draft_model_dir = ModelDir("f32");
  auto e = Load(same);
  const auto got = RunAll(*e, rs);
  for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(got[i].tokens, want[i].tokens) << i;
  EXPECT_GT(e->stats().accepted, e->stats().drafted * 9 / 10);
  EXPECT_LT(e->stats().steps, plain->stats().steps / 2);
  // Another model (fewer layers, another image size) drafts worse; the output is the same.
  EngineOptions other = Options();
  other.draft_model_dir = DraftDir();
  auto o = Load(other);
  const auto got2 = RunAll(*o, rs);
  for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(got2[i].tokens, want[i].tokens) << i;
  EXPECT_GT(o->stats().drafted, 0);
  // A draft model of another vocabulary is refused.
  const fs::path bad = fs::path(::testing::TempDir()) / "engine_bad_draft";
  fs::create_directories(bad);
  model::ModelConfig c = Config();
  c.decoder.vocab_size = 80;
  model::ReportModel m(c);
  ASSERT_TRUE(
      model::WriteBytesAtomic((bad / "config.json").string(), model::json::Dump(model::ToJson(c)))
          .ok());
  ASSERT_TRUE(
      model::SaveSafetensors((bad / "model.safetensors").string(), model::NamedWeights(*m)).ok());
  EngineOptions wrong = Options();
  wrong.draft_model_dir = bad.string();
  auto refused = Engine::Load(ModelDir("f32"), wrong, std::make_shared<WordDecoder>());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("vocabulary"), std::string::npos);
}

TEST(Engine, QuantizedEnginesMatchTheirDequantizedReference) {
  for (WeightFormat f : {WeightFormat::kBF16, WeightFormat::kInt8, WeightFormat::kInt4}) {
    EngineOptions o = Options();
    o.format = f;
    auto e = Load(o);
    std::vector<GenerateRequest> rs = {Text(8, 1), WithImage(2)};
    const auto got = RunAll(*e, rs);
    for (size_t i = 0; i < rs.size(); ++i) {
      auto ref = e->Reference(rs[i]);
      ASSERT_TRUE(ref.ok());
      if (f == WeightFormat::kBF16) {
        EXPECT_EQ(got[i].tokens, ref->tokens) << "bf16 request " << i;
        continue;
      }
      // int8 and int4 products also round activations to int8 (per 64 inputs), which the
      // reference does not: greedy choices agree until the first near-tie, which these random
      // weights reach after a dozen tokens (logits: cpu_decoder_test).
      ASSERT_GE(got[i].tokens.size(), 8u);
      ASSERT_GE(ref->tokens.size(), 8u);
      EXPECT_TRUE(std::equal(ref->tokens.begin(), ref->tokens.begin() + 8, got[i].tokens.begin()))
          << WeightFormatName(f) << " request " << i;
    }
  }
}

TEST(Engine, BadRequestsFailAloneWithAReason) {
  auto e = Load();
  GenerateRequest long_prompt = Text(200, 1);
  auto a = e->Submit(long_prompt);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("context"), std::string::npos);
  GenerateRequest wrong_image = WithImage(1);
  wrong_image.image = torch::rand({3, 32, 32});  // three channels; the model takes one
  EXPECT_FALSE(e->Submit(wrong_image).ok());
  GenerateRequest no_image = WithImage(1);
  no_image.image = torch::Tensor();
  EXPECT_FALSE(e->Submit(no_image).ok());
  GenerateRequest nan_image = WithImage(1);
  nan_image.image[0][0][0] = NAN;
  EXPECT_FALSE(e->Submit(nan_image).ok());
  GenerateRequest bad_sampling = Text(4, 1);
  bad_sampling.sampling.top_p = 1.5;
  auto b = e->Submit(bad_sampling);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("top_p"), std::string::npos);
  GenerateRequest bad_token = Text(4, 1);
  bad_token.prompt.push_back(64);
  EXPECT_FALSE(e->Submit(bad_token).ok());
  GenerateRequest bad_ban = Text(4, 1);
  bad_ban.sampling.banned = {64};
  auto c = e->Submit(bad_ban);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("banned token 64"), std::string::npos);
  // The engine still serves.
  const auto ok = RunAll(*e, {Text(4, 2)});
  EXPECT_TRUE(ok[0].status.ok());
  EXPECT_FALSE(ok[0].tokens.empty());

  EXPECT_FALSE(Engine::Load("/nonexistent-model", Options(), nullptr).ok());
  // A tampered weight file is refused at load.
  const std::string dir = ModelDir("tampered");
  {
    auto st = model::LoadSafetensors(dir + "/model.safetensors");
    ASSERT_TRUE(st.ok());
    model::NamedTensors t(st->tensors.begin(), st->tensors.end());
    t.pop_back();
    ASSERT_TRUE(model::SaveSafetensors(dir + "/model.safetensors", t).ok());
  }
  EXPECT_FALSE(Engine::Load(dir, Options(), nullptr).ok());
}

TEST(Engine, StreamingStopSequencesAndSampling) {
  auto e = Load();
  GenerateRequest r = Text(6, 3, 30);
  const auto plain = RunAll(*e, {r});
  ASSERT_GE(plain[0].tokens.size(), 4u);
  // Stop at the third generated word: the answer ends before it.
  const std::string third = "w" + std::to_string(plain[0].tokens[2]);
  r.sampling.stop = {third};
  std::string streamed;
  r.on_text = [&](std::string_view piece) { streamed += piece; };
  const auto cut = RunAll(*e, {r});
  EXPECT_EQ(cut[0].finish, "stop");
  EXPECT_EQ(cut[0].text.find(third), std::string::npos);
  EXPECT_EQ(streamed, cut[0].text);
  // Sampling with a seed is reproducible whatever else runs in the batch.
  GenerateRequest s = Text(6, 3, 15);
  s.sampling.temperature = 1.0;
  s.sampling.top_p = 0.9;
  s.sampling.seed = 42;
  const auto alone = RunAll(*e, {s});
  const auto together = RunAll(*e, {Text(9, 8), s, Text(3, 1)});
  EXPECT_EQ(alone[0].tokens, together[1].tokens);
}

TEST(Engine, StressRandomRequestsCancellationsAndDeadlinesLeakNoBlocks) {
  EngineOptions o = Options();
  o.max_running = 16;
  auto e = Load(o);
  std::mt19937 rng(7);
  int done = 0, cancelled = 0, expired = 0, ok = 0;
  std::vector<int64_t> ids;
  for (int i = 0; i < 1000; ++i) {
    GenerateRequest r = Text(1 + static_cast<int>(rng() % 40), i, 1 + static_cast<int>(rng() % 12));
    if (rng() % 5 == 0) r.priority = Priority::kBatch;
    if (rng() % 7 == 0) r.deadline = Clock::now() + std::chrono::microseconds(rng() % 3000);
    if (rng() % 9 == 0) r.sampling.temperature = 0.8, r.sampling.seed = i;
    r.on_done = [&](const GenerateResult& res) {
      ++done;
      if (res.status.ok()) ++ok;
      if (res.status.code() == ErrorCode::kCancelled) ++cancelled;
      if (res.status.code() == ErrorCode::kDeadlineExceeded) ++expired;
    };
    auto id = e->Submit(std::move(r));
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
    if (rng() % 4 == 0) e->Step();
    if (rng() % 10 == 0) e->Cancel(ids[rng() % ids.size()]);
  }
  e->RunUntilIdle();
  EXPECT_EQ(done, 1000);
  EXPECT_EQ(ok + cancelled + expired, 1000);
  EXPECT_GT(cancelled, 0);
  EXPECT_GT(ok, 500);
  EXPECT_EQ(e->kv_blocks_in_use(), 0);
}

TEST(Engine, AReadingOverViewsIsTheImagesWithTheViewsMeanSize) {
  model::ModelConfig c = Config();
  c.findings.enabled = true;
  c.findings.hidden_size = 16;
  c.findings.cell_size = true;
  const fs::path dir = fs::path(::testing::TempDir()) / "engine_findings";
  fs::create_directories(dir);
  torch::manual_seed(5);
  model::ReportModel m(c);
  ASSERT_TRUE(
      model::WriteBytesAtomic((dir / "config.json").string(), model::json::Dump(model::ToJson(c)))
          .ok());
  ASSERT_TRUE(
      model::SaveSafetensors((dir / "model.safetensors").string(), model::NamedWeights(*m)).ok());
  EngineOptions one = Options(), five = Options();
  one.reading_views = 1;
  five.reading_views = 5;
  auto single = Load(one, dir.string()), viewed = Load(five, dir.string());
  ASSERT_TRUE(single && viewed);
  const torch::Tensor image = torch::rand({1, 32, 32});
  const torch::Tensor p1 = single->FindingProbabilities(image).value();
  const torch::Tensor p5 = viewed->FindingProbabilities(image).value();
  // Everything but the size is the image's own reading.
  const auto not_size = [](const torch::Tensor& p) {
    return torch::cat(
        {p.narrow(1, 0, model::kSize), p.narrow(1, model::kSize + 1, p.size(1) - model::kSize - 1)},
        1);
  };
  EXPECT_TRUE(torch::allclose(not_size(p1), not_size(p5)));
  // The size: the geometric mean of the sizes read from the image and its four shifted copies.
  const torch::Tensor padded = torch::constant_pad_nd(image, {8, 8, 8, 8}, 0);
  torch::Tensor log_sum = torch::zeros({model::kNumFindingKinds});
  for (auto [dy, dx] : {std::pair{8, 8}, {0, 8}, {16, 8}, {8, 0}, {8, 16}}) {
    const torch::Tensor view = padded.narrow(1, dy, 32).narrow(2, dx, 32);
    log_sum += torch::log(single->FindingProbabilities(view).value().select(1, model::kSize));
  }
  EXPECT_TRUE(torch::allclose(p5.select(1, model::kSize), torch::exp(log_sum / 5), 1e-4, 1e-4));
  EXPECT_FALSE(torch::allclose(p5.select(1, model::kSize), p1.select(1, model::kSize), 1e-4, 1e-4));
}

TEST(PromptLookup, ProposesWhatFollowedTheLatestMatch) {
  const std::vector<int32_t> seq = {5, 6, 7, 8, 9, 1, 5, 6, 7, 2, 5, 6};
  EXPECT_EQ(PromptLookup(seq, 3), (std::vector<int32_t>{7, 2, 5}));
  EXPECT_EQ(PromptLookup(seq, 1), (std::vector<int32_t>{7}));
  EXPECT_TRUE(PromptLookup(std::vector<int32_t>{1, 2, 3}, 4).empty());
}

TEST(NgramCorpus, DraftsFromEarlierOutputsAndKeepsThemApart) {
  NgramCorpus corpus(64);
  corpus.Add(std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  corpus.Add(std::vector<int32_t>{9, 2, 3, 4, 7, 8});
  // Among equal matches the latest occurrence of 2 3 4 wins; drafts stop at the end of that
  // output.
  int matched = 0;
  EXPECT_EQ(corpus.Lookup(std::vector<int32_t>{0, 2, 3, 4}, 5, &matched),
            (std::vector<int32_t>{7, 8}));
  EXPECT_EQ(matched, 3);
  // A longer match further back wins over the latest: 1 2 3 4 continues with 5 6.
  EXPECT_EQ(corpus.Lookup(std::vector<int32_t>{1, 2, 3, 4}, 5, &matched),
            (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(matched, 4);
  EXPECT_TRUE(corpus.Lookup(std::vector<int32_t>{6, 9, 2, 5}, 5).empty());
  // A corpus match of 4+ tokens comes first; then the prompt's own 3-grams, then the corpus,
  // then the prompt's 2-grams.
  EXPECT_EQ(DraftTokens(std::vector<int32_t>{2, 3, 4, 11, 2, 3, 4}, 1, &corpus),
            (std::vector<int32_t>{11}));
  EXPECT_EQ(DraftTokens(std::vector<int32_t>{2, 3, 4, 11, 1, 2, 3, 4}, 1, &corpus),
            (std::vector<int32_t>{5}));
  EXPECT_EQ(DraftTokens(std::vector<int32_t>{0, 2, 3, 4}, 1, &corpus), (std::vector<int32_t>{7}));
  EXPECT_EQ(DraftTokens(std::vector<int32_t>{5, 6, 13, 5, 6}, 2, nullptr),
            (std::vector<int32_t>{13, 5}));
  // Past its capacity the corpus starts over instead of growing.
  for (int i = 0; i < 20; ++i) corpus.Add(std::vector<int32_t>{20 + i, 21 + i, 22 + i, 23 + i});
  EXPECT_LE(corpus.size(), 64u);
}

TEST(Engine, PastOutputsFeedTheDraftsAndNeverTheOutput) {
  GenerateRequest r = Text(8, 1);
  auto plain = Load();
  const auto want = RunAll(*plain, {r});
  ASSERT_EQ(want.size(), 1u);
  ASSERT_GE(want[0].tokens.size(), 8u);
  // An earlier report that is exactly this output: nearly every draft is accepted.
  auto seeded = Load();
  seeded->AddPastOutput(want[0].tokens);
  const auto got = RunAll(*seeded, {r});
  EXPECT_EQ(got[0].tokens, want[0].tokens);
  EXPECT_GT(seeded->stats().accepted, plain->stats().accepted);
  EXPECT_LT(seeded->stats().steps, plain->stats().steps);
}

}  // namespace
}  // namespace medscribe::engine
