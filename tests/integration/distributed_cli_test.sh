#!/usr/bin/env bash
# Distributed training as users start it: `medscribe launch`, PyTorch's own launcher
# (python3 -m torch.distributed.run --no_python; 2.x also spells it --no-python) and mpirun,
# on a small synthetic cohort with the `tiny` preset on loopback.
#   - 2 ranks x batch 2, 1 rank x batch 4 and 1 rank x batch 2 x 2 accumulation steps give the
#     same parameters after 20 steps (relative difference <= 1e-5);
#   - kill -9 of a worker mid-step and of rank 0 mid-checkpoint: the launcher restarts all
#     workers, they resume from the last complete checkpoint (never a .tmp one), the loss curve
#     and the final weights equal an uninterrupted run, the restart count is logged;
#   - ZeRO-1, ZeRO-2 and ZeRO-3 reach the same weights with half the optimizer state per rank,
#     and ZeRO-3 with about half the parameters per rank between steps;
#   - torchrun and mpirun run the same trainer unchanged and reach the same weights;
#   - a rank started with another configuration or other options is refused at rendezvous;
#   - SIGHUP to the launcher stops its workers.
# Usage: distributed_cli_test.sh MEDSCRIBE_BINARY WEIGHTS_DIFF_BINARY
bin="$1"
diff_bin="$2"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }
close() { # close A B: the two runs' final weights agree within 1e-5 (relative, L2 over all weights)
  local out
  out=$("$diff_bin" "$1/model/model.safetensors" "$2/model/model.safetensors") || { echo "$out"; return 1; }
  echo "$out"
  awk -v d="$(echo "$out" | sed -E 's/^rel_diff=([0-9.e+-]+).*/\1/')" 'BEGIN { exit !(d <= 1e-5) }'
}
losses() { grep -v val_loss "$1" | sed -E 's/.*"loss":([0-9.e+-]+).*"step":([0-9]+).*/\2 \1/'; }

# 0. Signals: a SIGHUP then a SIGTERM to the launcher stop every worker, whichever of the
# launcher's threads the kernel hands them to; exit 128 + the first signal's number.
"$bin" --home "$home" launch --nproc 2 -- sleep 300 > /dev/null 2> "$work/sig.err" &
launcher=$!
for _ in $(seq 100); do grep -q "started 2 worker" "$work/sig.err" && break; sleep 0.1; done
kill -HUP $launcher; kill -TERM $launcher
wait $launcher; rc=$?
[ $rc -eq 129 ] && has "stopping the workers" "$work/sig.err" && ! pgrep -f "^sleep 300$" > /dev/null \
  && pass "SIGHUP to the launcher: both workers stopped, exit 129" \
  || fail "launcher signals (exit $rc): $(cat "$work/sig.err")"

ms --log-level warn synth --out "$work/c" --encounters 40 --seed 5 --no-speech --image-size 128 > /dev/null \
  || { fail "synth"; finish; exit 1; }
ms --log-level warn ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d" --image-size 128 \
  --split 0.8,0.1,0.1 --no-warehouse > /dev/null
ms tokenizer train --dataset "$work/d" --vocab 600 --out "$work/tok" > /dev/null || { fail "tokenizer"; finish; exit 1; }
base=(train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --lr 2e-3 --warmup 5 --jobs 1 --seed 3 --timeout 60)
common=("${base[@]}" --config tiny)

# 1. Equivalence of data parallelism and gradient accumulation.
ms "${common[@]}" --max-steps 20 --batch-size 4 --out "$work/one" > /dev/null 2> "$work/one.err" \
  || { fail "1 rank: $(tail -2 "$work/one.err")"; finish; exit 1; }
ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --max-steps 20 --batch-size 2 \
  --out "$work/two" > /dev/null 2> "$work/two.err" || fail "launch --nproc 2: $(tail -3 "$work/two.err")"
r=$(close "$work/one" "$work/two") && pass "2 ranks x batch 2 = 1 rank x batch 4 after 20 steps: $r" \
  || fail "2 ranks differ from 1 rank: $r"
