#!/usr/bin/env bash
# What DP-SGD costs on this machine: the `tiny` model trained on a synthetic cohort without
# privacy (the baseline: STEPS steps of batch 8) and with DP-SGD at epsilon 8, 3 and 1 (delta
# 1e-5, each example's gradient clipped to 1, Poisson sampling; DP_STEPS steps of expected batch
# DP_BATCH, since DP-SGD's noise shrinks with the batch), the same learning rate for all; each is
# evaluated on the cohort's test split (micro-F1 against the references, with the lower end of its
# 95% bootstrap interval), beside the record-only and retrieval baselines of the same
# evaluation. Then the speed: 30 steps of batch 8 without and with DP-SGD, back to back, in
# training samples/s (per-example gradients are one backward pass per example).
# Usage: scripts/bench.sh privacy [ENCOUNTERS] [STEPS] [DP_STEPS] [DP_BATCH]   (default 600,
# 300, 100 and 64; PRIVACY_DIR=DIR keeps the work and reuses what is there)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/bin/medscribe"
n="${1:-600}"
steps="${2:-300}"
dp_steps="${3:-100}"
dp_batch="${4:-64}"
work="${PRIVACY_DIR:-$(mktemp -d)}"
[ -n "${PRIVACY_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
export MEDSCRIBE_HOME="$work/home"
ms() { "$bin" --log-level warn "$@"; }

echo "== cohort: $n encounters (seed 17, no speech), images at 128 px"
[ -f "$work/cohort/cohort.json" ] ||
  ms synth --out "$work/cohort" --encounters "$n" --seed 17 --no-speech --image-size 128 > /dev/null
if [ ! -f "$work/dataset/manifest.json" ]; then
  rc=0
  ms ingest --dicom "$work/cohort/dicom" --fhir "$work/cohort/fhir" --out "$work/dataset" --image-size 128 \
    --no-warehouse > "$work/ingest.txt" || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat "$work/ingest.txt"; exit 1; }
fi
ms dataset show "$work/dataset" | sed -n '/^  test/p;/^  train/p;/^  val/p'
[ -f "$work/tok/tokenizer.model" ] || ms tokenizer train --dataset "$work/dataset" --vocab 1000 --out "$work/tok" > /dev/null

train() {  # NAME STEPS BATCH FLAGS...: trains unless done; prints the run's samples/s
  local name="$1" n="$2" b="$3"
  shift 3
  [ -f "$work/$name/model/model.safetensors" ] ||
    ms train --dataset "$work/dataset" --tokenizer "$work/tok" --config tiny --no-dictation --out "$work/$name" \
      --max-steps "$n" --batch-size "$b" --lr 2e-3 --warmup 30 --eval-every "$n" --checkpoint-every "$n" \
      "$@" > "$work/$name.txt" 2> "$work/$name.err" || { tail -5 "$work/$name.err"; exit 1; }
  sed -nE 's/^run .*, ([0-9.]+) samples\/s$/\1/p' "$work/$name.txt"
}
evaluate() {  # NAME: registers and evaluates the run; prints its headline line
  ms registry register --run "$work/$1" --name "privacy-$1" > /dev/null
  [ -f "$work/$1.eval.txt" ] ||
    ms eval --model "privacy-$1" --dataset "$work/dataset" --truth "$work/cohort/truth/labels.jsonl" \
      > "$work/$1.eval.txt"
  tail -1 "$work/$1.eval.txt"
}
get() { sed -nE "s/.*(^| )$1=([0-9.]+).*/\2/p" <<< "$2"; }

echo "== training: plain $steps steps of batch 8; DP-SGD $dp_steps steps of expected batch $dp_batch; learning rate 2e-3"
declare -A f1 low eps
train plain "$steps" 8 > /dev/null
for e in 8 3 1; do
  train "dp$e" "$dp_steps" "$dp_batch" --dp-epsilon "$e" --dp-delta 1e-5 --dp-max-grad-norm 1 > /dev/null
  eps[$e]=$(sed -nE 's/^privacy: epsilon ([0-9.]+) .*/\1/p' "$work/dp$e.txt")
  grep '^privacy' "$work/dp$e.txt"
done

echo "== evaluation on the test split"
head=$(evaluate plain)
f1[plain]=$(get micro_f1 "$head") low[plain]=$(get micro_f1_low "$head")
record=$(get record_only_micro_f1 "$head") retrieval=$(get retrieval_micro_f1 "$head")
for e in 8 3 1; do
  h=$(evaluate "dp$e")
  f1[$e]=$(get micro_f1 "$h") low[$e]=$(get micro_f1_low "$h")
done
printf '%-22s %9s %10s %12s\n' system epsilon micro-F1 "95% low"
printf '%-22s %9s %10s %12s\n' "plain (baseline)" "-" "${f1[plain]}" "${low[plain]}"
for e in 8 3 1; do
  printf '%-22s %9s %10s %12s\n' "DP-SGD epsilon<=$e" "${eps[$e]}" "${f1[$e]}" "${low[$e]}"
done
printf '%-22s %9s %10s\n' "record only" "-" "$record" "retrieval" "-" "$retrieval"

echo "== speed: 30 steps of batch 8, back to back"
rm -rf "$work/speed-plain" "$work/speed-dp"
plain_sps=$(train speed-plain 30 8)
dp_sps=$(train speed-dp 30 8 --dp-noise 1)
ratio=$(awk -v a="$dp_sps" -v b="$plain_sps" 'BEGIN { printf "%.3f", a / b }')
echo "plain $plain_sps samples/s (baseline), DP-SGD $dp_sps samples/s: ${ratio}x"
echo "plain_micro_f1=${f1[plain]} eps8_micro_f1=${f1[8]} eps3_micro_f1=${f1[3]} eps1_micro_f1=${f1[1]} record_only_micro_f1=$record dp_vs_plain_samples_per_s=$ratio"
