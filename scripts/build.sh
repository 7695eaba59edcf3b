#!/usr/bin/env bash
# Configures and builds a CMake preset (default: release). Usage: scripts/build.sh [dev|release|asan]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
jobs="${MEDSCRIBE_BUILD_JOBS:-$(nproc)}"
if [ ! -f "build/$preset/build.ninja" ]; then
  cmake --preset "$preset" >/dev/null
fi
cmake --build --preset "$preset" -j "$jobs"
