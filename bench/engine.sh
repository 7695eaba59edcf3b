#!/usr/bin/env bash
# Inference engine figures on this machine's CPUs, each beside its baseline from the same run:
#   1. batch-1 decode tokens/s of LLaMA shapes (20M: d=384, 6 layers, ff 1536, vocab 8000;
#      162M: d=768, 12 layers, ff 3072, vocab 32000; random weights) in f32 and int8 on 1 and 2
#      threads, next to the LibTorch eager KV-cached loop (or llama-bench, if on the PATH, for the
#      same shapes it is given) and to the memory-bandwidth bound (weight bytes per token over
#      the measured read bandwidth);
#   2. serving the `small` preset (random weights): 1, 8, 32, 64 concurrent report requests
#      against the same requests one after another; KV bytes per live token; time to first
#      token of a repeated study with and without the prefix and encoder caches;
#   3. on a `tiny` model trained here: speculative decoding with n-gram drafts and with a draft
#      model trained here too (acceptance, speedup, identical output) and int8 / int4
#      quantization (file bytes, clinical micro-F1 against f32).
# Usage: scripts/bench.sh engine [TRAIN_STEPS]   (default 400; about 15 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin/medscribe
dec=build/release/bin/engine_decode
serve=build/release/bin/engine_serve
steps="${1:-400}"
cores=$(nproc)

echo "== memory read bandwidth (AVX-512 sum over 1 GiB)"
declare -A bw
for t in 1 2; do
  bw[$t]=$("$dec" --bandwidth --threads "$t" | sed -nE 's/.*gb_s=([0-9.]+).*/\1/p')
  echo "  $t thread(s): ${bw[$t]} GB/s"
done

echo
echo "== batch-1 decode, 128 generated tokens, random weights"
if command -v llama-bench > /dev/null; then
  echo "  llama-bench is on the PATH: run it on GGUF files of these shapes to compare (the engine does not read GGUF)"
fi
echo "  baseline: the LibTorch eager loop (LlamaForCausalLM::forward_cached, torch::linear) in the same process"
printf '  %-5s %-5s %-7s %10s %12s %14s %9s\n' shape format threads tokens/s "eager tok/s" "bound tok/s" "of bound"
declare -A tok
for shape in 20m 162m; do
  for t in 1 2; do
    for f in f32 int8; do
      extra=()
      [ "$f" = f32 ] && extra=(--baseline)
      line=$("$dec" --shape "$shape" --format "$f" --threads "$t" --tokens 128 "${extra[@]}")
      ts=$(sed -nE 's/.* tok_s=([0-9.]+).*/\1/p' <<< "$line")
      mb=$(sed -nE 's/.*weight_mb=([0-9.]+).*/\1/p' <<< "$line")
      eager=$(sed -nE 's/.*eager_tok_s=([0-9.]+).*/\1/p' <<< "$line")
      bound=$(awk -v b="${bw[$t]}" -v m="$mb" 'BEGIN { printf "%.1f", b * 1000 / m }')
      printf '  %-5s %-5s %-7s %10s %12s %14s %8.0f%%\n' "$shape" "$f" "$t" "$ts" "${eager:--}" "$bound" \
        "$(awk -v a="$ts" -v b="$bound" 'BEGIN { print 100 * a / b }')"
      tok[$shape,$f,$t]=$ts
    done
  done
done
for f in bf16 int4; do
  line=$("$dec" --shape 20m --format "$f" --threads 1 --tokens 128)
  echo "  20m   $f  1       $(sed -nE 's/.* tok_s=([0-9.]+).*/\1/p' <<< "$line") tokens/s ($(sed -nE 's/.*weight_mb=([0-9.]+).*/\1/p' <<< "$line") MB of weights per token)"
done
echo "  batched decode, 20m f32, 1 thread (tokens/s over all sequences):"
for b in 1 8 32; do
  echo "    batch $b: $("$dec" --shape 20m --format f32 --threads 1 --tokens 128 --batch "$b" | sed -nE 's/.* tok_s=([0-9.]+).*/\1/p')"
done

echo
echo "== serving the small preset ($cores threads), report-shaped requests"
"$serve" --concurrency 1,8,32,64 --tokens 128 | tee "${TMPDIR:-/tmp}/engine_serve.$$"
speedup=$(sed -nE 's/.*speedup_at_32=([0-9.]+).*/\1/p' "${TMPDIR:-/tmp}/engine_serve.$$")
rm -f "${TMPDIR:-/tmp}/engine_serve.$$"
echo "  with oneDNN's bf16 GEMM for steps of 16+ rows (outputs close to, not identical with, the reference):"
"$serve" --concurrency 32 --tokens 128 --bf16-gemm 16 | grep -E "^concurrency|speedup"

echo
echo "== a tiny model trained here ($steps steps): speculative decoding and quantization"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --log-level warn synth --out "$tmp/c" --encounters 240 --seed 11 --no-speech --image-size 128 > /dev/null
"$bin" --home "$tmp/home" --log-level warn ingest --dicom "$tmp/c/dicom" --fhir "$tmp/c/fhir" --out "$tmp/d" \
  --image-size 128 --no-warehouse > /dev/null || [ $? -eq 3 ]
