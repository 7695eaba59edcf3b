#!/usr/bin/env bash
# Model parallelism as users start it (`medscribe launch ... train --tp N / --pp N`), on a small
# synthetic cohort with the `tiny` preset (2 blocks, 4 attention heads, 2 key/value heads) on
# loopback:
#   - 2 tensor-parallel ranks and 2 x 2 (data x tensor parallel) reach the weights of one process
#     with the same global batch after 20 steps. Tolerance: relative L2 difference <= 1e-4. The
#     shards sum their partial products in another order than one process does (the row-parallel
#     all-reduce, the split log-sum-exp), which moves float32 results by about 1e-7 per step, and
#     Adam's normalized updates carry such differences on; exact agreement is not expected;
#   - a --tp 2 checkpoint resumes with --tp 1 (checkpoints hold whole tensors) and ends where the
#     --tp 2 run ends; a --zero 3 run resumed from its checkpoint ends where it would have;
#   - --pp 2 with 4 micro-batches, GPipe and 1F1B, reaches the weights of one process with 4
#     accumulation steps (same tolerance: the two copies of the tied embeddings add their
#     gradients after backward, in another order than one process), and so do 2 tensor x 2
#     pipeline ranks, 2 data x 2 tensor ranks with ZeRO-1 and 2 data x 2 pipeline ranks with
#     ZeRO-2; each stage reports its blocks and how long it waited;
#   - kill -9 of a tensor-parallel rank and of a pipeline stage: the launcher restarts both,
#     they resume from the last checkpoint, and the loss curve and weights equal an
#     uninterrupted run's;
#   - a degree that does not divide the heads or the world, or more stages than blocks, is
#     refused before any work.
# Usage: parallel_cli_test.sh MEDSCRIBE_BINARY WEIGHTS_DIFF_BINARY
bin="$1"
diff_bin="$2"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }
source "$(dirname "$0")/train_lib.sh"

small_cohort 40 || { fail "synthetic cohort and tokenizer"; finish; exit 1; }
common=(train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --lr 2e-3 --warmup 5 --jobs 1
        --seed 3 --timeout 60 --config tiny --max-steps 20)

# 1. Agreement with one process.
ms "${common[@]}" --batch-size 4 --out "$work/one" > /dev/null 2> "$work/one.err" \
  || { fail "1 process: $(tail -2 "$work/one.err")"; finish; exit 1; }
ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --batch-size 4 --tp 2 --checkpoint-every 10 \
  --out "$work/tp2" > /dev/null 2> "$work/tp2.err" || fail "--tp 2: $(tail -3 "$work/tp2.err")"
r=$(close "$work/one" "$work/tp2") && pass "--tp 2 = 1 process after 20 steps: $r" || fail "--tp 2 differs: $r"
r=$(curves_agree "$work/one" "$work/tp2") && pass "--tp 2: the logged losses agree within 1e-5 (relative): $r" \
  || { fail "--tp 2: loss curves differ"; paste <(losses "$work/one/metrics.jsonl") <(losses "$work/tp2/metrics.jsonl") | head -5; }
grep -q "rank 1: .*tensor parallel 2" "$work/tp2.err" && pass "both ranks report tensor parallelism 2" \
  || fail "tp report: $(grep 'rank 1' "$work/tp2.err")"
ms launch --nproc 4 -- "$bin" --home "$home" "${common[@]}" --batch-size 2 --tp 2 \
  --out "$work/dp2tp2" > /dev/null 2> "$work/dp2tp2.err" || fail "2 x 2: $(tail -3 "$work/dp2tp2.err")"
r=$(close "$work/one" "$work/dp2tp2") && pass "2 data x 2 tensor-parallel ranks (batch 2 each) = 1 process (batch 4): $r" \
  || fail "2 x 2 differs: $r"
r=$(curves_agree "$work/one" "$work/dp2tp2") && pass "2 x 2: loss curve: $r" || fail "2 x 2: loss curves differ"

