#!/usr/bin/env bash
# Training throughput of the report model on this machine's CPUs: tokens/s and samples/s for the
# `tiny` and `small` presets on all cores, next to one thread (--jobs 1) as the baseline.
# Throughput is measured over STEPS optimizer steps (default 10) of batch 4, after the tokenizer
# is trained and the data loaded.
# Usage: scripts/bench.sh train [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin/medscribe
steps="${1:-10}"
source bench/lib/training_data.sh
echo "medscribe train, $steps steps of batch 4, $(nproc) cores"
run() {  # PRESET JOBS -> "tokens samples"
  rm -rf "$tmp/run"
  "$bin" train --dataset "$tmp/d" --tokenizer "$tmp/tok" --no-dictation --config "$1" --out "$tmp/run" --max-steps "$steps" \
    --batch-size 4 --checkpoint-every "$steps" --eval-every 1000000 --jobs "$2" 2> /dev/null \
    | sed -nE 's/.*; ([0-9.]+) tokens\/s, ([0-9.]+) samples\/s.*/\1 \2/p'
}
declare -A tok
for preset in tiny small; do
  read -r t s <<< "$(run "$preset" 0)"
  read -r t1 s1 <<< "$(run "$preset" 1)"
  tok[$preset]=$t
  printf '%-6s all cores  %9s tokens/s %7s samples/s   baseline (1 thread): %9s tokens/s %7s samples/s  (%.2fx)\n' \
    "$preset" "$t" "$s" "$t1" "$s1" "$(awk -v a="$t" -v b="$t1" 'BEGIN { print a / b }')"
done
echo "tokens_per_s_tiny=${tok[tiny]} tokens_per_s_small=${tok[small]}"
