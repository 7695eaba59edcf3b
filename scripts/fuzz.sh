#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan/UBSan) and fuzzes one for a while.
# Usage: scripts/fuzz.sh NAME [SECONDS]   (NAME: a target in fuzz/, e.g. wav)
# New interesting inputs go to build/fuzz/corpus-NAME; copy crashers into fuzz/corpus/NAME/ so
# that they run as regression tests (fuzz.NAME.corpus) from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: scripts/fuzz.sh NAME [SECONDS]}"
seconds="${2:-60}"
scripts/bootstrap.sh --fuzz >/dev/null
[ -f build/fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "$name"
mkdir -p "build/fuzz/corpus-$name"
"build/fuzz/bin/$name" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 \
  "build/fuzz/corpus-$name" "fuzz/corpus/$name"