# 2. A --tp 2 checkpoint resumed with --tp 1.
mkdir -p "$work/re"
cp -r "$work/tp2/checkpoints" "$work/tp2/config.json" "$work/tp2/run.json" "$work/tp2/metrics.jsonl" "$work/re/"
echo step-00000010 > "$work/re/checkpoints/latest"
rm -rf "$work/re/checkpoints/step-00000020"
ms "${common[@]}" --batch-size 4 --out "$work/re" > /dev/null 2> "$work/re.err" \
  || fail "resume with --tp 1: $(tail -2 "$work/re.err")"
grep -q "resuming at step 10" "$work/re.err" && r=$(close "$work/tp2" "$work/re") \
  && pass "a --tp 2 checkpoint (step 10) resumed with --tp 1 ends where --tp 2 ends: $r" \
  || fail "resume across degrees: $r $(tail -2 "$work/re.err")"

# A ZeRO-3 run continued from its step-10 checkpoint ends where the uninterrupted run ends.
ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --batch-size 2 --zero 3 --checkpoint-every 10 \
  --out "$work/z3" > /dev/null 2> "$work/z3.err" || fail "--zero 3: $(tail -3 "$work/z3.err")"
mkdir -p "$work/z3re"
cp -r "$work/z3/checkpoints" "$work/z3/config.json" "$work/z3/run.json" "$work/z3/metrics.jsonl" "$work/z3re/"
echo step-00000010 > "$work/z3re/checkpoints/latest"
rm -rf "$work/z3re/checkpoints/step-00000020"
ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --batch-size 2 --zero 3 --checkpoint-every 10 \
  --out "$work/z3re" > /dev/null 2> "$work/z3re.err" || fail "--zero 3 resumed: $(tail -3 "$work/z3re.err")"
grep -q "resuming at step 10" "$work/z3re.err" && r=$(close "$work/z3" "$work/z3re" 0) \
  && pass "a --zero 3 run resumed from step 10 ends where the uninterrupted one ends: $r" \
  || fail "--zero 3 resume: $r $(tail -2 "$work/z3re.err")"

# 3. Pipeline parallelism: 2 stages x 4 micro-batches against one process with 4 accumulation
# steps of the same batch.
ms "${common[@]}" --batch-size 2 --grad-accum 4 --out "$work/acc" > /dev/null 2> "$work/acc.err" \
  || fail "accumulation: $(tail -2 "$work/acc.err")"
for schedule in gpipe 1f1b; do
  ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --batch-size 2 --pp 2 --micro-batches 4 \
    --schedule $schedule --out "$work/pp-$schedule" > /dev/null 2> "$work/pp-$schedule.err" \
    || fail "--pp 2 $schedule: $(tail -3 "$work/pp-$schedule.err")"
  r=$(close "$work/acc" "$work/pp-$schedule") && pass "--pp 2 ($schedule, 4 micro-batches) = 1 process with 4 accumulation steps: $r" \
    || fail "--pp 2 $schedule differs: $r"
  r=$(curves_agree "$work/acc" "$work/pp-$schedule") && pass "--pp 2 $schedule: loss curve: $r" \
    || fail "--pp 2 $schedule: loss curves differ"
done
has "rank 1: pipeline stage 1 of 2, decoder blocks 1..1" "$work/pp-1f1b.err" \
  && pass "stage report: $(grep -h 'pipeline stage' "$work/pp-1f1b.err" | tr '\n' ';')" \
  || fail "stage report: $(grep -h 'rank 1' "$work/pp-1f1b.err")"
ms launch --nproc 4 -- "$bin" --home "$home" "${common[@]}" --batch-size 2 --pp 2 --tp 2 --micro-batches 4 \
  --out "$work/tp2pp2" > /dev/null 2> "$work/tp2pp2.err" || fail "--tp 2 --pp 2: $(tail -3 "$work/tp2pp2.err")"
