#!/usr/bin/env bash
# DP-SGD training as users start it (`medscribe train --dp-epsilon ...`), on a small synthetic
# cohort with the `tiny` preset:
#   - a budget alone: the run takes every step, prints the epsilon it spent (at most the
#     budget), how many examples were clipped, and keeps the privacy in run.json; `registry
#     show` shows it in the model's lineage;
#   - two ranks with half the batch each (`medscribe launch --nproc 2`) train as one rank does:
#     each example is clipped alone and the noise is added once per step, so the loss curves
#     agree within 1e-5 and the weights within 1e-4 (relative; only float sums differ in order);
#   - a noise multiplier with a budget it cannot keep for every step stops at the last step
#     within the budget and says so;
#   - what DP-SGD cannot account for is refused with what to do: an image warm-up, gradient
#     accumulation, a delta not below 1/N.
# Usage: dp_cli_test.sh MEDSCRIBE_BINARY WEIGHTS_DIFF_BINARY
bin="$1"
diff_bin="$2"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }
source "$(dirname "$0")/train_lib.sh"

small_cohort 120 || { fail "synthetic cohort and tokenizer"; finish; exit 1; }
args=(train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --lr 1e-3 --warmup 5 --jobs 1
      --seed 3 --timeout 60)
common=("${args[@]}" --config tiny)

# 1. A budget alone.
ms "${common[@]}" --batch-size 4 --max-steps 20 --dp-epsilon 3 --out "$work/eps3" > "$work/eps3.out" 2> "$work/eps3.err" \
  || fail "--dp-epsilon 3: $(tail -3 "$work/eps3.err")"
eps=$(sed -nE 's/^privacy: epsilon ([0-9.]+) at delta 1e-05 .*/\1/p' "$work/eps3.out")
steps=$(grep -c '"loss_mean"' "$work/eps3/metrics.jsonl")
awk -v e="$eps" 'BEGIN { exit !(e > 2.9 && e <= 3) }' && [ "$(tail -1 "$work/eps3/metrics.jsonl" | grep -o '"step":[0-9]*')" = '"step":20' ] \
  && pass "--dp-epsilon 3, 20 steps: $(grep '^privacy' "$work/eps3.out")" || fail "budget run: epsilon '$eps', $steps logged steps"
has -E "^rank 0: DP-SGD: [0-9]+ of [0-9]+ examples had a gradient above 1 and were clipped" "$work/eps3.err" \
  && pass "$(grep -o 'DP-SGD: [0-9]* of [0-9]* examples.*' "$work/eps3.err")" || fail "no clipping line"
has -E '"mechanism": "dp-sgd"' "$work/eps3/run.json" && has -E '"accountant": "rdp"' "$work/eps3/run.json" \
  && pass "run.json keeps the privacy" || fail "run.json: $(grep -A3 privacy "$work/eps3/run.json")"
ms registry register --run "$work/eps3" --name private > /dev/null || fail "registry register"
shown=$(ms registry show private | tr -d ' \n' | sed -nE 's/.*"privacy":\{[^}]*"epsilon":([0-9.]+).*/\1/p')
awk -v a="$shown" -v b="$eps" 'BEGIN { d = a - b; exit !(a > 0 && d < 0.0005 && d > -0.0005) }' \
  && pass "registry show: the lineage carries epsilon $shown" || fail "registry show: '$shown' against $eps"

# 2. Two ranks train as one.
ms "${common[@]}" --batch-size 4 --max-steps 20 --dp-noise 0.8 --out "$work/one" > /dev/null 2> "$work/one.err" \
  || fail "one rank: $(tail -3 "$work/one.err")"
ms launch --nproc 2 -- "$bin" --home "$home" "${common[@]}" --batch-size 2 --max-steps 20 --dp-noise 0.8 \
  --out "$work/two" > /dev/null 2> "$work/two.err" || fail "two ranks: $(tail -3 "$work/two.err")"
r=$(curves_agree "$work/one" "$work/two") && pass "2 ranks x batch 2 = 1 rank x batch 4, loss curve: $r" \
  || fail "DP-SGD loss curves differ: $(losses "$work/one/metrics.jsonl" | tr '\n' ';') vs $(losses "$work/two/metrics.jsonl" | tr '\n' ';')"
r=$(close "$work/one" "$work/two" 1e-4) && pass "2 ranks: final weights: $r" || fail "2 ranks: weights differ: $r"

# 3. The budget ends the run.
ms "${common[@]}" --batch-size 4 --max-steps 200 --dp-noise 1 --dp-epsilon 2 --out "$work/cut" > "$work/cut.out" 2> "$work/cut.err" \
  || fail "--dp-noise with --dp-epsilon: $(tail -3 "$work/cut.err")"
cut=$(sed -nE 's/^DP-SGD: the budget of epsilon 2 ends after ([0-9]+) of the 200 steps asked.*/\1/p' "$work/cut.err")
last=$(tail -1 "$work/cut/metrics.jsonl" | sed -nE 's/.*"step":([0-9]+).*/\1/p')
[ -n "$cut" ] && [ "$cut" -lt 200 ] && [ "$last" = "$cut" ] && has -E "^privacy: epsilon (1\.[0-9]+|2\.000) " "$work/cut.out" \
  && pass "the budget stopped the run after $cut of 200 steps: $(grep '^privacy' "$work/cut.out")" \
  || fail "budget stop: '$cut', last logged step '$last'; $(tail -2 "$work/cut.err")"

# 4. Refusals.
refused() { # MESSAGE_PATTERN CONFIG ARGS...: the run is refused before any work, naming the pattern
  local pattern="$1" config="$2" out rc
  shift 2
  out=$(ms "${args[@]}" --config "$config" --out "$work/refused" "$@" 2>&1); rc=$?
  [ $rc -ne 0 ] && echo "$out" | has -- "$pattern" && [ ! -e "$work/refused/run.json" ] \
    && pass "refused: $* -> $(echo "$out" | tail -1)" || fail "not refused: $* (exit $rc): $out"
}
refused "--image-warmup-epochs 0" base --dp-epsilon 3 --batch-size 4 --max-steps 5
refused "--grad-accum must be 1" tiny --dp-epsilon 3 --batch-size 4 --grad-accum 2 --max-steps 5
refused "--length-buckets" tiny --dp-epsilon 3 --batch-size 4 --length-buckets 4 --max-steps 5
refused "--dp-delta" tiny --dp-epsilon 3 --dp-delta 0.5 --batch-size 4 --max-steps 5
refused "lower --batch-size" tiny --dp-epsilon 3 --batch-size 500 --max-steps 5
finish
