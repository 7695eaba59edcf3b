#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace medscribe::engine {
namespace {

// A stand-in model: the next token is a function of the whole sequence so far, as with a real
// decoder, so recomputation after preemption must give the same continuation.
int32_t NextToken(const std::vector<int32_t>& seq) {
  uint64_t h = 7;
  for (int32_t t : seq) h = h * 31 + static_cast<uint64_t>(t);
  return static_cast<int32_t>(h % 997);
}

std::vector<int32_t> Reference(const std::vector<int32_t>& prompt, int max_tokens) {
  std::vector<int32_t> seq = prompt, out;
  for (int i = 0; i < max_tokens; ++i) {
    out.push_back(NextToken(seq));
    seq.push_back(out.back());
  }
  return out;
}

struct Driver {
  KvCacheManager kv;
  Scheduler sched;
  std::map<int64_t, Request> requests;
  std::map<int64_t, std::vector<int32_t>> outputs;
  std::map<int64_t, ErrorCode> ended;
  int64_t max_step_tokens;
  int steps = 0;

  Driver(int blocks, int block_size, SchedulerOptions o)
      : kv(blocks, block_size), sched(&kv, o), max_step_tokens(o.max_step_tokens) {}

  Status Submit(Request r) {
    requests[r.id] = r;
    return sched.Submit(std::move(r));
  }

  // One engine step; returns the plan for inspection.
  StepPlan Step(Clock::time_point now = Clock::now()) {
    StepPlan plan = sched.Plan(now);
    EXPECT_LE(plan.tokens(), max_step_tokens);
    for (const auto& [id, why] : plan.ended) ended[id] = why.code();
    for (const Chunk& c : plan.chunks) {
      if (!c.sample) continue;
      std::vector<int32_t> seq = requests[c.id].prompt;
      const auto& gen = sched.Generated(c.id);
      seq.insert(seq.end(), gen.begin(), gen.end());
      EXPECT_EQ(c.start + c.count, static_cast<int64_t>(seq.size()));
      sched.Completed(c.id, NextToken(seq));
      if (static_cast<int>(sched.Generated(c.id).size()) >= requests[c.id].max_tokens) {
        outputs[c.id] = sched.Generated(c.id);
        sched.Finish(c.id);
      }
    }
    ++steps;
    return plan;
  }

  void RunToEnd() {
    for (int i = 0; i < 100000 && (sched.running() > 0 || sched.waiting() > 0); ++i) Step();
    EXPECT_EQ(sched.running() + sched.waiting(), 0) << "did not finish";
  }
};

std::vector<int32_t> Prompt(int n, int32_t seed) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back((seed * 131 + i * 17) % 900 + 50);
  return p;
}

TEST(Scheduler, BatchedOutputEqualsOneAtATimeEvenWithPreemption) {
  // 12 blocks of 4 slots for 6 sequences of up to 30 tokens: they cannot all fit at once.
  Driver d(12, 4, {.max_step_tokens = 32, .max_running = 8, .max_context = 64});
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(d.Submit({.id = i, .prompt = Prompt(6 + i, i), .max_tokens = 20}).ok());
  d.RunToEnd();
  EXPECT_GT(d.sched.preemptions(), 0) << "the test should exercise preemption";
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(d.outputs[i], Reference(Prompt(6 + i, i), 20)) << "request " << i;
  EXPECT_EQ(d.kv.pool().num_available(), d.kv.pool().num_blocks()) << "blocks leaked";
}

TEST(Scheduler, ALongPromptIsChunkedWhileOthersKeepDecoding) {
  Driver d(64, 4, {.max_step_tokens = 8, .max_running = 8, .max_context = 256});
  ASSERT_TRUE(d.Submit({.id = 1, .prompt = Prompt(4, 1), .max_tokens = 40}).ok());
  d.Step();  // request 1's prompt
  ASSERT_TRUE(d.Submit({.id = 2, .prompt = Prompt(60, 2), .max_tokens = 5}).ok());
  int steps_with_both = 0;
  for (int i = 0; i < 8; ++i) {
    const StepPlan p = d.Step();
    bool decode1 = false, prefill2 = false;
    for (const Chunk& c : p.chunks) {
      decode1 |= c.id == 1 && c.count == 1;
      prefill2 |= c.id == 2 && c.count > 1;
    }
    steps_with_both += decode1 && prefill2;
  }
  EXPECT_GE(steps_with_both, 6) << "the decoder must advance while the 60-token prompt fills";
  d.RunToEnd();
  EXPECT_EQ(d.outputs[2], Reference(Prompt(60, 2), 5));
  EXPECT_EQ(d.outputs[1], Reference(Prompt(4, 1), 40));
}

