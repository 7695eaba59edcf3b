#!/usr/bin/env bash
# Data-parallel training on this machine, each figure next to its baseline from the same run:
#   - samples/s of 1 rank (all cores) and of 2 ranks (one core each, `medscribe launch`) with the
#     same global batch, `tiny` preset;
#   - overlap gain: gradient buckets all-reduced during backward vs after backward (--no-overlap);
#   - C++ vs Python: the same model shapes and batch trained by PyTorch's own
#     DistributedDataParallel (Debian python3-torch, gloo; bench/ddp_reference.py) with the
#     C++ run's mean padded sequence length, `tiny` and `small`;
#   - MFU: model FLOPs per second (6 x parameters x tokens plus attention) over the fp32 matmul
#     peak measured here with torch.matmul;
#   - memory: peak RSS and optimizer-state bytes per rank (`small`, 2 ranks) without ZeRO, with
#     ZeRO-1, ZeRO-2 and with activation checkpointing.
# Throughput is read from the last logged window of a run (steps 11..20), which leaves out start-up,
# validation and checkpoints.
# Usage: scripts/bench.sh distributed
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin/medscribe
py=/usr/bin/python3
source bench/lib/training_data.sh
cores=$(nproc)
common=(train --dataset "$tmp/d" --tokenizer "$tmp/tok" --no-dictation --eval-every 1000000 --checkpoint-every 1000000)
field() { grep -v val_loss "$1" | tail -1 | sed -E "s/.*\"$2\":([0-9.e+-]+).*/\1/"; }
one() { # NAME PRESET STEPS BATCH
  rm -rf "$tmp/$1"
  "$bin" "${common[@]}" --config "$2" --max-steps "$3" --batch-size "$4" --jobs "$cores" --out "$tmp/$1" \
    > /dev/null 2> "$tmp/$1.err" || { tail -3 "$tmp/$1.err" >&2; exit 1; }
}
two() { # NAME PRESET STEPS BATCH_PER_RANK EXTRA...
  local name=$1 preset=$2 steps=$3 batch=$4
  shift 4
  rm -rf "$tmp/$name"
  "$bin" launch --nproc 2 -- "$bin" "${common[@]}" --config "$preset" --max-steps "$steps" --batch-size "$batch" \
    --jobs $((cores / 2 > 0 ? cores / 2 : 1)) --out "$tmp/$name" "$@" > /dev/null 2> "$tmp/$name.err" \
    || { tail -3 "$tmp/$name.err" >&2; exit 1; }
}
python_ddp() { # RUN_DIR BATCH_PER_RANK STEPS -> "samples_per_s params_decoder params_vision seq"
  local len
  len=$(field "$1/metrics.jsonl" padded_length | awk '{ printf "%d", $1 + 0.5 }')
  "$py" -m torch.distributed.run --redirects 2 --tee 2 --nproc_per_node 2 --master_port $((20000 + RANDOM % 20000)) \
    bench/ddp_reference.py "$1/config.json" --batch "$2" --text-tokens "$len" --steps "$3" \
    --threads $((cores / 2 > 0 ? cores / 2 : 1)) 2> /dev/null \
    | sed -nE 's/.*samples_per_s=([0-9.]+) params_decoder=([0-9]+) params_vision=([0-9]+) seq=([0-9]+).*/\1 \2 \3 \4/p'
}

echo "data-parallel training, $cores cores; figures from steps 11..20 of each run"
one tiny1 tiny 20 8
two tiny2 tiny 20 4
two tiny2n tiny 20 4 --no-overlap
s1=$(field "$tmp/tiny1/metrics.jsonl" samples_per_s)
s2=$(field "$tmp/tiny2/metrics.jsonl" samples_per_s)
s2n=$(field "$tmp/tiny2n/metrics.jsonl" samples_per_s)
printf 'tiny, global batch 8:  1 rank x %d threads %7.2f samples/s | 2 ranks %7.2f samples/s (%.2fx)\n' "$cores" "$s1" "$s2" \
  "$(awk -v a="$s2" -v b="$s1" 'BEGIN { print a / b }')"
overlap=$(awk -v a="$s2" -v b="$s2n" 'BEGIN { printf "%.3f", a / b }')
printf 'overlap: buckets during backward %7.2f samples/s | baseline after backward %7.2f samples/s (%.3fx)\n' "$s2" "$s2n" "$overlap"

read -r pt nd nv seq <<< "$(python_ddp "$tmp/tiny2" 4 10)"
ratio_tiny=$(awk -v a="$s2" -v b="$pt" 'BEGIN { printf "%.3f", a / b }')
printf 'tiny, 2 ranks x batch 4: C++ %7.2f samples/s | Python DDP %7.2f samples/s (%sx)\n' "$s2" "$pt" "$ratio_tiny"

two small2 small 20 2
ss=$(field "$tmp/small2/metrics.jsonl" samples_per_s)
read -r ps snd snv sseq <<< "$(python_ddp "$tmp/small2" 2 6)"
ratio_small=$(awk -v a="$ss" -v b="$ps" 'BEGIN { printf "%.3f", a / b }')
printf 'small, 2 ranks x batch 2: C++ %7.2f samples/s | Python DDP %7.2f samples/s (%sx)\n' "$ss" "$ps" "$ratio_small"

# fp32 matmul peak of this machine (all cores), and the model FLOPs of a sample.
peak=$("$py" - "$cores" << 'PY'
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
for _ in range(3): a @ b
n, t = 20, time.time()
for _ in range(n): a @ b
print(2 * 2048 ** 3 * n / (time.time() - t))
PY
)
flops_per_sample() { # CONFIG_JSON PARAMS_DECODER PARAMS_VISION SEQ
  "$py" - "$@" << 'PY'
import json, sys
c = json.load(open(sys.argv[1])); nd, nv, t = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
v, d = c["vision"], c["decoder"]
patches = (v["image_size"] // v["patch_size"]) ** 2
attention = 12 * d["num_hidden_layers"] * t * t * d["hidden_size"] + 12 * v["layers"] * patches ** 2 * v["hidden_size"]
print(6 * nd * t + 6 * nv * patches + attention)
PY
}
f_tiny=$(flops_per_sample "$tmp/tiny2/config.json" "$nd" "$nv" "$seq")
f_small=$(flops_per_sample "$tmp/small2/config.json" "$snd" "$snv" "$sseq")
mfu=$(awk -v s="$s2" -v f="$f_tiny" -v p="$peak" 'BEGIN { printf "%.3f", s * f / p }')
mfu_small=$(awk -v s="$ss" -v f="$f_small" -v p="$peak" 'BEGIN { printf "%.3f", s * f / p }')
printf 'MFU against the measured fp32 matmul peak (%.1f GFLOP/s on %d cores): tiny %s, small %s\n' \
  "$(awk -v p="$peak" 'BEGIN { print p / 1e9 }')" "$cores" "$mfu" "$mfu_small"

echo "memory per rank, small, 2 ranks x batch 2 (peak RSS, optimizer state):"
for variant in "none:" "ZeRO-1:--zero 1" "ZeRO-2:--zero 2" "activation checkpointing:--checkpoint-activations"; do
  label=${variant%%:*}
  # shellcheck disable=SC2086
  two mem small 3 2 ${variant#*:}
  grep -h '^rank ' "$tmp/mem.err" | sort | sed "s/^/  $label: /"
done
printf 'samples_per_s_1rank=%.2f samples_per_s_2rank=%.2f overlap_gain=%s cpp_vs_python=%s mfu=%s\n' \
  "$s1" "$s2" "$overlap" "$ratio_tiny" "$mfu"
