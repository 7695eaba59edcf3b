#!/usr/bin/env bash
# Two "hosts" in two network namespaces joined by a veth pair, one training rank each: they
# rendezvous over their own addresses (not loopback) and train; then the link is cut mid-run and
# both ranks must fail with a timeout message within --timeout, not hang.
# Needs root and `ip netns`; exits 77 (skipped) without them.
# Usage: netns_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v ip > /dev/null || ! ip netns add "ms-probe-$$" 2> /dev/null; then
  echo "skipped: needs root and ip netns"
  exit 77
fi
ip netns del "ms-probe-$$"
a="ms-a-$$" b="ms-b-$$" va="msva$$" vb="msvb$$"
cleanup() { ip netns del "$a" 2> /dev/null; ip netns del "$b" 2> /dev/null; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$a" && ip netns add "$b" \
  && ip link add "$va" type veth peer name "$vb" \
  && ip link set "$va" netns "$a" && ip link set "$vb" netns "$b" \
  && ip -n "$a" addr add 10.213.0.1/24 dev "$va" && ip -n "$b" addr add 10.213.0.2/24 dev "$vb" \
  && ip -n "$a" link set "$va" up && ip -n "$b" link set "$vb" up \
  && ip -n "$a" link set lo up && ip -n "$b" link set lo up \
  || { fail "cannot build the two namespaces"; finish; exit 1; }

ms() { "$bin" --home "$work/home" "$@"; }
ms --log-level warn synth --out "$work/c" --encounters 30 --seed 6 --no-speech --image-size 128 > /dev/null
ms --log-level warn ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d" --image-size 128 --no-warehouse > /dev/null
ms tokenizer train --dataset "$work/d" --vocab 600 --out "$work/tok" > /dev/null
rank() { # NAMESPACE IFNAME RANK RUN STEPS
  ip netns exec "$1" env MASTER_ADDR=10.213.0.1 MASTER_PORT=29511 WORLD_SIZE=2 RANK="$3" GLOO_SOCKET_IFNAME="$2" \
    "$bin" --home "$work/home" train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --jobs 1 --batch-size 2 \
    --max-steps "$5" --checkpoint-every 1000 --eval-every 1000 --timeout 20 --out "$work/$4"
}

# 1. Rendezvous across the two hosts and train.
rank "$b" "$vb" 1 run 20 > /dev/null 2> "$work/r1.err" &
rank "$a" "$va" 0 run 20 > /dev/null 2> "$work/r0.err"; rc0=$?
wait $!; rc1=$?
[ $rc0 -eq 0 ] && [ $rc1 -eq 0 ] && grep -q '"world_size": 2' "$work/run/run.json" \
  && pass "two hosts rendezvoused at 10.213.0.1 and trained 20 steps: $(grep -o 'step 20/20  loss [0-9.]*' "$work/r0.err")" \
  || fail "training across namespaces: exits $rc0/$rc1: $(tail -1 "$work/r0.err") / $(tail -1 "$work/r1.err")"

# 2. Cut the link mid-run: both ranks stop with a timeout, well within --timeout plus slack.
rank "$b" "$vb" 1 cut 100000 > /dev/null 2> "$work/c1.err" &
p1=$!
rank "$a" "$va" 0 cut 100000 > /dev/null 2> "$work/c0.err" &
p0=$!
for _ in $(seq 600); do grep -q '"step":10,' "$work/cut/metrics.jsonl" 2> /dev/null && break; sleep 0.1; done
ip -n "$a" link set "$va" down
start=$(date +%s)
for _ in $(seq 1200); do kill -0 $p0 2> /dev/null || kill -0 $p1 2> /dev/null || break; sleep 0.1; done
elapsed=$(( $(date +%s) - start ))
if kill -0 $p0 2> /dev/null || kill -0 $p1 2> /dev/null; then
  fail "a rank still runs ${elapsed} s after the link was cut (hang)"
  kill -9 $p0 $p1 2> /dev/null
else
  wait $p0; rc0=$?
  wait $p1; rc1=$?
  [ $rc0 -ne 0 ] && [ $rc1 -ne 0 ] && [ $elapsed -le 90 ] && grep -q "collective with the other ranks failed" "$work/c0.err" \
    && pass "link cut: both ranks stopped after ${elapsed} s (--timeout 20): $(grep -o 'error: .*' "$work/c0.err" | cut -c1-220)" \
    || fail "link cut: exits $rc0/$rc1 after ${elapsed} s: $(tail -1 "$work/c0.err") / $(tail -1 "$work/c1.err")"
fi
finish
