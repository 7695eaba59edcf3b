#!/usr/bin/env bash
# Continuous training as recorded steps (`medscribe pipeline run`), on a small cohort with `tiny`:
#   - a production model; a pipeline that fine-tunes it (first --step train alone, then the rest),
#     passes the evaluation gate and registers the candidate as staging with the pipeline in its
#     lineage;
#   - the rerun skips every finished step (its outputs verified); a changed input reruns its step;
#   - a deliberately worse candidate (from scratch, a useless learning rate) is rejected by the
#     gate (exit 5) and nothing is registered;
#   - the canary in a running gateway (local replicas, load sent through it): rolled back when its
#     signals are out of bounds, promoted when they hold (the production alias moves, the
#     production deployment restarts on the candidate), its share of the traffic as weighted;
#   - bad pipeline files (a canary without its url, a negative weight) and a missing production
#     model refused with the key named.
# Usage: pipeline_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }
source "$(dirname "$0")/train_lib.sh"
cd "$work" || exit 1

small_cohort 40 64 0.7,0.15,0.15 500 || { fail "cohort and tokenizer"; finish; exit 1; }
common='--no-dictation --image-warmup-epochs 0 --batch-size 4 --jobs 1'
ms --log-level warn train --dataset d --tokenizer tok --config tiny $common --lr 3e-3 --max-steps 40 --eval-every 40 \
  --out prod > /dev/null 2>&1 && ms registry register --run prod --name chest > /dev/null \
  && ms registry alias chest@1 production > /dev/null || { fail "production model"; finish; exit 1; }

