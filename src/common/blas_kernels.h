// OpenBLAS kernels fit for the processor.
//
// OpenBLAS (Debian 12: 0.3.21, under LibTorch's matrix products) picks its kernels from the
// processor's model number when it is loaded. A processor newer than the library (Sapphire and
// Emerald Rapids for 0.3.21) falls back to the generic "Prescott" kernels, which ran the `base`
// decoder's training 2.5x slower here than the Skylake-X kernels the same processor can run.
// OPENBLAS_CORETYPE chooses the kernels, but only before the library is loaded, so a process
// that finds the fallback sets it and executes itself again.
#pragma once

#include <string>
#include <string_view>

namespace medscribe {

// The OPENBLAS_CORETYPE to run instead of `core` (openblas_get_corename()) on a processor with
// the given instruction sets: "SkylakeX" with AVX-512 (F, CD, BW, DQ, VL), else "Haswell" with
// AVX2 and FMA, where `core` is one of the generic fallbacks (Prescott, Core2, Penryn, Dunnington,
// Nehalem, Atom); "" otherwise (the library chose well, or nothing better runs here).
std::string BetterBlasCore(std::string_view core, bool avx512, bool avx2_fma);

// When the process's OpenBLAS runs a generic fallback that BetterBlasCore improves and
// OPENBLAS_CORETYPE is unset, sets it and re-executes the process (/proc/self/exe, same `argv`
// and environment); returns when there is nothing to do, when the process has no OpenBLAS, or
// when the re-execution fails. Call first thing in main(), before any thread starts.
void EnsureBlasKernels(char** argv);

}  // namespace medscribe
