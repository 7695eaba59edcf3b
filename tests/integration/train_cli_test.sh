#!/usr/bin/env bash
# End-to-end check of the model life cycle as a user runs it:
#   medscribe tokenizer train / train (1 process, then 2 over c10d) / registry / eval / generate /
#   quantize / export
# on a small synthetic cohort with the `tiny` preset: the loss falls in both runs, a run resumed
# from a checkpoint repeats the same losses, the registered artifact verifies and a flipped byte
# is refused, eval prints its table, the HF export has a LlamaForCausalLM config, bad inputs
# give clear errors.
# Usage: train_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
steps="${TRAIN_TEST_STEPS:-120}"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }
py=$(command -v python3)
loss_at() { grep "\"step\":$2," "$1" | grep -v val_loss | head -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/'; }

ms --log-level warn synth --out "$work/c" --encounters 80 --seed 4 --no-speech --image-size 128 > /dev/null \
  || { fail "synth"; finish; exit 1; }
ms --log-level warn ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d" --image-size 128 \
  --split 0.8,0.1,0.1 --no-warehouse > /dev/null
[ -f "$work/d/manifest.json" ] || { fail "ingest"; finish; exit 1; }
ms tokenizer train --dataset "$work/d" --vocab 1000 --out "$work/tok" > "$work/tok.txt" \
  && pass "tokenizer: $(cat "$work/tok.txt")" || fail "tokenizer train"

# 1. One process.
common=(--dataset "$work/d" --tokenizer "$work/tok" --no-dictation --config tiny --max-steps "$steps"
        --checkpoint-every $((steps / 2)) --eval-every $((steps / 2)) --lr 2e-3 --warmup 20)
ms train "${common[@]}" --batch-size 4 --out "$work/run1" > "$work/run1.txt" 2> "$work/run1.err" \
  || { fail "train (1 process): $(tail -2 "$work/run1.err")"; finish; exit 1; }
first=$(loss_at "$work/run1/metrics.jsonl" 10); last=$(loss_at "$work/run1/metrics.jsonl" "$steps")
[ -n "$first" ] && [ -n "$last" ] && awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < 0.6 * a) }' \
  && pass "1 process: loss $first at step 10 -> $last at step $steps" || fail "1 process: loss $first -> $last did not fall"
grep -q "step $steps/$steps" "$work/run1.err" && grep -q "tokens/s" "$work/run1.err" && pass "progress lines with tokens/s and ETA" || fail "no progress line"
ls "$work"/run1/events.out.tfevents.* > /dev/null 2>&1 && pass "TensorBoard event file" || fail "no event file"

# 2. Resume from the middle checkpoint: the same losses again.
cp "$work/run1/metrics.jsonl" "$work/metrics.first"
printf 'step-%08d\n' $((steps / 2)) > "$work/run1/checkpoints/latest"
ms train "${common[@]}" --batch-size 4 --out "$work/run1" > "$work/resume.txt" 2> "$work/resume.err"
grep -q "resumed at step $((steps / 2))" "$work/resume.txt" && pass "resumed at step $((steps / 2))" || fail "no resume: $(cat "$work/resume.txt")"
same=1
for s in $(seq $((steps / 2 + 10)) 10 "$steps"); do
  a=$(grep "\"step\":$s," "$work/metrics.first" | grep -v val_loss | head -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/')
  b=$(grep "\"step\":$s," "$work/run1/metrics.jsonl" | grep -v val_loss | tail -1 | sed -E 's/.*"loss":([0-9.e+-]+).*/\1/')
  [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-3) }' \
    || { same=0; echo "step $s: $a vs $b"; }
done
[ $same -eq 1 ] && pass "the resumed run repeats the losses of steps $((steps / 2 + 10))..$steps" || fail "resumed losses differ"

# 3. Two processes over c10d (Gloo on loopback).
port=$((20000 + RANDOM % 20000))
for r in 1 0; do
  MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 RANK=$r "$bin" --home "$home" train "${common[@]}" \
    --batch-size 2 --out "$work/run2" > "$work/run2.$r.txt" 2> "$work/run2.$r.err" &
done
wait
first=$(loss_at "$work/run2/metrics.jsonl" 10); last=$(loss_at "$work/run2/metrics.jsonl" "$steps")
[ -n "$first" ] && [ -n "$last" ] && awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < 0.6 * a) }' \
  && pass "2 processes: loss $first at step 10 -> $last at step $steps" || { fail "2 processes: loss $first -> $last"; tail -n 3 "$work"/run2.*.err; }
grep -q '"world_size": 2' "$work/run2/run.json" && pass "run.json records world size 2" || fail "world size not recorded"

# 4. Registry, eval, export.
ms registry register --run "$work/run1" --name chest > /dev/null && ms registry alias chest@1 staging > /dev/null \
  && ms registry verify chest@staging > "$work/verify.txt" && pass "$(cat "$work/verify.txt")" || fail "registry"