ms "${common[@]}" --max-steps 20 --batch-size 2 --grad-accum 2 --out "$work/accum" > /dev/null 2> "$work/accum.err"
r=$(close "$work/one" "$work/accum") && pass "batch 2 x 2 accumulation steps = batch 4: $r" \
  || fail "accumulation differs: $r"
ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --max-steps 20 --batch-size 2 --no-overlap \
  --bucket-mb 1 --out "$work/noov" > /dev/null 2>&1
r=$(close "$work/two" "$work/noov") && pass "all-reduce after backward (1 MB buckets) = overlapped: $r" \
  || fail "no-overlap differs: $r"

# ZeRO: the same parameters, half the optimizer state per rank; ZeRO-3 also holds each weight
# on one rank only between steps.
for z in 1 2 3; do
  ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --max-steps 20 --batch-size 2 --zero $z \
    --out "$work/zero$z" > /dev/null 2> "$work/zero$z.err" || fail "--zero $z: $(tail -3 "$work/zero$z.err")"
  r=$(close "$work/two" "$work/zero$z") && pass "ZeRO-$z: same weights as plain data parallelism: $r" \
    || fail "ZeRO-$z differs: $r"
done
full=$(grep -o 'rank 0: .*optimizer state [0-9.]*' "$work/two.err" | sed 's/.*state //')
half=$(grep -o 'rank 1: .*optimizer state [0-9.]*' "$work/zero2.err" | sed 's/.*state //')
[ -n "$full" ] && [ -n "$half" ] && awk -v f="$full" -v h="$half" 'BEGIN { exit !(h <= 0.55 * f) }' \
  && pass "optimizer state per rank: $full MiB without ZeRO, $half MiB with ZeRO-2 on 2 ranks" \
  || fail "optimizer state did not halve: $full -> $half"
whole=$(grep -o 'rank 1: .*parameters [0-9.]*' "$work/two.err" | sed 's/.*parameters //')
part=$(grep -o 'rank 1: .*parameters [0-9.]*' "$work/zero3.err" | sed 's/.*parameters //')
[ -n "$whole" ] && [ -n "$part" ] && awk -v w="$whole" -v p="$part" 'BEGIN { exit !(p < 0.6 * w) }' \
  && pass "parameters held by rank 1 between steps: $whole MiB without ZeRO, $part MiB with ZeRO-3" \
  || fail "ZeRO-3 did not shrink the parameters: $whole -> $part"
ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --max-steps 30 --batch-size 2 --zero 1 \
  --out "$work/zero2" > /dev/null 2> "$work/zero-mismatch.err"
grep -q "resume with --zero 2" "$work/zero-mismatch.err" && pass "resuming ZeRO-2 shards with --zero 1 is refused" \
  || fail "zero mismatch: $(tail -2 "$work/zero-mismatch.err")"

# 2. Faults: kill -9 of rank 1, twice; the launcher restarts everyone from the last checkpoint
# (ZeRO-1: every rank writes its own optimizer shard into the checkpoint).
long=("${common[@]}" --max-steps 40 --batch-size 2 --checkpoint-every 3 --eval-every 20 --zero 1)
ms launch --nproc 2 -- "$bin" --home "$home" "${long[@]}" --out "$work/ref" > /dev/null 2> "$work/ref.err" \
  || fail "uninterrupted run: $(tail -3 "$work/ref.err")"
mkdir -p "$work/fault/checkpoints/.step-00000006.tmp"
echo garbage > "$work/fault/checkpoints/.step-00000006.tmp/model.safetensors"
kill_rank() { # kill_rank RANK PATH: waits until PATH exists, then kills that rank with SIGKILL
  for _ in $(seq 1200); do [ -e "$2" ] && break; sleep 0.05; done
  for pid in $(pgrep -f -- "--out $work/fault"); do
    if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | has -x "RANK=$1"; then kill -9 "$pid"; fi
  done
}
# First kill: rank 1 mid-step, right after checkpoint 6. Second kill: rank 0 in the middle of
# writing checkpoint 24 (the shards are in .step-00000024.tmp, nothing renamed yet); the restart
# must resume from checkpoint 21.
( kill_rank 1 "$work/fault/checkpoints/step-00000006"
  kill_rank 0 "$work/fault/checkpoints/.step-00000024.tmp/optimizer.rank-1-of-2.pt" ) &
