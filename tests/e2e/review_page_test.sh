#!/usr/bin/env bash
# End to end in headless Chromium: `medscribe up --cohort` (gateway, local replica of a tiny
# model trained here, cohort directory as FHIR/PACS source and sink), then review_page.mjs opens
# the worklist, requests a draft, watches it stream, sees a hint, edits, signs. Screenshots go
# to SCREENSHOT_DIR (a test artifact).
# Usage: review_page_test.sh MEDSCRIBE_BINARY SCREENSHOT_DIR
bin="$1"
shots="$2"
source "$(dirname "$0")/../integration/lib.sh"
here="$(cd "$(dirname "$0")" && pwd)"
home="$work/home"
ms() { "$bin" --home "$home" --log-level warn "$@"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
command -v chromium > /dev/null || { fail "chromium is not installed (scripts/bootstrap.sh)"; finish; exit 1; }
[ -d "$here/../tools/node_modules/playwright-core" ] || { fail "playwright-core missing (scripts/bootstrap.sh)"; finish; exit 1; }

ms synth --out "$work/c" --encounters 12 --seed 4 --no-speech --image-size 64 > /dev/null || { fail "synth"; finish; exit 1; }
ms ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d" --image-size 64 --no-warehouse > /dev/null
ms tokenizer train --dataset "$work/d" --vocab 400 --out "$work/tok" > /dev/null 2>&1 || { fail "tokenizer"; finish; exit 1; }
ms train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --config tiny --max-steps 30 --batch-size 4 --lr 3e-3 --warmup 10 \
  --checkpoint-every 30 --eval-every 1000 --out "$work/run" > /dev/null 2>&1 || { fail "train"; finish; exit 1; }
ms registry register --run "$work/run" --name chest > /dev/null || { fail "register"; finish; exit 1; }
"$bin" --home "$home" up --cohort "$work/c" --port 0 --port-file "$work/port" --no-asr > "$work/up.log" 2>&1 &
up=$!
pids+=($up)
for _ in $(seq 600); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { fail "medscribe up: $(cat "$work/up.log")"; finish; exit 1; }
url="https://127.0.0.1:$(cat "$work/port")"
# An encounter with an abnormal lab (the page must highlight it), and its department.
enc=$(grep '"code":"H"' "$work/c/fhir/Observation.ndjson" | head -1 | sed -n 's/.*"encounter":{"reference":"Encounter\/\([^"]*\)".*/\1/p')
dept=$(grep "\"id\":\"$enc\"" "$work/c/fhir/Encounter.ndjson" | sed -n 's/.*"serviceType":{"text":"\([^"]*\)".*/\1/p')
token=$(ms token issue --sub dr.lee --name "Lee^Anna" --role radiologist --department "$dept" --ttl 1h)
other=$(ms token issue --sub dr.kim --name "Kim^Jun" --role resident --department "$dept" --ttl 1h)
rm -rf "$shots"
if node "$here/review_page.mjs" "$url" "$token" "$shots" "$enc" "$other" > "$work/e2e.out" 2>&1; then
  cat "$work/e2e.out"
  pass "review page end to end (screenshots in $shots)"
else
  cat "$work/e2e.out"
  fail "review page end to end"
fi
ls "$work/c/writeback/fhir"/*.json > /dev/null 2>&1 && ls "$work"/c/writeback/dicom/*/*.dcm > /dev/null 2>&1 \
  && pass "the signed report is in the cohort's writeback/ (DiagnosticReport and SR)" || fail "no write-back files"
# Killed with -9, `up` leaves no replica behind.
kill -9 "$up"
for _ in $(seq 100); do pgrep -f -- "--home $home serve" > /dev/null || break; sleep 0.1; done
pgrep -f -- "--home $home serve" > /dev/null && fail "a replica outlived medscribe up (kill -9)" \
  || pass "no replica outlives medscribe up killed with -9"
finish