ms eval --model chest@staging --dataset "$work/d" --split test --limit 4 --bootstrap 50 > "$work/eval.txt" 2>&1
grep -q "baseline: most frequent report" "$work/eval.txt" && grep -q "CIDErD" "$work/eval.txt" \
  && pass "eval prints metrics and baselines in one table" || { fail "eval"; cat "$work/eval.txt"; }
# 5. The inference engine: the same report as the naive full-recompute path; a quantized child.
key=$(tar -tf "$work/d"/test-000000.tar | head -1 | sed 's/\..*//')
ms generate --model chest@staging --dataset "$work/d" --key "$key" --max-tokens 60 > "$work/gen.txt" 2> "$work/gen.err" \
  && ms generate --model chest@staging --dataset "$work/d" --key "$key" --max-tokens 60 --reference > "$work/ref.txt" 2> "$work/ref.err" \
  && [ -s "$work/gen.txt" ] && cmp -s "$work/gen.txt" "$work/ref.txt" \
  && pass "generate: engine and reference agree ($(head -c 60 "$work/gen.txt")...)" \
  || fail "generate: $(cat "$work/gen.err" "$work/ref.err"; diff "$work/gen.txt" "$work/ref.txt")"
ms generate --model chest@staging --dataset "$work/d" --key "$key" --max-tokens 60 --past-reports train > "$work/genp.txt" 2> "$work/genp.err" \
  && cmp -s "$work/gen.txt" "$work/genp.txt" && grep -qE "drafting corpus: [1-9][0-9]* reports of split 'train'" "$work/genp.err" \
  && pass "generate --past-reports: the same report, drafted from the train split's reports" \
  || fail "generate --past-reports: $(cat "$work/genp.err"; diff "$work/gen.txt" "$work/genp.txt")"
ms generate --model chest@staging --key "$key" --past-reports train > /dev/null 2> "$work/nodata.txt"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--dataset" "$work/nodata.txt" && pass "--past-reports without --dataset: exit 2 naming it" \
  || fail "--past-reports without --dataset: exit $rc $(cat "$work/nodata.txt")"
ms quantize --model chest@staging --format int8 --out chest-int8 --dataset "$work/d" --limit 4 --max-tokens 60 > "$work/q.txt" 2>&1 \
  && ms registry show chest-int8 | has '"parent": "chest@1"' \
  && ms generate --model chest-int8 --dataset "$work/d" --key "$key" --max-tokens 60 > "$work/gen8.txt" 2> "$work/gen8.err" \
  && grep -q "weights int8" "$work/gen8.err" && [ -s "$work/gen8.txt" ] \
  && pass "quantize: $(grep -E '^(f32|int8) ' "$work/q.txt" | tr -s ' ' | paste -sd';')" \
  || fail "quantize: $(cat "$work/q.txt" "$work/gen8.err" 2>/dev/null)"
ms generate --model nosuch --dataset "$work/d" --key "$key" > /dev/null 2> "$work/nomodel.txt"; rc=$?
[ $rc -eq 2 ] && grep -qi "nosuch" "$work/nomodel.txt" && pass "unknown model: exit 2 naming it" || fail "unknown model: exit $rc $(cat "$work/nomodel.txt")"
ms generate --model chest@staging --dataset "$work/d" --key "$key" --top-p 2 > /dev/null 2> "$work/badp.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "top_p" "$work/badp.txt" && pass "impossible sampling: exit 2 naming top_p" || fail "bad top_p: exit $rc $(cat "$work/badp.txt")"
ms export --format hf --model "$work/run1/model" --out "$work/hf" > /dev/null \
  && grep -q LlamaForCausalLM "$work/hf/config.json" && [ -s "$work/hf/model.safetensors" ] && [ -s "$work/hf/tokenizer.model" ] \
  && pass "HF export" || fail "HF export"
# GGUF: llama.cpp (node-llama-cpp's prebuilt CPU binaries, installed by scripts/bootstrap.sh into
# a cache outside the tree) continues a prompt token for token as the engine does.
for t in f32 q8_0 q4_0; do
  ms export --format gguf --type $t --model "$work/run1/model" --out "$work/m-$t.gguf" > "$work/gguf-$t.txt" 2>&1 \
    && [ "$(head -c 4 "$work/m-$t.gguf")" = GGUF ] && pass "GGUF export ($t): $(cat "$work/gguf-$t.txt")" \
    || fail "GGUF export ($t): $(cat "$work/gguf-$t.txt")"
done
llama_modules="${MEDSCRIBE_LLAMA_NPM:-${XDG_CACHE_HOME:-$HOME/.cache}/medscribe/llama}/node_modules"
if [ -d "$llama_modules/node-llama-cpp" ] && command -v node > /dev/null; then
  # 48 tokens on both sides, past the end token if the model writes one early.
  prompt="<history> 71 male, Emergency Department (EMER). Order: Cough and fever. <labs> WBC 15.1 10*3/uL H <dictation> none