r=$(close "$work/acc" "$work/tp2pp2") && pass "2 tensor x 2 pipeline ranks = 1 process: $r" || fail "tp2 x pp2 differs: $r"
r=$(curves_agree "$work/acc" "$work/tp2pp2") && pass "2 x 2 pipeline: loss curve: $r" || fail "tp2 x pp2: loss curves differ"
# Hybrids with ZeRO across the data-parallel replicas.
ms launch --nproc 4 -- "$bin" --home "$home" "${common[@]}" --batch-size 2 --tp 2 --zero 1 \
  --out "$work/dp2tp2z1" > /dev/null 2> "$work/dp2tp2z1.err" || fail "2 x 2 with ZeRO-1: $(tail -3 "$work/dp2tp2z1.err")"
r=$(close "$work/one" "$work/dp2tp2z1") && pass "2 data x 2 tensor-parallel ranks with ZeRO-1 = 1 process: $r" \
  || fail "2 x 2 ZeRO-1 differs: $r"
ms launch --nproc 4 -- "$bin" --home "$home" "${common[@]}" --batch-size 2 --pp 2 --micro-batches 2 --zero 2 \
  --out "$work/dp2pp2z2" > /dev/null 2> "$work/dp2pp2z2.err" || fail "2 x 2 pipeline with ZeRO-2: $(tail -3 "$work/dp2pp2z2.err")"
r=$(close "$work/acc" "$work/dp2pp2z2") && pass "2 data x 2 pipeline ranks with ZeRO-2 (global batch 8) = 1 process with 4 accumulation steps: $r" \
  || fail "2 x 2 pipeline ZeRO-2 differs: $r"

# 4. kill -9 of one rank after checkpoint 6: a tensor-parallel rank, then a pipeline stage.
fault_run tp-fault "${common[@]}" --batch-size 4 --tp 2 --checkpoint-every 3 --eval-every 20
fault_run pp-fault "${common[@]}" --batch-size 2 --pp 2 --micro-batches 2 --checkpoint-every 3 --eval-every 20

# 5. Degrees that cannot work are refused before any work.
ms "${common[@]}" --tp 2 --out "$work/bad1" > /dev/null 2> "$work/bad1.err"; rc=$?
[ $rc -eq 2 ] && has "does not divide the 1 ranks" "$work/bad1.err" && [ ! -e "$work/bad1/checkpoints" ] \
  && pass "--tp 2 on 1 process: exit 2, $(tail -1 "$work/bad1.err")" || fail "tp over world: exit $rc $(tail -1 "$work/bad1.err")"
ms "${common[@]}" --tp 3 --out "$work/bad2" > /dev/null 2> "$work/bad2.err"; rc=$?
[ $rc -eq 2 ] && has "does not divide the decoder's 4 attention heads" "$work/bad2.err" \
  && pass "--tp 3 with 4 heads: exit 2, $(tail -1 "$work/bad2.err")" || fail "tp over heads: exit $rc $(tail -1 "$work/bad2.err")"
ms "${common[@]}" --pp 3 --out "$work/bad4" > /dev/null 2> "$work/bad4.err"; rc=$?
[ $rc -eq 2 ] && has "more stages than the 2 decoder blocks" "$work/bad4.err" \
  && pass "--pp 3 with 2 blocks: exit 2, $(tail -1 "$work/bad4.err")" || fail "pp over blocks: exit $rc $(tail -1 "$work/bad4.err")"
ms "${common[@]}" --tp 2 --zero 3 --out "$work/bad3" > /dev/null 2> "$work/bad3.err"; rc=$?
[ $rc -eq 2 ] && has "zero 3 with --tp > 1 is not supported" "$work/bad3.err" \
  && pass "--tp with --zero 3: exit 2" || fail "tp with zero 3: exit $rc $(tail -1 "$work/bad3.err")"
finish
