#!/usr/bin/env bash
# The main job on embedded defaults: install what is missing, build, synthesize a small hospital
# export (50 encounters), build a dictation language model from its past transcripts, ingest
# everything into a de-identified, versioned dataset and verify it, then train the `tiny` report
# model on it for a few minutes, register the signed artifact and evaluate it.
# Output goes to ./out/quickstart (replaced on each run); state (key, warehouse) to ./out/home.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh release
out="${MEDSCRIBE_QUICKSTART_OUT:-out/quickstart}"
export MEDSCRIBE_HOME="${MEDSCRIBE_HOME:-$PWD/out/home}"
ms=build/release/bin/medscribe
$ms synth --out "$out/cohort" --encounters 50 --seed 7 --force
echo
$ms --log-level warn asr build-lm --corpus "$out/cohort/transcripts/dictations.txt" --out "$out/dictation.arpa"
echo "Language model: $out/dictation.arpa (from the site's past dictation transcripts)"
echo
rc=0
$ms ingest --dicom "$out/cohort/dicom" --fhir "$out/cohort/fhir" --audio "$out/cohort/audio" \
  --lm "$out/dictation.arpa" --out "$out/dataset" --force || rc=$?
# 3: the dataset was written and some inputs (here the images with burned-in text) were quarantined.
[ $rc -eq 0 ] || [ $rc -eq 3 ] || exit $rc
echo
$ms dataset verify "$out/dataset"
echo
rm -rf "$out/run"
$ms tokenizer train --dataset "$out/dataset" --vocab 2000 --out "$out/tokenizer"
$ms train --dataset "$out/dataset" --tokenizer "$out/tokenizer" --config tiny --out "$out/run" \
  --max-steps 150 --batch-size 4 --checkpoint-every 50 --eval-every 50
$ms registry register --run "$out/run" --name quickstart-tiny
$ms eval --model quickstart-tiny --dataset "$out/dataset" --split test --max-new-tokens 160
echo
echo "Cohort:  $out/cohort (DICOM in dicom/, FHIR in fhir/, dictation in audio/, truth in truth/)"
echo "Dataset: $out/dataset (shards, manifest.json, quarantine.jsonl; docs/formats/dataset.md)"
echo "Model:   $out/run (metrics.jsonl, TensorBoard events, checkpoints, model/); registry: medscribe registry list"
echo "Summary: build/release/bin/medscribe dataset show $out/dataset"
