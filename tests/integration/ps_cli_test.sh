#!/usr/bin/env bash
# Parameter-server training as users start it (`medscribe launch --nproc N ... train --strategy
# ps`), on a small synthetic cohort with the `tiny` preset on loopback:
#   - synchronous (--staleness 0) with 2 workers and 1 or 2 servers reaches the weights of a
#     2-rank all-reduce run after 20 steps. Tolerance: relative L2 difference <= 1e-6: the
#     servers sum the same gradients in the same order as the all-reduce; only the global norm of
#     the gradient clip is summed in another order over 2 servers (about 1e-7 relative). Each
#     server holds its parameters only and writes its own optimizer file;
#   - --staleness 2 with worker 1 stalled for 0.3 s once, 100 steps (learning rate 1e-3): the
#     final validation loss is within 5% of the synchronous run's (at most 5% above it), no
#     worker's weights miss more than 2 steps of the others, and worker 0 was held for slower
#     workers on fewer than a quarter as many steps as in the synchronous run (which waits for
#     the stall and for every step's jitter);
#   - kill -9 of the server: without a launcher every worker stops, naming the server; under
#     `medscribe launch --max-restarts` every rank restarts, the run resumes from the last
#     checkpoint and ends with the loss curve and weights of an uninterrupted run;
#   - a world without room for a worker, --strategy ps with --zero, and resuming a
#     parameter-server checkpoint with all-reduce are refused with what to do.
# Usage: ps_cli_test.sh MEDSCRIBE_BINARY WEIGHTS_DIFF_BINARY
bin="$1"
diff_bin="$2"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }
source "$(dirname "$0")/train_lib.sh"
val_loss() { grep -o '"val_loss":[0-9.e+-]*' "$1/metrics.jsonl" | tail -1 | cut -d: -f2; }
held_steps() { sed -nE "s/^rank $2: worker; waited [0-9.]+ s for slower workers on ([0-9]+) steps.*/\1/p" "$1"; }

small_cohort 120 || { fail "synthetic cohort and tokenizer"; finish; exit 1; }
common=(train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --lr 1e-3 --warmup 5 --jobs 1
        --seed 3 --timeout 60 --config tiny --batch-size 4)

# 1. Synchronous parameter servers = all-reduce.
ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --max-steps 20 --out "$work/dp2" > /dev/null 2> "$work/dp2.err" \
  || { fail "all-reduce: $(tail -3 "$work/dp2.err")"; finish; exit 1; }
for k in 1 2; do
  ms launch --nproc $((2 + k)) -- "$bin" --home "$home" "${common[@]}" --max-steps 20 --strategy ps --servers $k \
    --out "$work/ps$k" > /dev/null 2> "$work/ps$k.err" || fail "--servers $k: $(tail -3 "$work/ps$k.err")"
  r=$(close "$work/dp2" "$work/ps$k" 1e-6) && pass "2 workers + $k server(s), staleness 0 = 2-rank all-reduce: $r" \
    || fail "--servers $k differs from all-reduce: $r"
  r=$(curves_agree "$work/dp2" "$work/ps$k") && pass "--servers $k: loss curve: $r" || fail "--servers $k: loss curves differ"
done
ck="$work/ps2/checkpoints/step-00000020"
[ -f "$ck/optimizer.server-0-of-2.pt" ] && [ -f "$ck/optimizer.server-1-of-2.pt" ] && [ ! -e "$ck/optimizer.pt" ] \
  && pass "each of 2 servers wrote its optimizer file" || fail "server optimizer files: $(ls "$ck")"
mib() { sed -nE "s/^rank $2: peak RSS [0-9.]+ MiB, parameters ([0-9.]+) MiB.*/\1/p" "$1"; }
worker=$(mib "$work/ps2.err" 0) server=$(mib "$work/ps2.err" 2)
awk -v w="$worker" -v s="$server" 'BEGIN { exit !(w > 0 && s > 0 && s < 0.75 * w) }' \
  && pass "a server of 2 holds $server MiB of the $worker MiB of parameters" \
  || fail "server parameters: $server MiB of $worker MiB"

