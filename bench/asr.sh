#!/usr/bin/env bash
# Dictation word error rate in one run: PocketSphinx's generic models (the baseline), the domain
# language model built by `medscribe asr build-lm` from the report text and past dictation
# transcripts of a separate training cohort (never from truth/), and that language model with the
# acoustic model adapted by `medscribe asr adapt` to 200 recordings of a third, separate cohort
# (the site's voices). Overall and on the dictations recorded with background noise.
# Usage: scripts/bench.sh asr [N]   (N dictations scored, default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin
n="${1:-100}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin/medscribe" --log-level warn synth --out "$tmp/train" --encounters 1000 --seed 8 --image-size 64 --no-speech > /dev/null
"$bin/medscribe" --log-level warn synth --out "$tmp/test" --encounters "$n" --seed 7 --image-size 64 > /dev/null
"$bin/medscribe" --log-level warn synth --out "$tmp/adapt" --encounters 200 --seed 9 --image-size 64 > /dev/null
"$bin/medscribe" asr build-lm --fhir "$tmp/train/fhir" --corpus "$tmp/train/transcripts/dictations.txt" \
  --out "$tmp/domain.arpa"
"$bin/medscribe" asr adapt --cohort "$tmp/adapt" --lm "$tmp/domain.arpa" --out "$tmp/voices"
"$bin/asr_wer" "$tmp/test" "$tmp/domain.arpa" "$n" "$tmp/voices"
