#include "engine/scheduler.h"

#include <algorithm>

namespace medscribe::engine {

int64_t StepPlan::tokens() const {
  int64_t n = 0;
  for (const Chunk& c : chunks) n += c.count;
  return n;
}

Scheduler::Scheduler(KvCacheManager* kv, SchedulerOptions o) : kv_(kv), o_(o) {}

Status Scheduler::Submit(Request r) {
  if (seqs_.count(r.id)) return AlreadyExistsError("request " + std::to_string(r.id) + " exists");
  if (r.prompt.empty()) return InvalidArgumentError("the prompt is empty");
  const int64_t n = static_cast<int64_t>(r.prompt.size());
  if (n + 1 > o_.max_context) {
    return InvalidArgumentError("the prompt has " + std::to_string(n) +
                                " tokens; the model's context holds " +
                                std::to_string(o_.max_context) + " with the answer");
  }
  const int64_t blocks = (n + kv_->block_size()) / kv_->block_size();
  if (blocks > kv_->pool().num_blocks()) {
    return InvalidArgumentError("the prompt needs " + std::to_string(blocks) +
                                " KV-cache blocks; the cache has " +
                                std::to_string(kv_->pool().num_blocks()));
  }
  Seq s;
  s.arrival = arrivals_++;
  const int q = static_cast<int>(r.priority);
  const int64_t id = r.id;
  s.request = std::move(r);
  seqs_.emplace(id, std::move(s));
  waiting_[q].push_back(id);
  return OkStatus();
}

void Scheduler::Cancel(int64_t id) {
  auto it = seqs_.find(id);
  if (it != seqs_.end()) it->second.cancelled = true;
}

void Scheduler::End(int64_t id, Status why, StepPlan& plan) {
  if (kv_->Has(id)) kv_->Free(id);
  running_.erase(std::remove(running_.begin(), running_.end(), id), running_.end());
  for (auto& q : waiting_) q.erase(std::remove(q.begin(), q.end(), id), q.end());
  seqs_.erase(id);
  plan.ended.emplace_back(id, std::move(why));
}

void Scheduler::Preempt(int64_t id, StepPlan& plan) {
  Seq& s = seqs_.at(id);
  kv_->Free(id);
  running_.erase(std::remove(running_.begin(), running_.end(), id), running_.end());
  s.computed = 0;
  s.pending = false;  // the newest token is recomputed with the rest
  waiting_[static_cast<int>(s.request.priority)].push_front(id);
  plan.preempted.push_back(id);
  ++preemptions_;
}

bool Scheduler::Admit(int64_t id, int64_t& budget, StepPlan& plan) {
  Seq& s = seqs_.at(id);
  std::vector<int32_t> tokens = s.request.prompt;
  tokens.insert(tokens.end(), s.generated.begin(), s.generated.end());
  if (!kv_->CanAdd(tokens.size())) return false;
  StatusOr<int> hits = kv_->Add(id, tokens, s.request.prefix_salt);
  if (!hits.ok()) return false;
  const int64_t known = static_cast<int64_t>(tokens.size());
  const int64_t n = std::min(known - *hits, budget);
  plan.chunks.push_back({id, *hits, n, *hits + n == known});
  s.computed = *hits + n;
  budget -= n;
  auto& q = waiting_[static_cast<int>(s.request.priority)];
  q.erase(std::remove(q.begin(), q.end(), id), q.end());
  running_.push_back(id);
  return true;
}

StepPlan Scheduler::Plan(Clock::time_point now) {
  StepPlan plan;
  // The previous step's chunks are in the cache now; only now are their blocks published for
  // prefix sharing, so no sequence reads keys and values that are still being written.
  for (const Chunk& c : last_) {
    if (kv_->Has(c.id)) kv_->MarkComputed(c.id, c.start + c.count);
  }
  // Requests that end before any work.
  std::vector<std::pair<int64_t, Status>> ending;
  for (const auto& [id, s] : seqs_) {
    if (s.cancelled) {
      ending.emplace_back(id, Status(ErrorCode::kCancelled, "the request was cancelled"));
    } else if (s.request.deadline && now > *s.request.deadline) {
      ending.emplace_back(id, Status(ErrorCode::kDeadlineExceeded,
                                     "the request's deadline passed after " +
                                         std::to_string(s.generated.size()) + " tokens"));
    }
  }
  for (auto& [id, why] : ending) End(id, std::move(why), plan);

  int64_t budget = o_.max_step_tokens;
  // Running sequences, interactive first, then by arrival; the last one is the first victim.
  std::vector<int64_t> order = running_;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const Seq &x = seqs_.at(a), &y = seqs_.at(b);
    if (x.request.priority != y.request.priority) return x.request.priority < y.request.priority;
    return x.arrival < y.arrival;
  });
  for (const int64_t id : order) {
    if (budget <= 0) break;
    if (std::find(running_.begin(), running_.end(), id) == running_.end()) continue;  // preempted
    Seq& s = seqs_.at(id);
    if (s.pending) {
      while (true) {
        StatusOr<std::optional<BlockCopy>> room = kv_->Append(id, s.generated.back());
        if (room.ok()) {
          if (*room) plan.copies.push_back(**room);
          Chunk c{id, Known(s) - 1, 1, true};
          s.pending = false;
          s.computed = Known(s);
          --budget;
          if (s.request.speculate && o_.drafter) Draft(s, c, budget, plan);
          plan.chunks.push_back(std::move(c));
          break;
        }
        // Out of blocks: the newest lowest-priority running sequence makes room.
        int64_t victim = -1;
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
          if (std::find(running_.begin(), running_.end(), *it) != running_.end()) {
            victim = *it;
            break;
          }
        }
        Preempt(victim, plan);
        if (victim == id) break;
      }
    } else if (s.computed < Known(s)) {  // a prompt in chunks
      const int64_t n = std::min(Known(s) - s.computed, budget);
      plan.chunks.push_back({id, s.computed, n, s.computed + n == Known(s)});
      s.computed += n;
      budget -= n;
    }
  }
  // Admissions: interactive before batch, first come first served, no overtaking.
  for (auto& q : waiting_) {
    while (!q.empty() && budget > 0 && static_cast<int>(running_.size()) < o_.max_running) {
      if (!Admit(q.front(), budget, plan)) {
        budget = 0;  // the head waits for blocks; nobody behind it goes first
        break;
      }
    }
  }
  last_ = plan.chunks;
  return plan;
}