killer=$!
MEDSCRIBE_TEST_CHECKPOINT_PAUSE=24:3000 \
  ms launch --nproc 2 --max-restarts 3 --stop-grace 5 -- "$bin" --home "$home" "${long[@]}" --out "$work/fault" \
  > /dev/null 2> "$work/fault.err"; rc=$?
wait $killer
restarts=$(grep -c "restarting all workers" "$work/fault.err")
[ $rc -eq 0 ] && [ "$restarts" -ge 2 ] && grep -q "restart 2 of 3" "$work/fault.err" \
  && pass "kill -9 of rank 1 mid-step and of rank 0 mid-checkpoint: $restarts restarts logged, the launch finished" \
  || { fail "fault run: exit $rc, $restarts restarts"; tail -5 "$work/fault.err"; }
grep -q "resuming at step 6 (restart 1)" "$work/fault.err" && grep -q "resuming at step 21 (restart 2)" "$work/fault.err" \
  && pass "resumed from the last complete checkpoint, never the one cut short: $(grep -o 'resuming at step [0-9]* (restart [0-9]*)' "$work/fault.err" | tr '\n' ';')" \
  || { fail "resume points: $(grep -o 'resuming at step [0-9]* (restart [0-9]*)' "$work/fault.err" | tr '\n' ';')"; grep launch "$work/fault.err"; }
if [ "$(losses "$work/ref/metrics.jsonl")" = "$(losses "$work/fault/metrics.jsonl")" ]; then
  pass "the loss curve equals the uninterrupted run's ($(losses "$work/fault/metrics.jsonl" | wc -l) logged steps)"
else
  fail "loss curves differ"; diff <(losses "$work/ref/metrics.jsonl") <(losses "$work/fault/metrics.jsonl") | head
fi
r=$(close "$work/ref" "$work/fault") && pass "final weights equal the uninterrupted run's: $r" || fail "weights differ: $r"

# SIGTERM to the launcher reaches every worker, and the launcher exits 128 + 15.
"$bin" launch --nproc 2 -- sh -c 'trap "echo worker $RANK stopped; exit 0" TERM; echo worker $RANK ready; sleep 60 & wait' > "$work/term.out" 2>&1 &
launcher=$!
# Both workers have their trap in place (on a loaded machine that takes more than a moment).
for _ in $(seq 200); do [ "$(grep -c ' ready' "$work/term.out")" -ge 2 ] && break; sleep 0.1; done
kill -TERM $launcher
start=$(date +%s)
wait $launcher; rc=$?
[ $rc -eq 143 ] && [ "$(grep -c 'stopped' "$work/term.out")" -eq 2 ] && [ $(( $(date +%s) - start )) -le 5 ] \
  && pass "SIGTERM is forwarded to both workers and the launcher exits 143" \
  || { fail "signal forwarding: exit $rc"; cat "$work/term.out"; }

# Kubeflow Trainer v2's PET_* variables are launch's defaults; one it cannot use is named.
PET_NPROC_PER_NODE=2 "$bin" launch -- sh -c 'echo "rank $RANK of $WORLD_SIZE"' 2> /dev/null | sort > "$work/pet.out"
[ "$(cat "$work/pet.out" | tr '\n' ';')" = "rank 0 of 2;rank 1 of 2;" ] && pass "PET_NPROC_PER_NODE=2 starts 2 workers" \
  || fail "PET defaults: $(cat "$work/pet.out")"
PET_NPROC_PER_NODE=auto "$bin" launch -- true 2> "$work/pet.err"; rc=$?
[ $rc -eq 2 ] && grep -q "PET_NPROC_PER_NODE='auto' is not a count; pass --nproc" "$work/pet.err" \
  && pass "PET_NPROC_PER_NODE=auto without --nproc: exit 2 naming it" || fail "PET auto: exit $rc $(cat "$work/pet.err")"