"$bin" tokenizer train --dataset "$tmp/d" --vocab 2000 --out "$tmp/tok" > /dev/null
"$bin" train --dataset "$tmp/d" --tokenizer "$tmp/tok" --no-dictation --config tiny --out "$tmp/run" --max-steps "$steps" \
  --batch-size 4 --checkpoint-every "$steps" --eval-every 1000000 --lr 2e-3 --warmup 20 > /dev/null 2> "$tmp/train.err" \
  || { cat "$tmp/train.err"; exit 1; }
"$bin" --home "$tmp/home" registry register --run "$tmp/run" --name bench > /dev/null
gen() { "$bin" --home "$tmp/home" generate --model bench --dataset "$tmp/d" --split test --count 20 --threads 1 "$@"; }
gen > "$tmp/spec.txt" 2> "$tmp/spec.err"
gen --no-speculative > "$tmp/plain.txt" 2> "$tmp/plain.err"
spec_tps=$(sed -nE 's/.* ([0-9.]+) tokens\/s after it.*/\1/p' "$tmp/spec.err")
plain_tps=$(sed -nE 's/.* ([0-9.]+) tokens\/s after it.*/\1/p' "$tmp/plain.err")
read -r acc drafted ver <<< "$(sed -nE 's/.*speculative: ([0-9]+) of ([0-9]+) drafted tokens accepted in ([0-9]+) verifications.*/\1 \2 \3/p' "$tmp/spec.err")"
same=no
cmp -s "$tmp/spec.txt" "$tmp/plain.txt" && same=yes
spec_speedup=$(awk -v a="$spec_tps" -v b="$plain_tps" 'BEGIN { printf "%.2f", a / b }')
echo "  20 test reports one after another (batch 1, 1 thread): $spec_tps tokens/s with n-gram drafts vs $plain_tps without (${spec_speedup}x)"
echo "  drafts: $acc of $drafted accepted, $(awk -v a="$acc" -v v="$ver" 'BEGIN { printf "%.2f", (a + v) / v }') tokens per verification step; identical output: $same"
# A draft model: one decoder layer of width 64, trained the same way.
cat > "$tmp/draft.json" <<'JSON'
{"name": "draft", "vision": {"type": "vit", "image_size": 128, "channels": 1, "patch_size": 16, "hidden_size": 64,
 "layers": 1, "heads": 4, "mlp_ratio": 2}, "projector": {"hidden_size": 64, "pool": true},
 "decoder": {"vocab_size": 2000, "hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 1,
 "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 1024, "rope_theta": 10000,
 "rms_norm_eps": 1e-5, "tie_word_embeddings": true}}
JSON
"$bin" train --dataset "$tmp/d" --tokenizer "$tmp/tok" --no-dictation --config "$tmp/draft.json" --out "$tmp/draft" --max-steps "$steps" \
  --batch-size 4 --checkpoint-every "$steps" --eval-every 1000000 --lr 2e-3 --warmup 20 > /dev/null 2> "$tmp/draft.err" \
  || { cat "$tmp/draft.err"; exit 1; }
gen --draft-model "$tmp/draft/model" > "$tmp/drafted.txt" 2> "$tmp/drafted.err"
draft_tps=$(sed -nE 's/.* ([0-9.]+) tokens\/s after it.*/\1/p' "$tmp/drafted.err")
read -r dacc ddrafted dver <<< "$(sed -nE 's/.*speculative: ([0-9]+) of ([0-9]+) drafted tokens accepted in ([0-9]+) verifications.*/\1 \2 \3/p' "$tmp/drafted.err")"
dsame=no
cmp -s "$tmp/drafted.txt" "$tmp/plain.txt" && dsame=yes
echo "  with a draft model (1 layer, width 64) after the n-grams: $draft_tps tokens/s ($(awk -v a="$draft_tps" -v b="$plain_tps" 'BEGIN { printf "%.2f", a / b }')x), $dacc of $ddrafted drafts accepted, $(awk -v a="$dacc" -v v="$dver" 'BEGIN { printf "%.2f", (a + v) / v }') tokens per verification; identical output: $dsame"
for f in int8 int4; do
  "$bin" --home "$tmp/home" quantize --model bench --format "$f" --out "bench-$f" --dataset "$tmp/d" --split test --limit 20 \
    > "$tmp/q-$f.txt" 2> /dev/null
done
echo "  quantization (greedy reports for 20 test samples, clinical micro-F1 against the references):"
grep -E "^format" "$tmp/q-int8.txt" | sed 's/^/    /'
grep -E "^f32 " "$tmp/q-int8.txt" | sed 's/^/    /'
for f in int8 int4; do grep -E "^$f " "$tmp/q-$f.txt" | sed 's/^/    /'; done
echo "batch1_tok_s_f32=${tok[20m,f32,1]} batch1_tok_s_int8=${tok[20m,int8,1]} batch1_tok_s_int8_162m=${tok[162m,int8,1]} speedup_at_32=$speedup spec_speedup=$spec_speedup"
