#include "engine/threads.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>

// OpenBLAS keeps its own thread pool, which at::set_num_threads does not size; absent from
// LibTorch builds without it, hence weak.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace medscribe::engine {

int SetComputeThreads(int threads) {
  const int n =
      threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  return n;
}

}  // namespace medscribe::engine
