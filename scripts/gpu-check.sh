#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, CUDA, CMake and a PyTorch 2.x install: builds the ML core (and
# nothing else) against that PyTorch's LibTorch, then runs tests/gpu/gpu_check: CPU and CUDA
# agree on a forward/backward, bf16 autocast works, and a training-step benchmark prints tokens/s
# and MFU against the matmul peaks measured in the same run.
# Usage: scripts/gpu-check.sh [gpu_check options, e.g. --steps 20 --batch 16 --text-tokens 512]
# Environment: PYTHON (default python3) is the interpreter whose torch is used.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-python3}"
prefix=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)') || {
  echo "error: $py cannot import torch; install PyTorch with CUDA or set PYTHON" >&2
  exit 2
}
"$py" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "devices", torch.cuda.device_count())'
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
mkdir -p build/gpu
cmake -S . -B build/gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DMEDSCRIBE_ML_CORE_ONLY=ON \
  -DCMAKE_PREFIX_PATH="$prefix" > build/gpu/configure.log 2>&1 \
  || { tail -30 build/gpu/configure.log >&2; exit 1; }
cmake --build build/gpu -j "$(nproc)" 2>&1 | tail -5
build/gpu/bin/gpu_check "$@"