# 3. The same trainer under PyTorch's launcher and under mpirun.
if /usr/bin/python3 -c 'import torch.distributed.run' 2> /dev/null; then
  # Debian's torch 1.13 under Python 3.11 cannot parse its own default `--redirects 0` (IntFlag
  # iteration changed), so a value it can parse is given.
  /usr/bin/python3 -m torch.distributed.run --redirects 2 --tee 2 --no_python --nproc_per_node 2 --master_port $((20000 + RANDOM % 20000)) \
    "$bin" --home "$home" "${common[@]}" --max-steps 20 --batch-size 2 --out "$work/torchrun" > /dev/null 2> "$work/torchrun.err" \
    || fail "torchrun: $(tail -3 "$work/torchrun.err")"
  r=$(close "$work/two" "$work/torchrun") && pass "torchrun --no-python: same weights as medscribe launch: $r" \
    || fail "torchrun run differs: $r"
else
  fail "python3-torch is not installed (scripts/bootstrap.sh installs it)"
fi
if command -v mpirun > /dev/null; then
  mpi=(mpirun --allow-run-as-root --oversubscribe -np 2 -x MASTER_PORT=$((20000 + RANDOM % 20000)))
  "${mpi[@]}" "$bin" train --print-topology > "$work/mpi-topology.txt" 2>&1
  grep -q '"rank":1.*"source":"openmpi".*"world_size":2' "$work/mpi-topology.txt" \
    && pass "mpirun: --print-topology reads OpenMPI's variables" || { fail "mpirun topology"; cat "$work/mpi-topology.txt"; }
  "${mpi[@]}" "$bin" --home "$home" "${common[@]}" --max-steps 20 --batch-size 2 --out "$work/mpi" > /dev/null 2> "$work/mpi.err" \
    || fail "mpirun: $(tail -3 "$work/mpi.err")"
  r=$(close "$work/two" "$work/mpi") && pass "mpirun: same weights as medscribe launch: $r" || fail "mpirun run differs: $r"
else
  fail "mpirun is not installed (scripts/bootstrap.sh installs openmpi-bin)"
fi

# 4. Ranks that disagree are refused at rendezvous (and nothing hangs).
sed 's/"num_hidden_layers": [0-9]*/"num_hidden_layers": 1/' "$work/one/config.json" > "$work/other.json"
port=$((20000 + RANDOM % 20000))
MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 RANK=1 timeout 120 "$bin" --home "$home" "${base[@]}" \
  --config "$work/other.json" --max-steps 5 --out "$work/mix" > /dev/null 2> "$work/mix.1" &
MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 RANK=0 timeout 120 "$bin" --home "$home" "${common[@]}" \
  --max-steps 5 --out "$work/mix" > /dev/null 2> "$work/mix.0"; rc0=$?
wait $!; rc1=$?
[ $rc0 -ne 0 ] && [ $rc0 -ne 124 ] && [ $rc1 -ne 0 ] && [ $rc1 -ne 124 ] \
  && grep -q "rank 1 differs from rank 0 in its model configuration" "$work/mix.1" \
  && pass "another model configuration is refused: $(tail -1 "$work/mix.1")" \
  || fail "config mismatch: exits $rc0/$rc1: $(tail -1 "$work/mix.0") / $(tail -1 "$work/mix.1")"
port=$((20000 + RANDOM % 20000))
MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 RANK=1 timeout 120 "$bin" --home "$home" "${common[@]}" \
  --batch-size 3 --max-steps 5 --out "$work/mix2" > /dev/null 2> "$work/mix2.1" &
MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 RANK=0 timeout 120 "$bin" --home "$home" "${common[@]}" \
  --max-steps 5 --out "$work/mix2" > /dev/null 2> "$work/mix2.0"
wait $!
grep -q "differs from rank 0 in its training options" "$work/mix2.1" \
  && pass "other training options are refused" || fail "options mismatch: $(tail -1 "$work/mix2.1")"
finish
