#!/usr/bin/env bash
# What federated learning costs and gives on this machine: three sites on loopback whose cohorts
# differ by department mix (ED and ICU; cardiology and pulmonology; oncology and outpatients;
# SITE_ENCOUNTERS each, 128 px, no speech) train `tiny` for ROUNDS rounds of LOCAL_STEPS local
# steps with secure aggregation over mutual TLS. Prints each round's bytes on the wire and
# seconds (the server's table), then the token loss on the union of the three test splits of the
# federated model beside the baseline: each site's model trained alone for the same number of
# steps. Ends with one line of headline figures.
# Usage: scripts/bench.sh federated [ROUNDS] [LOCAL_STEPS] [SITE_ENCOUNTERS]   (default 3, 10, 60;
# MEDSCRIBE_BIN=PATH runs another build of medscribe)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${MEDSCRIBE_BIN:-$PWD/build/release/bin/medscribe}"
rounds="${1:-3}"
steps="${2:-10}"
n="${3:-60}"
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
export MEDSCRIBE_HOME="$work/home"
ms() { "$bin" --log-level warn "$@"; }

declare -A mix=([a]=ED,ICU [b]=CARDIOLOGY,PULMONOLOGY [c]=ONCOLOGY,OUTPATIENT)
seed=21
for s in a b c; do
  ms synth --out "$work/c-$s" --encounters "$n" --seed $seed --no-speech --image-size 128 --departments "${mix[$s]}" > /dev/null
  rc=0
  ms ingest --dicom "$work/c-$s/dicom" --fhir "$work/c-$s/fhir" --out "$work/d-$s" --image-size 128 \
    --split 0.7,0.15,0.15 --no-warehouse > /dev/null || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || exit $rc
  seed=$((seed + 1))
done
# The tokenizer from a separate cohort: text that may be shared among the sites.
ms synth --out "$work/c-public" --encounters 40 --seed 20 --no-speech --image-size 64 > /dev/null
rc=0
ms ingest --dicom "$work/c-public/dicom" --fhir "$work/c-public/fhir" --out "$work/d-public" --image-size 64 \
  --no-warehouse > /dev/null || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || exit $rc
ms tokenizer train --dataset "$work/d-public" --vocab 600 --out "$work/tok" > /dev/null 2>&1
ms fl pki --out "$work/pki" --sites a,b,c > /dev/null
common=(--tokenizer "$work/tok" --batch-size 4 --lr 2e-3 --warmup 2 --jobs 1 --no-dictation)

echo "== federation: 3 sites, $rounds rounds of $steps local steps (batch 4)"
"$bin" --log-level warn fl server --sites a,b,c --pki "$work/pki" --tokenizer "$work/tok" --out "$work/fed" \
  --rounds "$rounds" --round-timeout 120 --port-file "$work/port" > "$work/server.out" 2> "$work/server.err" &
server=$!
for _ in $(seq 300); do [ -s "$work/port" ] && break; sleep 0.1; done
clients=()
for s in a b c; do
  "$bin" --log-level warn fl client --server "https://127.0.0.1:$(cat "$work/port")" --site $s --pki "$work/pki" \
    --dataset "$work/d-$s" --work "$work/w-$s" --local-steps "$steps" "${common[@]}" > /dev/null 2> "$work/$s.err" &
  clients+=($!)
done
for p in "${clients[@]}"; do wait "$p"; done
wait "$server"
server=""
cat "$work/server.out"

echo "== baseline: each site alone, $((rounds * steps)) steps"
for s in a b c; do
  ms train --dataset "$work/d-$s" --config tiny --out "$work/local-$s" --max-steps $((rounds * steps)) \
    --checkpoint-every 1000 --eval-every 1000 "${common[@]}" > /dev/null 2>&1
  cp "$work/tok/tokenizer.model" "$work/local-$s/model/"
done
union=(--dataset "$work/d-a" --dataset "$work/d-b" --dataset "$work/d-c" --split test --no-dictation)
loss_of() { ms fl loss --model "$1" "${union[@]}" | sed -nE 's/^loss=([0-9.]+) .*/\1/p'; }
fed=$(loss_of "$work/fed/model")
declare -A alone
for s in a b c; do alone[$s]=$(loss_of "$work/local-$s/model"); done
echo "token loss on the union of the three test splits: federated $fed; alone: a ${alone[a]}, b ${alone[b]}, c ${alone[c]}"
mib=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { i += $6; o += $7; r++ } END { printf "%.1f", (i + o) / r }' "$work/server.out")
echo "federated_loss=$fed site_a_loss=${alone[a]} site_b_loss=${alone[b]} site_c_loss=${alone[c]} mib_per_round=$mib rounds=$rounds"
