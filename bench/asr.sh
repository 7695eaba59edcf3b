#!/usr/bin/env bash
# Dictation word error rate, PocketSphinx generic model vs the domain model built by
# `medscribe asr build-lm` from the report text and historical dictation transcripts of a separate
# training cohort (never from truth/).
# Usage: scripts/bench.sh asr [N]   (N dictations scored, default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin
n="${1:-100}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin/medscribe" --log-level warn synth --out "$tmp/train" --encounters 1000 --seed 8 --image-size 64 --no-speech > /dev/null
"$bin/medscribe" --log-level warn synth --out "$tmp/test" --encounters "$n" --seed 7 --image-size 64 > /dev/null
"$bin/medscribe" asr build-lm --fhir "$tmp/train/fhir" --corpus "$tmp/train/transcripts/dictations.txt" \
  --out "$tmp/domain.arpa"
"$bin/asr_wer" "$tmp/test" "$tmp/domain.arpa" "$n"
