#!/usr/bin/env bash
# How much the record gives away, and how good the ruler is: a cohort (default 3,000 encounters,
# seed 17, with speech) is synthesized, its truth checked against the report labeler, then it is
# ingested (dictation transcribed with the domain language model) and the baselines that read no
# image (most frequent report, nearest-neighbour retrieval, record only) are scored on the test
# split beside the perfect image reader (the truth's labels written as a report), with 95%
# bootstrap intervals and the per-class table. Ends with one line of headline figures; the
# record-only baseline should stay well below the perfect reader (the leak), the labeler near 1.
# Usage: scripts/bench.sh cohort [ENCOUNTERS]   (COHORT_DIR=DIR keeps the work; the quality
# benchmark's QUALITY_DIR holds the same cohort and dataset)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/bin/medscribe"
n="${1:-3000}"
work="${COHORT_DIR:-$(mktemp -d)}"
[ -n "${COHORT_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
export MEDSCRIBE_HOME="$work/home"
ms() { "$bin" --log-level warn "$@"; }

source bench/lib/cohort_dataset.sh
echo "== the labeler against the cohort's truth ($n reports)"
ms eval --truth "$work/cohort/truth/labels.jsonl" | tee "$work/labeler.txt"
echo "== baselines without the image on the test split"
ms eval --dataset "$work/dataset" --truth "$work/cohort/truth/labels.jsonl" | tee "$work/baselines.txt"
lab=$(tail -1 "$work/labeler.txt")
base=$(tail -1 "$work/baselines.txt")
get() { sed -nE "s/.*(^| )$2=([0-9.]+).*/\2/p" <<< "$1"; }
record=$(get "$base" record_only_micro_f1)
truth=$(get "$base" truth_report_micro_f1)
echo "labeler_micro_f1=$(get "$lab" labeler_micro_f1) labeler_macro_f1=$(get "$lab" labeler_macro_f1) classes_used=$(get "$lab" classes_used) record_only_micro_f1=$record retrieval_micro_f1=$(get "$base" retrieval_micro_f1) truth_report_micro_f1=$truth leak_gap=$(awk -v a="$truth" -v b="$record" 'BEGIN { printf "%.3f", a - b }')"
