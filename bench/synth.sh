#!/usr/bin/env bash
# Synthetic cohort generation speed: encounters per second for N encounters (default 1000) with
# and without dictation speech on all cores, next to the single-thread rate as the baseline.
# Usage: scripts/bench.sh synth [N]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin/medscribe
n="${1:-1000}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rate LABEL ARGS...: runs synth and prints encounters/s; sets RATE.
rate() {
  local label=$1
  shift
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" --log-level warn synth --out "$tmp/cohort" --force --seed 7 "$@" >/dev/null
  t1=$(date +%s.%N)
  RATE=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
  printf '%-44s %8s encounters/s  (%s s)\n' "$label" "$RATE" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
}

echo "medscribe synth, $n encounters, image size 512, $(nproc) cores"
rate "with speech, all cores" --encounters "$n"
with_speech=$RATE
rate "without speech, all cores" --encounters "$n" --no-speech
no_speech=$RATE
rate "baseline: with speech, 1 thread (--jobs 1)" --encounters "$n" --jobs 1
base_speech=$RATE
rate "baseline: without speech, 1 thread (--jobs 1)" --encounters "$n" --no-speech --jobs 1
base_no_speech=$RATE
awk -v a="$with_speech" -v b="$base_speech" -v c="$no_speech" -v d="$base_no_speech" \
  'BEGIN { printf "parallel speed-up: %.2fx with speech, %.2fx without\n", a / b, c / d }'
echo "encounters_per_s=$with_speech encounters_per_s_no_speech=$no_speech"