<report> EXAMINATION: Chest radiograph, single frontal PA view.
INDICATION: Cough and fever.
FINDINGS:"
  ms generate --model "$work/run1/model" --prompt "$prompt" --max-tokens 48 --ignore-eos --print-ids --no-speculative \
    > "$work/ours.json" 2> "$work/ours.err"
  ids=$($py -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["prompt"])))' "$work/ours.json")
  for t in f32 q8_0; do
    node "$(dirname "$0")/llama_greedy.mjs" "$llama_modules" "$work/m-$t.gguf" "$ids" 48 -1 > "$work/theirs-$t.json" 2> "$work/theirs-$t.err"
  done
  same=$($py -c '
import json,sys
ours = json.load(open(sys.argv[1]))["tokens"]; theirs = json.load(open(sys.argv[2]))
n = 0
while n < min(len(ours), len(theirs)) and ours[n] == theirs[n]: n += 1
# node-llama-cpp ends its generator at the end token; the engine (--ignore-eos) writes it and goes
# on. Both writing the end token at the same place is agreement too.
both_end = n == len(theirs) < len(ours) and ours[n] == 3
print(n, len(ours), len(theirs), int(both_end))' "$work/ours.json" "$work/theirs-f32.json" 2>&1)
  read -r n_same n_ours n_theirs both_end <<< "$same"
  { [ "${n_same:-0}" -ge 32 ] || [ "${both_end:-0}" = 1 ]; } \
    && pass "llama.cpp runs the f32 GGUF: its greedy continuation equals the engine's for $n_same tokens$([ "${both_end:-0}" = 1 ] && echo ", then both write the end token")" \
    || fail "llama.cpp and the engine part after $same tokens: $(head -c 300 "$work/theirs-f32.json" "$work/theirs-f32.err")"
  $py -c 'import json,sys; t = json.load(open(sys.argv[1])); sys.exit(0 if len(t) > 0 else 1)' "$work/theirs-q8_0.json" 2> /dev/null \
    && pass "llama.cpp loads the q8_0 GGUF and generates" || fail "q8_0 GGUF in llama.cpp: $(head -c 300 "$work/theirs-q8_0.err")"
else
  echo "skip: node-llama-cpp is not installed at $llama_modules (scripts/bootstrap.sh installs it where npm is reachable): the llama.cpp agreement check did not run"
fi
weights=$(ls "$home"/registry/models/chest/1/model.safetensors)
chmod u+w "$weights"; printf '\x01' | dd of="$weights" bs=1 seek=200 conv=notrunc status=none
ms registry verify chest@1 > /dev/null 2> "$work/tamper.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "model.safetensors" "$work/tamper.txt" && pass "a flipped byte in the artifact is refused" || fail "tampered artifact accepted"
ms generate --model chest@1 --dataset "$work/d" --key "$key" > /dev/null 2> "$work/tamper2.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "model.safetensors" "$work/tamper2.txt" && pass "generate refuses the tampered artifact" || fail "generate ran a tampered artifact"

# 6. Bad inputs: clear errors before any work.
echo '{"name":"x","vision":{"type":"vit","image_size":100,"channels":1,"patch_size":16,"hidden_size":64,"layers":1,"heads":4,"mlp_ratio":2},"projector":{"hidden_size":64,"pool":true},"decoder":{"vocab_size":100,"hidden_size":64,"intermediate_size":64,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":4,"max_position_embeddings":512,"rope_theta":10000,"rms_norm_eps":1e-5,"tie_word_embeddings":true}}' > "$work/bad.json"
ms train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --config "$work/bad.json" --out "$work/bad" > /dev/null 2> "$work/bad.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "patch_size" "$work/bad.txt" && pass "impossible config: exit 2 naming patch_size" || fail "bad config: exit $rc $(cat "$work/bad.txt")"
ms train --dataset "$work/c" --out "$work/bad2" > /dev/null 2> "$work/bad2.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "not a dataset" "$work/bad2.txt" && pass "not a dataset: exit 2" || fail "non-dataset: exit $rc $(cat "$work/bad2.txt")"

# The DP-SGD privacy budget: epsilon for a noise multiplier, and back.
out=$(ms privacy epsilon --sample-rate 0.01 --noise 1.1 --steps 1000) && eps=$(echo "$out" | sed -nE 's/^epsilon=([0-9.]+) .*/\1/p')
awk -v e="$eps" 'BEGIN { exit !(e > 1 && e < 3) }' && pass "privacy epsilon: $out" || fail "privacy epsilon: $out"
out=$(ms privacy noise --sample-rate 0.01 --steps 1000 --epsilon "$eps") && noise=$(echo "$out" | sed -nE 's/^noise=([0-9.]+) .*/\1/p')
awk -v n="$noise" 'BEGIN { exit !(n > 1.09 && n <= 1.102) }' && pass "privacy noise for that epsilon: $out" || fail "privacy noise: $out"
ms privacy noise --sample-rate 1 --steps 100000 --epsilon 0.01 > /dev/null 2> "$work/dp.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "train fewer steps" "$work/dp.txt" && pass "an unreachable epsilon: exit 2" || fail "unreachable epsilon: exit $rc $(cat "$work/dp.txt")"
finish
