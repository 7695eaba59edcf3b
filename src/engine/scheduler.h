// Continuous batching: which tokens of which sequences the model computes at each step.
//
// Every step has a token budget. Sequences that are decoding take one token each (their newest
// sampled token, whose keys and values are not yet cached); sequences still in their prompt take
// a chunk of it (chunked prefill), so a long prompt never stalls the decoders; then waiting
// requests are admitted, interactive before batch and first come first served within a priority,
// as long as budget, sequence slots and KV blocks last. When a decoding sequence finds no block
// for its next token, the newest, lowest-priority running sequence is preempted: its blocks are
// freed and it goes back to the front of its queue with its generated tokens appended to its
// prompt, to be recomputed later (generation continues where it stopped). Cancelled requests and
// requests past their deadline leave at the next step with their reason.
//
// The engine calls Plan(), runs the model on the plan's chunks, then Completed() for each chunk
// that ends at the last known token (with the token sampled from its logits) and Finish() when a
// sequence is done.
//
// Thread safety: not thread-safe; one engine thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "common/status.h"
#include "engine/kv_cache.h"

namespace medscribe::engine {

using Clock = std::chrono::steady_clock;

enum class Priority { kInteractive = 0, kBatch = 1 };

struct Request {
  int64_t id = 0;
  std::vector<int32_t> prompt{};
  Priority priority = Priority::kInteractive;
  int max_tokens = 256;
  std::optional<Clock::time_point> deadline{};  // none: no deadline
  uint64_t prefix_salt = 0;  // inputs beyond the tokens (an image digest) for prefix caching
  bool speculate = false;    // draft tokens with SchedulerOptions::drafter (greedy requests)
};

// Proposes up to `max` tokens likely to follow `sequence` (prompt and generated tokens) of
// request `id`.
using Drafter =
    std::function<std::vector<int32_t>(int64_t id, std::span<const int32_t> sequence, int max)>;

struct SchedulerOptions {
  int64_t max_step_tokens = 512;  // token budget of one step (prefill chunks + decodes)
  int max_running = 64;           // sequences in the running batch
  int64_t max_context = 2048;     // prompt + generated tokens of one sequence
  Drafter drafter{};              // speculative decoding; none: no drafts
  int max_draft = 6;              // draft tokens per sequence and step
};

// Tokens [start, start + count) of sequence `id` are computed this step. `sample` is true when
// the chunk ends at the sequence's last known token: its logits give the next token.
// A decode chunk may end with draft tokens (speculative decoding): its logits at every
// position verify them, and Completed() then takes the accepted ones and the next token.
struct Chunk {
  int64_t id = 0;
  int64_t start = 0, count = 0;
  bool sample = false;
  std::vector<int32_t> draft{};  // the chunk's last draft.size() tokens
};

struct StepPlan {
  std::vector<Chunk> chunks;
  std::vector<BlockCopy> copies;  // copy-on-write block copies to make before computing
  std::vector<int64_t> preempted;
  std::vector<std::pair<int64_t, Status>> ended;  // cancelled, expired, or impossible
  int64_t tokens() const;
};

class Scheduler {
 public:
  // REQUIRES: `kv` outlives the scheduler and is used by nothing else.
  Scheduler(KvCacheManager* kv, SchedulerOptions o);

  // InvalidArgument when the prompt is empty or does not fit the context with one generated
  // token; AlreadyExists for a known id.
  Status Submit(Request r);
  // The request ends at the next Plan() with Cancelled (no effect when unknown or finished).
  void Cancel(int64_t id);
  StepPlan Plan(Clock::time_point now);
  // The chunk of `id` that ended at its last token was computed and `token` sampled from it.
  void Completed(int64_t id, int32_t token);
  // For a chunk with drafts: `tokens` are the accepted drafts (a prefix of the chunk's draft)
  // followed by the token sampled after them; rejected drafts leave the KV cache.
  void Completed(int64_t id, std::span<const int32_t> tokens);
  // `id` is done (stop condition met): its blocks are released.
  void Finish(int64_t id);

  // Tokens generated so far (across preemptions).
  const std::vector<int32_t>& Generated(int64_t id) const { return seqs_.at(id).generated; }
  int running() const { return static_cast<int>(running_.size()); }
  int waiting() const { return static_cast<int>(waiting_[0].size() + waiting_[1].size()); }
  int64_t preemptions() const { return preemptions_; }
  // Draft tokens proposed and accepted since construction.
  int64_t drafted() const { return drafted_; }
  int64_t accepted() const { return accepted_; }
  int64_t verifications() const { return verifications_; }  // chunks with drafts completed

 private:
  struct Seq {
    Request request;
    std::vector<int32_t> generated;
    int64_t computed = 0;  // tokens whose keys and values are cached
    bool pending = false;  // the newest generated token is not yet in the KV cache
    bool cancelled = false;
    uint64_t arrival = 0;
  };
  int64_t Known(const Seq& s) const {
    return static_cast<int64_t>(s.request.prompt.size() + s.generated.size());
  }
  bool Admit(int64_t id, int64_t& budget, StepPlan& plan);
  void Preempt(int64_t id, StepPlan& plan);
  void Draft(Seq& s, Chunk& c, int64_t& budget, StepPlan& plan);
  void End(int64_t id, Status why, StepPlan& plan);

  KvCacheManager* kv_;
  SchedulerOptions o_;
  std::map<int64_t, Seq> seqs_;
  std::deque<int64_t> waiting_[2];  // by priority
  std::vector<int64_t> running_;    // admission order
  std::vector<Chunk> last_;         // the previous step's chunks
  uint64_t arrivals_ = 0;
  int64_t preemptions_ = 0;
  int64_t drafted_ = 0, accepted_ = 0, verifications_ = 0;
};

}  // namespace medscribe::engine