void Scheduler::Completed(int64_t id, int32_t token) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return;
  it->second.generated.push_back(token);
  it->second.pending = true;
}

void Scheduler::Draft(Seq& s, Chunk& c, int64_t& budget, StepPlan& plan) {
  // Room: the budget, the context and the token limit (the verified step adds drafts + 1).
  const int64_t left =
      std::min<int64_t>({o_.max_draft, budget, o_.max_context - Known(s) - 1,
                         s.request.max_tokens - static_cast<int64_t>(s.generated.size()) - 1});
  if (left <= 0) return;
  std::vector<int32_t> seq = s.request.prompt;
  seq.insert(seq.end(), s.generated.begin(), s.generated.end());
  for (const int32_t t : o_.drafter(c.id, seq, static_cast<int>(left))) {
    if (static_cast<int64_t>(c.draft.size()) >= left) break;
    StatusOr<std::optional<BlockCopy>> room = kv_->Append(c.id, t);
    if (!room.ok()) break;  // drafts never preempt anyone
    if (*room) plan.copies.push_back(**room);
    c.draft.push_back(t);
  }
  c.count += static_cast<int64_t>(c.draft.size());
  budget -= static_cast<int64_t>(c.draft.size());
  drafted_ += static_cast<int64_t>(c.draft.size());
}

void Scheduler::Completed(int64_t id, std::span<const int32_t> tokens) {
  auto it = seqs_.find(id);
  if (it == seqs_.end() || tokens.empty()) return;
  Seq& s = it->second;
  const int64_t accepted = static_cast<int64_t>(tokens.size()) - 1;
  accepted_ += accepted;
  ++verifications_;
  // The cache holds the chunk's first token and its accepted drafts; the rest leave.
  const int64_t keep = Known(s) + accepted;
  kv_->Truncate(id, keep);
  for (Chunk& c : last_) {
    if (c.id == id) c.count = std::min(c.count, keep - c.start);
  }
  s.generated.insert(s.generated.end(), tokens.begin(), tokens.end());
  s.computed = keep;
  s.pending = true;
}

void Scheduler::Finish(int64_t id) {
  if (kv_->Has(id)) {
    kv_->MarkComputed(id, seqs_.at(id).computed);
    kv_->Free(id);
  }
  running_.erase(std::remove(running_.begin(), running_.end(), id), running_.end());
  seqs_.erase(id);
}

}  // namespace medscribe::engine
