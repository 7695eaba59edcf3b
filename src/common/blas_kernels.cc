#include "common/blas_kernels.h"

#include <unistd.h>

#include <array>
#include <cstdlib>

// OpenBLAS's own query; null when the process has no OpenBLAS (weak reference).
extern "C" char* openblas_get_corename(void) __attribute__((weak));

namespace medscribe {

std::string BetterBlasCore(std::string_view core, bool avx512, bool avx2_fma) {
  static constexpr std::array<std::string_view, 6> kGeneric = {"Prescott",   "Core2",   "Penryn",
                                                               "Dunnington", "Nehalem", "Atom"};
  bool generic = false;
  for (std::string_view g : kGeneric) generic = generic || core == g;
  if (!generic) return "";
  if (avx512) return "SkylakeX";
  if (avx2_fma) return "Haswell";
  return "";
}

void EnsureBlasKernels(char** argv) {
  if (openblas_get_corename == nullptr || std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const char* core = openblas_get_corename();
  if (core == nullptr) return;
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vl");
  const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  const bool avx512 = false, avx2_fma = false;
#endif
  const std::string better = BetterBlasCore(core, avx512, avx2_fma);
  if (better.empty()) return;
  if (setenv("OPENBLAS_CORETYPE", better.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: go on with the fallback
}

}  // namespace medscribe
