#!/usr/bin/env bash
# Gateway figures on this machine, each beside its baseline from the same run:
#   1. overhead: latency percentiles and requests/s with wrk on a cheap route (GET /v1/models)
#      and on report generation (POST /v1/reports:generate, 16 tokens), through the gateway
#      (TLS, JWT check, policy, rate limits, audit record flushed to disk) and directly to the
#      same model server (plain HTTP);
#   2. a 90/10 traffic split over 2,000 requests: the share each deployment got.
# A `tiny` model is trained here first (about a minute).
# Usage: scripts/bench.sh serve [SECONDS_PER_RUN]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin/medscribe
secs="${1:-10}"
py=/usr/bin/python3
command -v wrk > /dev/null || { echo "wrk is missing: scripts/bootstrap.sh installs it" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
home="$work/home"
ms() { "$bin" --home "$home" --log-level warn "$@"; }

echo "== setup: synthetic cohort, tiny model (40 steps)"
ms synth --out "$work/c" --encounters 30 --seed 5 --no-speech --image-size 64 > /dev/null
ms ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d" --image-size 64 --no-warehouse > /dev/null || true
ms tokenizer train --dataset "$work/d" --vocab 400 --out "$work/tok" > /dev/null 2>&1
ms train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --config tiny --max-steps 40 --batch-size 4 --lr 3e-3 --warmup 10 \
  --checkpoint-every 40 --eval-every 1000 --out "$work/run" > /dev/null 2>&1
ms registry register --run "$work/run" --name chest > /dev/null

wait_port() { for _ in $(seq 600); do [ -s "$1" ] && break; sleep 0.1; done; cat "$1"; }
for r in r1 r2; do
  "$bin" --home "$home" --log-level warn serve --model chest --listen 127.0.0.1:0 --port-file "$work/$r.port" \
    --threads 1 > "$work/$r.log" 2>&1 &
  pids+=($!)
done
p1=$(wait_port "$work/r1.port"); p2=$(wait_port "$work/r2.port")
cat > "$work/gateway.yaml" <<YAML
listen: 127.0.0.1:0
tls: {mode: local}
limits:
  rate_per_principal: {rps: 1000000, burst: 1000000}
  rate_per_address: {rps: 1000000, burst: 1000000}
  max_in_flight_per_principal: 1000
endpoints:
  - name: direct-comparison
    paths: [/v1/models, "/v1/reports:generate"]
    deployments:
      - {name: only, weight: 1, replicas: ["http://127.0.0.1:$p1"]}
  - name: split
    paths: [/v1/chat/completions]
    deployments:
      - {name: blue, weight: 90, replicas: ["http://127.0.0.1:$p1"]}
      - {name: green, weight: 10, replicas: ["http://127.0.0.1:$p2"]}
YAML
"$bin" --home "$home" --log-level warn gateway --config "$work/gateway.yaml" --port-file "$work/gw.port" > "$work/gw.log" 2>&1 &
pids+=($!)
gport=$(wait_port "$work/gw.port")
gw="https://127.0.0.1:$gport"
direct="http://127.0.0.1:$p1"
ca="$home/tls/ca.pem"
for _ in $(seq 50); do [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" "$gw/readyz")" = 200 ] && break; sleep 0.1; done

# The shortest sample of the dataset with an image, as the report request.
read -r shard key < <(for t in "$work/d"/*.tar; do tar -tvf "$t" | grep '\.json$' | awk -v t="$t" '{print $3, t, $NF}'; done \
  | sort -n | head -1 | cut -d' ' -f2-)
tar -xOf "$shard" "$key" > "$work/sample.json"
ms dicom decode "$(find "$work/c/dicom" -name '*.dcm' | head -1)" --out "$work/x.png" --size 64 > /dev/null
dept=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["meta"]["department"])' "$work/sample.json")
token=$(ms token issue --sub bench --role radiologist --department "$dept" --ttl 1h)
$py - "$work/sample.json" "$work/x.png" "$work/report.lua" "$token" <<'PY'
import base64, json, sys
body = json.dumps({"sample": json.load(open(sys.argv[1])), "max_tokens": 16,
                   "image": "data:image/png;base64," + base64.b64encode(open(sys.argv[2], "rb").read()).decode()})
open(sys.argv[3], "w").write(
    'wrk.method = "POST"\nwrk.body = ' + json.dumps(body) + '\n'
    'wrk.headers["Content-Type"] = "application/json"\n'
    'wrk.headers["Authorization"] = "Bearer ' + sys.argv[4] + '"\n')
PY

# wrk_run CONNECTIONS URL [wrk args]: prints "p50_ms p99_ms rps non2xx".
wrk_run() {
  local c=$1 u=$2; shift 2
  wrk -t1 -c"$c" -d"${secs}s" --latency "$@" "$u" > "$work/wrk.txt" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 } /Non-2xx/ { bad = $NF }
    END { printf "%.2f %.2f %.0f %d\n", p50, p99, rps, bad }' "$work/wrk.txt"
}
echo
echo "== overhead: wrk, ${secs}s per run, 1 wrk thread; gateway = TLS + JWT + policy + limits (+ audit on reports)"
printf '  %-28s %-8s %9s %9s %9s %7s\n' route path p50_ms p99_ms req/s non2xx
read -r dp50 dp99 drps dbad < <(wrk_run 8 "$direct/v1/models")
printf '  %-28s %-8s %9s %9s %9s %7s\n' "GET /v1/models (8 conn)" direct "$dp50" "$dp99" "$drps" "$dbad"
read -r gp50 gp99 grps gbad < <(wrk_run 8 "$gw/v1/models" -H "Authorization: Bearer $token")
printf '  %-28s %-8s %9s %9s %9s %7s\n' "" gateway "$gp50" "$gp99" "$grps" "$gbad"
read -r rdp50 rdp99 rdrps rdbad < <(wrk_run 2 "$direct/v1/reports:generate" -s "$work/report.lua")
printf '  %-28s %-8s %9s %9s %9s %7s\n' "POST reports:generate (2)" direct "$rdp50" "$rdp99" "$rdrps" "$rdbad"
read -r rgp50 rgp99 rgrps rgbad < <(wrk_run 2 "$gw/v1/reports:generate" -s "$work/report.lua")
printf '  %-28s %-8s %9s %9s %9s %7s\n' "" gateway "$rgp50" "$rgp99" "$rgrps" "$rgbad"
echo "  gateway/direct requests/s: cheap route $($py -c "print(round($grps/$drps, 2))"), reports $($py -c "print(round($rgrps/max($rdrps,1e-9), 2))")"
echo "  audit records written: $(wc -l < "$home/audit/gateway.log")"

echo
echo "== 90/10 split over 2,000 chat requests (smooth weighted round robin)"
$py tests/integration/gateway_client.py split "$gw" "$ca" "$token" 2000 /v1/chat/completions > "$work/split.txt"
split_err=$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(round(max(abs(d.get("blue",0)-90), abs(d.get("green",0)-10)), 2))' "$work/split.txt")
echo "  shares (%): $(cat "$work/split.txt"); largest error ${split_err} points (goal: within 3)"
echo
echo "gateway_p50_ms=$gp50 gateway_p99_ms=$gp99 direct_p99_ms=$dp99 rps_gateway=$grps rps_direct=$drps report_gateway_p50_ms=$rgp50 report_direct_p50_ms=$rdp50 split_error_pct=$split_err"
