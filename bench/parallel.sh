#!/usr/bin/env bash
# Memory and speed of the parallel strategies on this machine, each next to plain data
# parallelism measured in the same run (`small` preset, 2 ranks, the same global batch of 4):
#   - per-rank bytes of parameters, gradients (after the last step) and AdamW state, and peak
#     RSS, for data parallelism (DP), ZeRO-1, ZeRO-2, ZeRO-3 (the decoder's blocks held by their
#     owners only) and tensor parallelism --tp 2 (the decoder's matrices and vocabulary split;
#     the vision encoder, projector and norms replicated), and --pp 2 (stage 0's blocks, image
#     path and embeddings);
#   - samples/s of each (the last logged window, steps 11..20);
#   - pipeline parallelism --pp 2 (1F1B) with 1, 4 and 8 micro-batches of 1 sample: the
#     fraction of step time the stages wait for each other (the bubble), against the
#     theoretical (P - 1) / (M + P - 1) for equal stages;
#   - parameter servers (--strategy ps): 2 workers and 1 server (a third process on the same
#     cores), staleness 0 and 2, samples/s against the 2-rank all-reduce run, and the bytes the
#     server holds.
# Usage: scripts/bench.sh parallel
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin/medscribe
source bench/lib/training_data.sh
cores=$(nproc)
jobs=$((cores / 2 > 0 ? cores / 2 : 1))
common=(train --dataset "$tmp/d" --tokenizer "$tmp/tok" --no-dictation --config small
        --eval-every 1000000 --checkpoint-every 1000000 --jobs "$jobs")
run() { # NAME BATCH_PER_RANK EXTRA...
  local name=$1 batch=$2
  shift 2
  "$bin" launch --nproc "${NPROC:-2}" -- "$bin" "${common[@]}" --max-steps "${STEPS:-20}" --batch-size "$batch" --out "$tmp/$name" "$@" \
    > /dev/null 2> "$tmp/$name.err" || { tail -3 "$tmp/$name.err" >&2; exit 1; }
}
# "PARAMS GRADS OPTIMIZER RSS" (MiB) of rank 0, from its closing line.
bytes() { # NAME [RANK]
  sed -nE 's/^rank '"${2:-0}"': peak RSS ([0-9.]+) MiB, parameters ([0-9.]+) MiB, gradients ([0-9.]+) MiB, optimizer state ([0-9.]+) MiB.*/\2 \3 \4 \1/p' "$tmp/$1.err"
}
speed() { grep -v val_loss "$tmp/$1/metrics.jsonl" | tail -1 | sed -E 's/.*"samples_per_s":([0-9.e+-]+).*/\1/'; }

echo "parallel strategies, small preset, 2 ranks x $jobs thread(s), global batch 4, 20 steps"
run dp 2
run zero1 2 --zero 1
run zero2 2 --zero 2
run zero3 2 --zero 3
run tp2 4 --tp 2
read -r dp_p dp_g dp_o dp_r <<< "$(bytes dp)"
dp_s=$(speed dp)
printf '%-22s %10s %10s %10s %10s %12s\n' strategy "params MiB" "grads MiB" "AdamW MiB" "RSS MiB" "samples/s"
for s in dp zero1 zero2 zero3 tp2; do
  read -r p g o r <<< "$(bytes $s)"
  printf '%-22s %10.2f %10.2f %10.2f %10.1f %12.2f\n' "$s (rank 0)" "$p" "$g" "$o" "$r" "$(speed $s)"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
read -r tp_p tp_g tp_o tp_r <<< "$(bytes tp2)"
read -r z2_p z2_g z2_o z2_r <<< "$(bytes zero2)"
read -r z3_p z3_g z3_o z3_r <<< "$(bytes zero3)"
echo "ratios to data parallelism (rank 0): tp2 parameters $(ratio "$tp_p" "$dp_p"), gradients $(ratio "$tp_g" "$dp_g"), AdamW $(ratio "$tp_o" "$dp_o"); zero2 AdamW $(ratio "$z2_o" "$dp_o"), gradients $(ratio "$z2_g" "$dp_g"); zero3 parameters $(ratio "$z3_p" "$dp_p"), samples/s $(ratio "$(speed zero3)" "$dp_s")"
for mb in 1 4 8; do STEPS=6 run pp2-m$mb 1 --pp 2 --micro-batches $mb --schedule 1f1b; done
# --pp 2 with 4 micro-batches of 1 has the same global batch; its 6 steps are too few for a speed.
read -r pp_p pp_g pp_o pp_r <<< "$(bytes pp2-m4)"
printf '%-22s %10.2f %10.2f %10.2f %10.1f %12s\n' "pp2, 4 micro (rank 0)" "$pp_p" "$pp_g" "$pp_o" "$pp_r" "-"
# The stages' mean waiting fraction (their closing lines, steps after the first).
bubble() { sed -nE 's/.*pipeline stage .* waiting ([0-9.]+)% .*/\1/p' "$tmp/$1.err" | awk '{ s += $1; n++ } END { printf "%.3f", s / n / 100 }'; }
for mb in 1 4 8; do
  printf 'pp 2, 1f1b, %d micro-batches: bubble %s (stages %s) | theory %.3f\n' $mb "$(bubble pp2-m$mb)" \
    "$(grep -h 'pipeline stage' "$tmp/pp2-m$mb.err" | sed -E 's/^rank ([0-9]+): pipeline stage [0-9]+ of 2, decoder blocks ([0-9.]+).*waiting ([0-9.]+)%.*/\1:blocks \2 \3%/' | tr '\n' ' ')" \
    "$(awk -v m=$mb 'BEGIN { print 1 / (m + 1) }')"
done
echo "pp2 stage 0 parameters $(ratio "$pp_p" "$dp_p") of data parallelism's"
NPROC=3 run ps0 2 --strategy ps --servers 1 --staleness 0
NPROC=3 run ps2 2 --strategy ps --servers 1 --staleness 2
read -r ps_p ps_g ps_o ps_r <<< "$(bytes ps0 2)"
printf '%-22s %10.2f %10.2f %10.2f %10.1f %12s\n' "ps server (rank 2)" "$ps_p" "$ps_g" "$ps_o" "$ps_r" "-"
for s in ps0 ps2; do
  printf 'ps, 2 workers + 1 server, staleness %s: %.2f samples/s (all-reduce %.2f), %s\n' "${s#ps}" "$(speed $s)" "$dp_s" \
    "$(sed -nE 's/^rank 0: worker; (waited [0-9.]+ s for slower workers on [0-9]+ steps).*/worker 0 \1/p' "$tmp/$s.err")"
done
echo "tp2_param_bytes_ratio=$(ratio "$tp_p" "$dp_p") zero3_param_bytes_ratio=$(ratio "$z3_p" "$dp_p") pp2_param_bytes_ratio=$(ratio "$pp_p" "$dp_p") tp2_optimizer_bytes_ratio=$(ratio "$tp_o" "$dp_o") zero2_optimizer_bytes_ratio=$(ratio "$z2_o" "$dp_o") tp2_vs_dp_samples_per_s=$(ratio "$(speed tp2)" "$dp_s") pp_bubble_m1=$(bubble pp2-m1) pp_bubble_m4=$(bubble pp2-m4) pp_bubble_m8=$(bubble pp2-m8) ps_vs_allreduce=$(ratio "$(speed ps0)" "$dp_s") ps_stale2_vs_allreduce=$(ratio "$(speed ps2)" "$dp_s")"
