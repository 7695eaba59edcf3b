#!/usr/bin/env bash
# Report quality on this machine: a 3,000-encounter cohort (fixed seed, with speech), the domain
# language model for its dictation, ingest, the `base` model trained in full and as the
# --no-image and --no-dictation ablations, each evaluated on the test split beside the baselines
# (most frequent, retrieval, record only) and the perfect image reader, with 95% bootstrap
# intervals; then the int8 engine against f32. Prints the full evaluation table and the training
# minutes, and ends with one line of headline figures.
# Usage: scripts/bench.sh quality [ENCOUNTERS]   (default 3000; QUALITY_DIR=DIR keeps the work)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/bin/medscribe"
n="${1:-3000}"
steps="${QUALITY_STEPS:-2100}"
work="${QUALITY_DIR:-$(mktemp -d)}"
[ -n "${QUALITY_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
export MEDSCRIBE_HOME="$work/home"
ms() { "$bin" --log-level warn "$@"; }
t0=$(date +%s)
minutes() { awk -v s="$1" 'BEGIN { printf "%.1f", s / 60 }'; }

source bench/lib/cohort_dataset.sh
[ -f "$work/tok/tokenizer.model" ] || ms tokenizer train --dataset "$work/dataset" --vocab 2000 --out "$work/tok" > /dev/null
echo "prepared in $(minutes $(( $(date +%s) - t0 ))) min"

train() {  # NAME FLAGS... -> prints minutes
  local name="$1"; shift
  local s; s=$(date +%s)
  [ -f "$work/$name/model/model.safetensors" ] || \
    ms train --dataset "$work/dataset" --tokenizer "$work/tok" --config base --out "$work/$name" \
      --max-steps "$steps" --image-warmup-epochs 25 --batch-size 8 --lr 1.5e-3 --warmup 100 --eval-every 500 \
      --checkpoint-every 500 "$@" > "$work/$name.txt" 2> "$work/$name.err" \
      || { tail -5 "$work/$name.err"; exit 1; }
  ms registry register --run "$work/$name" --name "quality-$name" > /dev/null
  minutes $(( $(date +%s) - s ))
}
echo "== training the base model ($steps steps of batch 8 after the image warm-up) and its ablations"
full_min=$(train full)
warm=$(sed -nE 's/.*"val_presence_f1": ([0-9.]+).*/\1/p' "$work/full/warmup/metrics.json" 2>/dev/null)
warm_min=$(sed -nE 's/.*"seconds": ([0-9.]+).*/\1/p' "$work/full/warmup/metrics.json" 2>/dev/null)
echo "full model: $full_min min (of which the image warm-up $(minutes "${warm_min%.*}") min; its validation presence F1 $warm)"
noimg_min=$(train no-image --no-image)
echo "without the image: $noimg_min min"
nodict_min=$(train no-dictation --no-dictation --image-from "$work/full")
echo "without the dictation: $nodict_min min (the full model's image warm-up reused)"

echo "== evaluation on the test split"
ms eval --model quality-full --no-image-model quality-no-image --no-dictation-model quality-no-dictation \
  --dataset "$work/dataset" --truth "$work/cohort/truth/labels.jsonl" --out "$work/eval.json" \
  | tee "$work/eval.txt"
head=$(tail -1 "$work/eval.txt")
get() { sed -nE "s/.*(^| )$1=([0-9.]+).*/\2/p" <<< "$head"; }

echo "== int8 weights against f32 (same test split)"
ms quantize --model quality-full --format int8 --out quality-full-int8 --dataset "$work/dataset" \
  --split test --limit 0 > "$work/quantize.txt" 2>&1 || { cat "$work/quantize.txt"; exit 1; }
grep -E '^(f32|int8) ' "$work/quantize.txt"
f32=$(awk '$1 == "f32" { print $4 }' "$work/quantize.txt" | head -1)
int8=$(awk '$1 == "int8" { print $4 }' "$work/quantize.txt" | head -1)

total=$(minutes $(( $(date +%s) - t0 )))
echo "total $total min (training: full $full_min, no image $noimg_min, no dictation $nodict_min)"
echo "micro_f1=$(get micro_f1) micro_f1_low=$(get micro_f1_low) macro_f1=$(get macro_f1) no_image_micro_f1=$(get no_image_micro_f1) no_dictation_micro_f1=$(get no_dictation_micro_f1) record_only_micro_f1=$(get record_only_micro_f1) retrieval_micro_f1=$(get retrieval_micro_f1) truth_report_micro_f1=$(get truth_report_micro_f1) comparison=$(get comparison) laterality=$(get laterality) size=$(get size) hallucination=$(get hallucination) int8_micro_f1=$int8 f32_micro_f1=$f32 train_minutes=$full_min total_minutes=$total"
