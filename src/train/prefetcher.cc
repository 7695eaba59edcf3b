#include "train/prefetcher.h"

#include <algorithm>

#include "train/dp_sgd.h"

namespace medscribe::train {

Prefetcher::Prefetcher(size_t n, Load load, const PrefetchOptions& o, int64_t first, int64_t last)
    : n_(n), load_(std::move(load)), o_(o), last_(last), next_(first) {
  const int threads = std::max(1, o.threads);
  for (int w = 0; w < threads; ++w)
    threads_.emplace_back([this, w, first, threads] { Work(first + w, threads); });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

StatusOr<Batch> Prefetcher::Next() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return ready_.count(next_) > 0; });
  auto it = ready_.find(next_);
  StatusOr<Batch> b = std::move(it->second);
  ready_.erase(it);
  ++next_;
  cv_.notify_all();
  return b;
}

void Prefetcher::Work(int64_t m, int stride) {
  std::vector<size_t> order;
  uint64_t order_epoch = UINT64_MAX;
  for (; m < last_; m += stride) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || m < next_ + kAhead; });
      if (stop_) return;
    }
    StatusOr<Batch> batch = [&]() -> StatusOr<Batch> {
      std::vector<Example> examples;
      if (o_.sample_rate > 0) {  // Poisson: this rank's share of the step's sample
        const std::vector<size_t> drawn = PoissonSample(n_, o_.sample_rate, o_.seed, m);
        for (size_t j = static_cast<size_t>(o_.rank); j < drawn.size();
             j += static_cast<size_t>(o_.world)) {
          ASSIGN_OR_RETURN(Example e, load_(drawn[j], static_cast<uint64_t>(m) * n_ + drawn[j]));
          examples.push_back(std::move(e));
        }
      } else {  // this rank's slice of the epoch's permutation
        for (int64_t j = 0; j < o_.batch_size; ++j) {
          const uint64_t i = static_cast<uint64_t>((m * o_.world + o_.rank) * o_.batch_size + j);
          const uint64_t epoch = i / n_;
          if (epoch != order_epoch) {
            order = EpochOrder(n_, o_.seed, epoch);
            if (!o_.lengths.empty() && o_.bucket_batches > 0) {
              const size_t global = static_cast<size_t>(o_.batch_size * o_.world);
              order = LengthBucketed(std::move(order), o_.lengths,
                                     global * static_cast<size_t>(o_.bucket_batches), global,
                                     o_.seed, epoch);
            }
            order_epoch = epoch;
          }
          ASSIGN_OR_RETURN(Example e, load_(order[i % n_], i));
          examples.push_back(std::move(e));
        }
      }
      std::vector<const Example*> ptrs;
      for (const Example& e : examples) ptrs.push_back(&e);
      return Collate(ptrs, o_.pad);
    }();
    std::lock_guard lock(mu_);
    ready_.emplace(m, std::move(batch));
    cv_.notify_all();
  }
}

}  // namespace medscribe::train