TEST(Scheduler, InteractiveRequestsGoBeforeBatchOnes) {
  Driver d(64, 4, {.max_step_tokens = 64, .max_running = 1, .max_context = 64});
  ASSERT_TRUE(
      d.Submit({.id = 1, .prompt = Prompt(4, 1), .priority = Priority::kBatch, .max_tokens = 3})
          .ok());
  ASSERT_TRUE(
      d.Submit({.id = 2, .prompt = Prompt(4, 2), .priority = Priority::kBatch, .max_tokens = 3})
          .ok());
  ASSERT_TRUE(d.Submit({.id = 3, .prompt = Prompt(4, 3), .max_tokens = 3}).ok());
  std::vector<int64_t> admitted;
  for (int i = 0; i < 20 && admitted.size() < 3; ++i) {
    for (const Chunk& c : d.Step().chunks)
      if (c.start == 0) admitted.push_back(c.id);
  }
  EXPECT_EQ(admitted, (std::vector<int64_t>{3, 1, 2}));
}

TEST(Scheduler, CancellationDeadlinesAndImpossiblePrompts) {
  Driver d(64, 4, {.max_step_tokens = 64, .max_running = 8, .max_context = 32});
  const auto now = Clock::now();
  ASSERT_TRUE(d.Submit({.id = 1, .prompt = Prompt(4, 1), .max_tokens = 50}).ok());
  ASSERT_TRUE(d.Submit({.id = 2,
                        .prompt = Prompt(4, 2),
                        .max_tokens = 10,
                        .deadline = now + std::chrono::seconds(5)})
                  .ok());
  d.Step(now);
  d.sched.Cancel(1);
  d.Step(now + std::chrono::seconds(10));
  EXPECT_EQ(d.ended[1], ErrorCode::kCancelled);
  EXPECT_EQ(d.ended[2], ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(d.sched.running(), 0);
  EXPECT_EQ(d.kv.pool().num_available(), d.kv.pool().num_blocks());
  EXPECT_EQ(d.Submit({.id = 3, .prompt = Prompt(32, 3)}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(d.Submit({.id = 4, .prompt = {}}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(d.Submit({.id = 5, .prompt = Prompt(4, 5)}).code(), ErrorCode::kOk);
  EXPECT_EQ(d.Submit({.id = 5, .prompt = Prompt(4, 5)}).code(), ErrorCode::kAlreadyExists);
}

TEST(Scheduler, StressThousandRandomRequestsFinishOrEndCleanly) {
  Driver d(96, 8, {.max_step_tokens = 128, .max_running = 32, .max_context = 160});
  std::mt19937 rng(1);
  int submitted = 0;
  const auto start = Clock::now();
  for (int64_t id = 0; id < 1000; ++id) {
    Request r{.id = id,
              .prompt = Prompt(1 + static_cast<int>(rng() % 100), static_cast<int32_t>(id)),
              .priority = rng() % 3 ? Priority::kInteractive : Priority::kBatch,
              .max_tokens = 1 + static_cast<int>(rng() % 40)};
    if (rng() % 10 == 0) r.deadline = start + std::chrono::milliseconds(rng() % 50);
    ASSERT_TRUE(d.Submit(r).ok());
    ++submitted;
    if (rng() % 15 == 0) d.sched.Cancel(static_cast<int64_t>(rng() % (id + 1)));
    if (id % 4 == 0) d.Step(start + std::chrono::milliseconds(id / 4));
  }
  for (int i = 0; i < 200000 && (d.sched.running() > 0 || d.sched.waiting() > 0); ++i)
    d.Step(start + std::chrono::milliseconds(250 + i));
  EXPECT_EQ(static_cast<int>(d.outputs.size() + d.ended.size()), submitted);
  int checked = 0;
  for (const auto& [id, out] : d.outputs) {
    if (checked++ % 25 == 0) {
      EXPECT_EQ(out, Reference(d.requests[id].prompt, d.requests[id].max_tokens)) << id;
    }
  }
  EXPECT_EQ(d.kv.pool().num_available(), d.kv.pool().num_blocks()) << "blocks leaked";
}

}  // namespace
}  // namespace medscribe::engine
