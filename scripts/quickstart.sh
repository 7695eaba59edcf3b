#!/usr/bin/env bash
# The main job on embedded defaults: install what is missing, build, synthesize a small cohort and
# print its summary. Output goes to ./out/quickstart (replaced on each run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh release
out="${MEDSCRIBE_QUICKSTART_OUT:-out/quickstart}"
export MEDSCRIBE_HOME="${MEDSCRIBE_HOME:-$PWD/out/home}"
build/release/bin/medscribe synth --out "$out/cohort" --encounters 50 --seed 7 --force
echo
echo "Cohort: $out/cohort (DICOM in dicom/, FHIR in fhir/, dictation in audio/, truth in truth/)"
