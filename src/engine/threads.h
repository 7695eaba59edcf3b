// The threads the engine computes with.
//
// Thread safety: call before any engine work starts (it resizes process-wide pools).
#pragma once

namespace medscribe::engine {

// Sizes LibTorch's intra-op pool (which runs the engine's kernels) to `threads` (0: all cores)
// and keeps OpenBLAS, where LibTorch uses it, to one thread: its pool busy-waits between calls
// and fights the intra-op pool for the same cores (prompt processing ran several times slower
// on 2 cores). Returns the thread count set.
int SetComputeThreads(int threads);

}  // namespace medscribe::engine
