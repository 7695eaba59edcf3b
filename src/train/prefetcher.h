// Streaming of training batches: samples are read, tokenized and collated on background threads
// a few steps ahead of the trainer, and handed out in step order.
//
// Micro-step m of rank r of W takes the r-th slice of the m-th global micro-batch of the epoch's
// permutation (EpochOrder, length-bucketed where lengths are given), so the batches depend only on
// the seed and m, whatever the number of loader threads; a resumed run sees the batches an
// uninterrupted one would have.
//
// Thread safety: Next() is called from one thread; the loader function is called from several
// at once and must be thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"
#include "train/data.h"

namespace medscribe::train {

struct PrefetchOptions {
  int64_t batch_size = 8;  // samples per micro-step and rank
  uint64_t seed = 0;
  int threads = 2;
  int pad = 0;  // padding token id
  int rank = 0, world = 1;
  // > 0: Poisson sampling (DP-SGD, train/dp_sgd.h): micro-step m's global batch holds each of
  // the n samples with this probability (PoissonSample(n, rate, seed, m)) and rank r takes every
  // world-th of them from the r-th; batch_size is then ignored and a batch may be empty.
  double sample_rate = 0;
  // Not empty: each example's length in tokens, and the epoch's permutation is length-bucketed
  // (LengthBucketed) in windows of bucket_batches global batches (batch_size * world).
  std::vector<int> lengths;
  int64_t bucket_batches = 0;
};

// Batches of micro-steps [first, last) of a split of `n` samples; `load(i, draw)` reads sample i
// as the draw-th example of the run (a global count across epochs and ranks, so per-example
// choices such as modality dropout are reproducible and differ between epochs).
class Prefetcher {
 public:
  using Load = std::function<StatusOr<Example>(size_t index, uint64_t draw)>;

  // Starts the loader threads. REQUIRES: n > 0; first <= last.
  Prefetcher(size_t n, Load load, const PrefetchOptions& o, int64_t first, int64_t last);
  // Stops and joins the loader threads.
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The batch of the next micro-step, or the error that reading it met. REQUIRES: fewer calls
  // than last - first.
  StatusOr<Batch> Next();

 private:
  static constexpr int64_t kAhead = 4;  // micro-steps prepared beyond the one in use

  // Produces micro-steps first, first + stride, ... below last_.
  void Work(int64_t first, int stride);

  const size_t n_;
  const Load load_;
  const PrefetchOptions o_;
  const int64_t last_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, StatusOr<Batch>> ready_;
  int64_t next_;
  bool stop_ = false;
  std::vector<std::thread> threads_;  // last: start after the members they use
};

}  // namespace medscribe::train