pipeline() {  # FILE FROM ARGS
  cat > "$1" <<YAML
pipeline: weekly
model: chest
dataset: d
train:
  from: $2
  args: [$3]
gate: {dataset: d, split: test, margin: 0.05, limit: 6}
YAML
}
pipeline good.yaml production '--no-dictation, --image-warmup-epochs, "0", --batch-size, "4", --jobs, "1", --lr, "1e-3", --max-steps, "10", --eval-every, "10"'
out=$(ms pipeline run good.yaml --out w1 --step train 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | has "train: running" && ! echo "$out" | has "gate" && [ ! -e w1/steps/gate.json ] \
  && pass "--step train ran the training alone" || fail "--step train (exit $rc): $out"
out=$(ms pipeline run good.yaml --out w1 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | has "train: skipped" && echo "$out" | has "gate: .*: pass" && echo "$out" | has "registered chest@2 as chest@staging" \
  && pass "fine-tuned candidate: $(echo "$out" | grep '^gate: cand')" || fail "good pipeline (exit $rc): $out"
ms registry show chest@staging > show.json 2>&1 && has '"pipeline"' show.json && has '"from": "chest@1"' show.json \
  && has '"decision": "pass"' show.json && pass "chest@staging is version 2, its lineage names the pipeline and its gate" \
  || fail "staging lineage: $(head -c 600 show.json)"
[ "$(wc -l < w1/records.jsonl)" -eq 3 ] && has '"inputs_digest"' w1/steps/train.json && has '"commands"' w1/steps/gate.json \
  && pass "records: $(ls w1/steps | tr '\n' ' ')" || fail "records: $(cat w1/records.jsonl | head -c 600)"

# The rerun skips what is done; a changed input (the gate's margin) reruns that step, and the
# registration only if the gate's result changed.
out=$(ms pipeline run good.yaml --out w1 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$(echo "$out" | grep -c 'skipped (done at')" -eq 3 ] && ! echo "$out" | has ': running' \
  && pass "rerun: every step skipped, outputs verified" || fail "rerun (exit $rc): $out"
sed -i 's/margin: 0.05/margin: 0.04/' good.yaml
out=$(ms pipeline run good.yaml --out w1 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | has "train: skipped" && echo "$out" | has "gate: running" && echo "$out" | has "register: skipped" \
  && pass "a changed gate margin reruns the gate only (same result: the registration stands)" || fail "changed input (exit $rc): $out"

# Another training input (more steps) trains again from the production weights, not from the
# previous run.
before=$(sed -nE 's/.*"weights_sha256": "([0-9a-f]+)".*/\1/p' w1/steps/train.json)
sed -i 's/--max-steps, "10"/--max-steps, "12"/' good.yaml
out=$(ms pipeline run good.yaml --out w1 2>&1); rc=$?
after=$(sed -nE 's/.*"weights_sha256": "([0-9a-f]+)".*/\1/p' w1/steps/train.json)
[ $rc -eq 0 ] && echo "$out" | has "train: running" && [ -n "$after" ] && [ "$after" != "$before" ] \
  && ! grep -q "resuming at step" w1/logs/train.log \
  && pass "more training steps: trained again from production (a fresh run, new weights)" \
  || fail "changed training input (exit $rc): $out $(grep resuming w1/logs/train.log)"

# The canary: a gateway serving chest@production and, at weight 0, chest@staging (local replicas);
# load sent through it while the canary step raises the canary's weight, judges its live signals,
# then rolls back (an impossible latency bound) or promotes (the production alias moves and the
# production deployment restarts on the candidate).
candidate=$(sed -nE 's/.*"model": "(chest@[0-9]+)".*/\1/p' w1/steps/register.json | head -1)
cat > gateway.yaml <<YAML
# the gateway the canary step reconfigures
listen: 127.0.0.1:0
tls: {mode: "off"}
health: {interval_ms: 300}
limits: {rate_per_principal: {rps: 100000, burst: 100000}, rate_per_address: {rps: 100000, burst: 100000}}
endpoints:
  - name: reports
    paths: [/v1/chat/completions, /v1/models]
    deployments:
      - {name: production, weight: 100, replicas: {local: {model: chest@production, args: [--threads, "1"]}}}
      - name: canary
        weight: 0    # raised by the pipeline while it watches
        replicas: {local: {model: chest@staging, args: [--threads, "1"]}}
YAML
"$bin" --home "$home" gateway --config gateway.yaml --port-file gw.port --pid-file gw.pid --watch-config > gw.out 2> gw.log &
gw=$!
for _ in $(seq 600); do [ -s gw.port ] && break; sleep 0.1; done
gw_url="http://127.0.0.1:$(cat gw.port 2>/dev/null)"
token=$(ms token issue --sub load --role service --ttl 1h)
admin=$(ms token issue --sub ops --role admin --ttl 1h)
touch load.on
( while [ -e load.on ]; do
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" -H 'content-type: application/json' \
      -d '{"messages":[{"role":"user","content":"chest x-ray"}],"max_tokens":4}' "$gw_url/v1/chat/completions"
  done > load.codes ) &
load=$!
canary() {  # MAX_LATENCY_RATIO [pid_file: FILE, ]
  sed -i '/^canary:/d' good.yaml
  echo "canary: {gateway: gateway.yaml, ${2:-}url: \"$gw_url\", weight: 100, watch: 6, poll: 2, max_watch: 90, min_requests: 6, max_latency_ratio: $1, min_signed: 0}" >> good.yaml
}
# The roll-back signals the gateway (SIGHUP to its --pid-file); the promotion only writes the
# file, which the gateway watches (--watch-config).
canary 0.001 "pid_file: gw.pid, "
out=$(ms pipeline run good.yaml --out w1 2>&1); rc=$?
[ $rc -eq 5 ] && echo "$out" | has "canary: rolled back" && has '"decision": "roll back"' w1/steps/canary.json \
  && ms registry show chest@production 2>&1 | has '"version": 1\b' && has 'weight: 0    # raised' gateway.yaml \
  && pass "canary rolled back (exit 5), production still chest@1, weight restored: $(echo "$out" | grep 'rolled back')" \
  || fail "canary roll-back (exit $rc): $out $(tail -5 gw.log)"
canary 5
out=$(ms pipeline run good.yaml --out w1 2>&1); rc=$?
share=$(sed -nE 's/.*"canary_share": ([0-9.]+).*/\1/p' w1/steps/canary.json)
[ $rc -eq 0 ] && echo "$out" | has "canary: promoted $candidate to chest@production" \
  && ms registry show chest@production 2>&1 | has "\"version\": ${candidate#chest@}\\b" \
  && awk -v s="$share" 'BEGIN { exit !(s >= 0.4 && s <= 0.6) }' \
  && has '"baseline_serves_candidate": true' w1/steps/canary.json \
  && has "gateway.yaml changed: reloading" gw.log \
  && pass "canary promoted $candidate (the gateway reloading the file it watches); it had $share of the traffic at weight 100 of 200; production restarted on it" \
  || fail "canary promotion (exit $rc, share $share): $out $(cat w1/steps/canary.json | head -c 800) $(tail -5 gw.log)"
metrics=$(curl -s -H "Authorization: Bearer $admin" "$gw_url/metrics")
code=$(curl -s -o answer.json -w '%{http_code}' -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"messages":[{"role":"user","content":"chest x-ray"}],"max_tokens":4}' "$gw_url/v1/chat/completions")
echo "$metrics" | has "replica_up{endpoint=\"reports\",deployment=\"production\",model=\"$candidate\"" \
  && echo "$metrics" | has 'deployment_weight{endpoint="reports",deployment="canary"} 0' && [ "$code" = 200 ] \
  && pass "the gateway serves $candidate as production, the canary back at weight 0, requests still answered" \
  || fail "after promotion: HTTP $code $(head -c 300 answer.json) $(echo "$metrics" | grep -E 'replica_up|deployment_weight')"
out=$(ms pipeline run good.yaml --out w1 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | has "canary: skipped" && pass "rerun: the canary step skipped (still production)" \
  || fail "canary rerun (exit $rc): $out"
echo "--- pipeline show w1"; ms pipeline show w1 | cut -c1-240
rm -f load.on; wait $load 2>/dev/null
[ "$(grep -c . load.codes)" -gt 100 ] && [ "$(grep -vc '^200$' load.codes)" -eq 0 ] \
  && pass "$(grep -c . load.codes) requests through both reloads and the production restart, every one answered 200" \
  || fail "load: $(sort load.codes | uniq -c | tr '\n' ' ')"
kill $gw; wait $gw 2>/dev/null

# A worse candidate is refused.
pipeline bad.yaml scratch '--config, tiny, --tokenizer, tok, --no-dictation, --image-warmup-epochs, "0", --batch-size, "4", --jobs, "1", --lr, "1e-6", --max-steps, "5", --eval-every, "5"'
versions=$(ms registry list | wc -l)
out=$(ms pipeline run bad.yaml --out w2 2>&1); rc=$?
[ $rc -eq 5 ] && echo "$out" | has "gate: .*: reject" && [ "$(ms registry list | wc -l)" -eq "$versions" ] \
  && has '"decision": "reject"' w2/steps/gate.json \
  && pass "a worse candidate is rejected (exit 5), nothing registered: $(echo "$out" | grep '^gate: cand')" \
  || fail "bad candidate (exit $rc): $out"

# Bad input.
printf 'pipeline: p\nmodel: chest\ndataset: d\n' > nogate.yaml
out=$(ms pipeline run nogate.yaml --out w3 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "gate: required" && pass "refused: $out" || fail "no gate (exit $rc): $out"
printf 'pipeline: p\nmodel: chest\ndataset: d\ngate: {dataset: d, treshold: 1}\n' > typo.yaml
out=$(ms pipeline run typo.yaml --out w3 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "gate.treshold: unknown key" && pass "refused: $out" || fail "typo (exit $rc): $out"
printf 'pipeline: p\nmodel: other\ndataset: d\ngate: {dataset: d}\n' > noprod.yaml
out=$(ms pipeline run noprod.yaml --out w3 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "no other@production to fine-tune" && pass "refused: $(echo "$out" | cut -c1-160)" \
  || fail "no production (exit $rc): $out"
printf 'pipeline: p\nmodel: chest\ndataset: d\ngate: {dataset: d}\ncanary: {gateway: gateway.yaml, weight: 10}\n' > nourl.yaml
out=$(ms pipeline run nourl.yaml --out w5 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "canary.url: required" && [ ! -e w5/steps ] && pass "refused before any step: $out" || fail "canary without url (exit $rc): $out"
printf 'pipeline: p\nmodel: chest\ndataset: d\ngate: {dataset: d}\ncanary: {gateway: gateway.yaml, url: "http://127.0.0.1:1", weight: -5}\n' > badweight.yaml
out=$(ms pipeline run badweight.yaml --out w5 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "canary.weight: at least 0" && pass "refused: $out" || fail "negative canary weight (exit $rc): $out"
printf 'pipeline: p\nmodel: chest\ndataset: missing\ngate: {dataset: d}\n' > nodata.yaml
out=$(ms pipeline run nodata.yaml --out w4 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "is not a dataset" && pass "refused: $(echo "$out" | cut -c1-160)" || fail "missing dataset (exit $rc): $out"
finish
