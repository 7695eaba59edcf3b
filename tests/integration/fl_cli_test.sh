#!/usr/bin/env bash
# Federated learning across three hospitals on loopback, as users run it (`medscribe fl pki`,
# `fl server`, three `fl client`s), with the `tiny` preset:
#   - the sites' cohorts differ by department mix (non-IID): ED and ICU; cardiology and
#     pulmonology; oncology and outpatients;
#   - site c is killed (kill -9) while it trains in round 2: 30 s after the first update the
#     round goes on without it (the survivors reveal their seeds with c, the server removes c's
#     masks) and round 3 runs with the two others, so the federation finishes;
#   - the federated model has a lower token loss on the union of the three test splits than each
#     site's model trained alone for as many steps;
#   - the global model registers with a lineage naming each site's dataset id;
#   - mutual TLS: a client without a certificate of the federation's CA cannot connect, and a
#     site with such a certificate that the server does not list is refused.
# Usage: fl_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

# Three sites, and a separate cohort standing for text that may be shared, for the tokenizer.
declare -A mix=([a]=ED,ICU [b]=CARDIOLOGY,PULMONOLOGY [c]=ONCOLOGY,OUTPATIENT)
seed=21
for s in a b c; do
  ms --log-level warn synth --out "$work/c-$s" --encounters 60 --seed $seed --no-speech --image-size 128 \
    --departments "${mix[$s]}" > /dev/null || fail "synth $s"
  ms --log-level warn ingest --dicom "$work/c-$s/dicom" --fhir "$work/c-$s/fhir" --out "$work/d-$s" --image-size 128 \
    --split 0.7,0.15,0.15 --no-warehouse > /dev/null
  [ -f "$work/d-$s/manifest.json" ] || fail "ingest $s"
  seed=$((seed + 1))
done
ms --log-level warn synth --out "$work/c-public" --encounters 40 --seed 20 --no-speech --image-size 64 > /dev/null
ms --log-level warn ingest --dicom "$work/c-public/dicom" --fhir "$work/c-public/fhir" --out "$work/d-public" \
  --image-size 64 --no-warehouse > /dev/null
ms tokenizer train --dataset "$work/d-public" --vocab 600 --out "$work/tok" > /dev/null 2>&1 || fail "tokenizer"
ms fl pki --out "$work/pki" --sites a,b,c,d > /dev/null || { fail "fl pki"; finish; exit 1; }

rounds=3 steps=10
common=(--tokenizer "$work/tok" --batch-size 4 --lr 2e-3 --warmup 2 --jobs 1 --no-dictation)
# Each site alone, as many steps as the federation trains.
for s in a b c; do
  ms train --dataset "$work/d-$s" --config tiny --out "$work/local-$s" --max-steps $((rounds * steps)) \
    --checkpoint-every 1000 --eval-every 1000 "${common[@]}" > /dev/null 2> "$work/local-$s.err" \
    || fail "local training of $s: $(tail -2 "$work/local-$s.err")"
done

# The federation.
"$bin" --home "$home" fl server --sites a,b,c --pki "$work/pki" --tokenizer "$work/tok" --out "$work/fed" --rounds $rounds \
  --round-timeout 30 --port-file "$work/port" > "$work/server.out" 2> "$work/server.err" &
server=$!
pids+=($server)
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
url="https://127.0.0.1:$(cat "$work/port")"
declare -A client
for s in a b c; do
  "$bin" --home "$home" fl client --server "$url" --site $s --pki "$work/pki" --dataset "$work/d-$s" \
    --work "$work/w-$s" --local-steps $steps "${common[@]}" > "$work/$s.out" 2> "$work/$s.err" &
  client[$s]=$!
  pids+=(${client[$s]})
done
for _ in $(seq 1200); do has "round 2: training locally" "$work/c.err" && break; sleep 0.1; done
kill -9 "${client[c]}" && pass "site c killed while training in round 2"

# mTLS while the server runs.
curl -s -o /dev/null --cacert "$work/pki/ca.pem" "$url/fl/state"; rc=$?
[ $rc -ne 0 ] && pass "a client without a certificate cannot connect (curl exit $rc)" || fail "no client certificate: accepted"
out=$(ms fl client --server "$url" --site d --pki "$work/pki" --dataset "$work/d-a" --work "$work/w-d" \
  --local-steps 1 "${common[@]}" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "not a member of this federation" \
  && pass "site d (a certificate of the CA, not listed) is refused: $(echo "$out" | tail -1)" \
  || fail "unlisted site (exit $rc): $out"

# Bounded, so that a federation that never ends fails with its log instead of the test's timeout.
for _ in $(seq 1500); do kill -0 "$server" 2> /dev/null || break; sleep 0.2; done
if kill -0 "$server" 2> /dev/null; then
  fail "the federation did not finish in 5 minutes: $(tail -6 "$work/server.err")"
  finish
  exit 1
fi
wait "$server"; rc=$?
for s in a b; do wait "${client[$s]}" || fail "client $s: $(tail -3 "$work/$s.err")"; done
[ $rc -eq 0 ] && pass "the federation finished its $rounds rounds" || { fail "server exit $rc: $(tail -5 "$work/server.err")"; finish; exit 1; }
has "round 2: c sent no update; asking the others to unmask" "$work/server.err" \
  && pass "round 2 went on without c: $(grep '^round 2: aggregated' "$work/server.err")" \
  || fail "round 2: $(grep '^round 2' "$work/server.err")"
has "round 3: 2 sites train (a,b)" "$work/server.err" && pass "round 3 ran with a and b" \
  || fail "round 3: $(grep '^round 3' "$work/server.err")"
cat "$work/server.out"

# The federated model against each site's own, on the union of the test splits.
union=(--dataset "$work/d-a" --dataset "$work/d-b" --dataset "$work/d-c" --split test --no-dictation)
loss_of() { ms fl loss --model "$1" "${union[@]}" | sed -nE 's/^loss=([0-9.]+) .*/\1/p'; }
fed=$(loss_of "$work/fed/model")
for s in a b c; do
  cp "$work/tok/tokenizer.model" "$work/local-$s/model/" 2> /dev/null
  l=$(loss_of "$work/local-$s/model")
  awk -v f="$fed" -v l="$l" 'BEGIN { exit !(f > 0 && l > 0 && f < l) }' \
    && pass "union test loss: federated $fed < site $s alone $l" || fail "union test loss: federated $fed, site $s alone $l"
done

ms registry register --run "$work/fed" --name federated > /dev/null || fail "registry register"
shown=$(ms registry show federated)
for s in a b c; do
  id=$(ms dataset show "$work/d-$s" | sed -nE 's/^dataset ([0-9a-f]+)$/\1/p' | head -1)
  [ -n "$id" ] && echo "$shown" | tr -d ' \n' | has "{\"dataset_id\":\"$id\",\"site\":\"$s\"}" \
    && pass "the registered model's lineage names site $s and its dataset" || fail "lineage of $s ($id): $(echo "$shown" | grep -A12 '"sites"' | head -14)"
done
finish
