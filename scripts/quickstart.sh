#!/usr/bin/env bash
# The main job on embedded defaults: install what is missing, build, synthesize a small hospital
# export (1,500 encounters, the first 100 dictated), build a dictation language model from its
# past transcripts, ingest everything into a de-identified, versioned dataset at 128 px and
# verify it, train the `quick` report model on it (about seven and a half minutes on two
# cores), register the signed artifact and evaluate it on its test split; then bring the
# system up (gateway + a local model replica, the cohort as FHIR and PACS source and sink), issue
# a radiologist's token, draft a report for one encounter (progress, text, hints), sign it, show
# where it was written back, and print the review page's URL.
# Output goes to ./out/quickstart (replaced on each run); state (keys, warehouse, registry, drafts
# store, audit log) to ./out/home. The system stays up at the end (its PID is printed);
# MEDSCRIBE_QUICKSTART_STOP=1 stops it instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh release
out="${MEDSCRIBE_QUICKSTART_OUT:-out/quickstart}"
export MEDSCRIBE_HOME="${MEDSCRIBE_HOME:-$PWD/out/home}"
ms=build/release/bin/medscribe
$ms synth --out "$out/cohort" --encounters 1500 --speech-encounters 100 --seed 7 --force
echo
$ms --log-level warn asr build-lm --corpus "$out/cohort/transcripts/dictations.txt" --out "$out/dictation.arpa"
echo "Language model: $out/dictation.arpa (from the site's past dictation transcripts)"
echo
rc=0
# The `quick` model reads 128 px images at 3.3594 mm per pixel (the widest detector, 430 mm,
# across 128 px), so that a lesion's size in pixels means the same on every detector.
$ms ingest --dicom "$out/cohort/dicom" --fhir "$out/cohort/fhir" --audio "$out/cohort/audio" \
  --lm "$out/dictation.arpa" --out "$out/dataset" --image-size 128 --image-spacing 3.3594 \
  --force || rc=$?
# 3: the dataset was written and some inputs (here the images with burned-in text) were quarantined.
[ $rc -eq 0 ] || [ $rc -eq 3 ] || exit $rc
echo
$ms dataset verify "$out/dataset"
echo
rm -rf "$out/run"
$ms tokenizer train --dataset "$out/dataset" --vocab 2000 --out "$out/tokenizer"
# The image path warms up first (40 epochs over the training images), then the decoder learns to
# write reports from the reading (260 steps of 8); docs/model.md has the recipe and its figures.
$ms train --dataset "$out/dataset" --tokenizer "$out/tokenizer" --config quick --out "$out/run" \
  --image-warmup-epochs 40 --max-steps 260 --batch-size 8 --lr 2e-3 --warmup 40 \
  --checkpoint-every 260 --eval-every 260
$ms registry register --run "$out/run" --name quickstart
$ms eval --model quickstart --dataset "$out/dataset" --split test --truth "$out/cohort/truth/labels.jsonl" \
  --bootstrap 200
echo

# The clinical workflow on the embedded defaults.
[ -f "$out/up.pid" ] && kill "$(cat "$out/up.pid")" 2>/dev/null && sleep 1
rm -f "$out/up.port" "$out/up.pid"
$ms up --model quickstart --cohort "$out/cohort" --asr-lm "$out/dictation.arpa" --port 0 \
  --port-file "$out/up.port" > "$out/up.log" 2>&1 &
echo $! > "$out/up.pid"
for _ in $(seq 600); do [ -s "$out/up.port" ] && break; sleep 0.1; done
[ -s "$out/up.port" ] || { echo "medscribe up failed:"; cat "$out/up.log"; exit 1; }
url="https://127.0.0.1:$(cat "$out/up.port")"
ca="$MEDSCRIBE_HOME/tls/ca.pem"
encounter=enc-000001
department=$(grep "\"id\":\"$encounter\"" "$out/cohort/fhir/Encounter.ndjson" | sed -n 's/.*"serviceType":{"text":"\([^"]*\)".*/\1/p')
token=$($ms token issue --sub dr.chen --name "Chen^Mei" --role radiologist --department "$department" --ttl 8h)
echo "System up at $url (gateway + 1 local replica of quickstart); token for dr.chen, radiologist, $department"
echo "Drafting a report for $encounter (its record, image and dictation from the cohort):"
curl -sS --cacert "$ca" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d "{\"encounter_id\":\"$encounter\",\"stream\":true}" "$url/v1/drafts" > "$out/draft.ndjson"
node scripts/show_draft.mjs "$out/draft.ndjson" > "$out/draft.txt" || { cat "$out/draft.ndjson"; exit 1; }
cat "$out/draft.txt"
draft=$(sed -n 's/^draft id: //p' "$out/draft.txt")
echo
echo "Signing $draft as dr.chen:"
curl -sS --cacert "$ca" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{}' "$url/v1/drafts/$draft:sign" > "$out/signed.json"
node scripts/show_draft.mjs --signed "$out/signed.json" || { cat "$out/signed.json"; exit 1; }
echo
echo "Cohort:  $out/cohort (DICOM in dicom/, FHIR in fhir/, dictation in audio/, truth in truth/)"
echo "Dataset: $out/dataset (shards, manifest.json, quarantine.jsonl; docs/formats/dataset.md)"
echo "Model:   $out/run (metrics.jsonl, TensorBoard events, checkpoints, model/); registry: medscribe registry list"
echo "Summary: build/release/bin/medscribe dataset show $out/dataset"
echo "Audit:   $MEDSCRIBE_HOME/audit/gateway.log (build/release/bin/medscribe --home $MEDSCRIBE_HOME audit verify)"
echo
echo "Review page: $url/app/#token=$token"
echo "  (trust $ca in the browser, or accept its warning; the token stays in the page's session)"
if [ "${MEDSCRIBE_QUICKSTART_STOP:-0}" = 1 ]; then
  kill "$(cat "$out/up.pid")" && wait "$(cat "$out/up.pid")" 2>/dev/null
  rm -f "$out/up.pid"
  echo "System stopped."
else
  echo "The system keeps running (PID $(cat "$out/up.pid")); stop it with: kill $(cat "$out/up.pid")"
fi
