// The unit tests' main: LibTorch's products on the processor's own OpenBLAS kernels (as the CLI
// runs them), then GoogleTest.
#include <gtest/gtest.h>

#include "common/blas_kernels.h"

int main(int argc, char** argv) {
  medscribe::EnsureBlasKernels(argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