# 2. Staleness 2 with a stalled worker against the synchronous run, 100 steps.
for s in 0 2; do
  MEDSCRIBE_TEST_SLOW_WORKER=1:300:10:1 ms launch --nproc 3 -- "$bin" --home "$home" "${common[@]}" --max-steps 100 \
    --eval-every 50 --strategy ps --staleness $s --out "$work/s$s" > /dev/null 2> "$work/s$s.err" \
    || fail "staleness $s: $(tail -3 "$work/s$s.err")"
done
v0=$(val_loss "$work/s0") v2=$(val_loss "$work/s2")
awk -v a="$v0" -v b="$v2" 'BEGIN { exit !(a > 0 && b > 0 && b <= 1.05 * a) }' \
  && pass "staleness 2 with a stalled worker: validation loss $v2 against $v0 synchronous" \
  || fail "staleness 2 validation loss $v2 against $v0 synchronous"
lag=$(grep -hoE "weights at most [0-9]+ updates behind" "$work/s2.err" | grep -oE "[0-9]+" | sort -n | tail -1)
[ -n "$lag" ] && [ "$lag" -le 2 ] && pass "staleness 2: weights at most $lag updates old" || fail "staleness 2: lag '$lag'"
h0=$(held_steps "$work/s0.err" 0) h2=$(held_steps "$work/s2.err" 0)
awk -v a="$h0" -v b="$h2" 'BEGIN { exit !(a > 0 && b != "" && b < 0.25 * a) }' \
  && pass "worker 0 waited for slower workers on $h2 steps with staleness 2, $h0 synchronous: $(grep -h '^rank 0: worker' "$work/s0.err" "$work/s2.err" | sed -E 's/, weights.*//' | tr '\n' ' ')" \
  || fail "worker 0 waited on $h2 steps with staleness 2, $h0 synchronous"

# 3. kill -9 of the server: alone (the workers stop and say why), then under the launcher.
port=$((20000 + RANDOM % 20000))
for r in 0 1 2; do
  MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=3 RANK=$r timeout 120 "$bin" --home "$home" "${common[@]}" \
    --max-steps 200 --checkpoint-every 3 --strategy ps --out "$work/dead" > /dev/null 2> "$work/dead.$r.err" &
done
for _ in $(seq 1200); do [ -e "$work/dead/checkpoints/step-00000003" ] && break; sleep 0.05; done
for pid in $(pgrep -f -- "--out $work/dead\$"); do
  if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | has -x "RANK=2"; then kill -9 "$pid"; fi
done
wait
for r in 0 1; do
  has "error: parameter server rank 2 stopped answering" "$work/dead.$r.err" \
    && pass "worker $r after the server's kill -9: $(grep -h '^error' "$work/dead.$r.err" | cut -c1-60)..." \
    || fail "worker $r after the server's death: $(tail -2 "$work/dead.$r.err")"
done
nproc=3 kill_rank=2 fault_run ps-fault "${common[@]}" --max-steps 20 --strategy ps --checkpoint-every 3 --eval-every 20

# 4. Refused with what to do.
ms "${common[@]}" --max-steps 20 --strategy ps --out "$work/bad1" > /dev/null 2> "$work/bad1.err"; rc=$?
[ $rc -eq 2 ] && has "needs at least 2 ranks" "$work/bad1.err" && [ ! -e "$work/bad1/checkpoints" ] \
  && pass "--strategy ps on 1 process: exit 2, $(tail -1 "$work/bad1.err")" || fail "ps on 1 process: exit $rc $(tail -1 "$work/bad1.err")"
ms launch --nproc 3 -- "$bin" --home "$home" "${common[@]}" --max-steps 20 --strategy ps --zero 1 --out "$work/bad2" \
  > /dev/null 2> "$work/bad2.err"; rc=$?
[ $rc -ne 0 ] && has "does not combine with --tp, --pp or --zero" "$work/bad2.err" \
  && pass "--strategy ps --zero 1: refused" || fail "ps with zero: exit $rc $(tail -1 "$work/bad2.err")"
ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --max-steps 25 --out "$work/ps1" > /dev/null 2> "$work/bad3.err"; rc=$?
[ $rc -ne 0 ] && has "resume with --strategy ps --servers 1" "$work/bad3.err" \
  && pass "a parameter-server checkpoint resumed with all-reduce: refused" \
  || fail "ps checkpoint under all-reduce: exit $rc $(tail -2 "$work/bad3.err")"
finish
