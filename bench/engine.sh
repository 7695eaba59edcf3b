#!/usr/bin/env bash
# Inference engine figures on this machine's CPUs, each beside its baseline from the same run:
#   1. prompt processing (128 tokens) and batch-1 decode (128 tokens) of LLaMA shapes (20M:
#      d=384, 6 layers, ff 1536, vocab 8000; 162M: d=768, 12 layers, ff 3072, vocab 32000; random
#      weights) in f32, int8 and int4 on 1 and 2 threads, beside llama.cpp on the same weights
#      written as GGUF f32, q8_0 and q4_0 (node-llama-cpp's prebuilt binaries, bench/
#      llama_anchor.mjs), the LibTorch eager KV-cached loop and the memory-bandwidth bound
#      (weight bytes per token over the measured read bandwidth);
#   2. serving the `small` preset (random weights): 1, 8, 32, 64 concurrent report requests
#      against the same requests one after another; KV bytes per live token; time to first
#      token of a repeated study with and without the prefix and encoder caches;
#   3. on a `tiny` model trained here: speculative decoding with n-gram drafts and with a draft
#      model trained here too (acceptance, speedup, identical output) and int8 / int4
#      quantization (file bytes, clinical micro-F1 against f32);
#   4. with QUALITY_DIR=DIR of a kept `scripts/bench.sh quality` run: speculative decoding on its
#      quality-preset model (QUALITY_MODEL, default quality-full), which spec_speedup then reports
#      (spec_speedup_tiny: item 3's).
# Usage: [QUALITY_DIR=DIR] scripts/bench.sh engine [TRAIN_STEPS]   (default 400; about 15 minutes
# on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin/medscribe
dec=build/release/bin/engine_decode
serve=build/release/bin/engine_serve
steps="${1:-400}"
cores=$(nproc)

# The larger of two numbers (figures are best-of: noise on a shared machine only slows).
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }'; }
echo "== memory read bandwidth (AVX-512 sum over 1 GiB, the best of 3)"
declare -A bw
for t in 1 2; do
  for r in 1 2 3; do
    bw[$t]=$(max "${bw[$t]:-}" "$("$dec" --bandwidth --threads "$t" | sed -nE 's/.*gb_s=([0-9.]+).*/\1/p')")
  done
  echo "  $t thread(s): ${bw[$t]} GB/s"
done

echo
echo "== llama.cpp and the engine on the same random weights: prompt processing of 128 tokens and"
echo "   batch-1 decode of 128 tokens, each the best of 6 in two rounds that alternate the engine and"
echo "   llama.cpp, so a slow spell of the machine falls on both (llama.cpp: node-llama-cpp's prebuilt CPU"
echo "   binaries on GGUF files the engine's drivers write from the same seed; engine int8/int4"
echo "   against llama.cpp q8_0/q4_0, the same weights each quantized in its own format)"
llama_modules="${MEDSCRIBE_LLAMA_NPM:-${XDG_CACHE_HOME:-$HOME/.cache}/medscribe/llama}/node_modules"
have_llama=0
[ -d "$llama_modules/node-llama-cpp" ] && command -v node > /dev/null && have_llama=1
[ $have_llama -eq 1 ] || echo "  node-llama-cpp is not installed at $llama_modules (scripts/bootstrap.sh installs it): engine figures only"
# node-llama-cpp runs each evaluation on libuv's thread pool; with its default four threads the
# pool's other threads compete with llama.cpp's compute threads for 2 cores (20M f32 decode at 2
# threads: 91 tokens/s with four, 468 with one; 1 thread: 241 vs 321). One pool thread keeps
# the anchor at its own speed.
export UV_THREADPOOL_SIZE=1
gguf_dir=$(mktemp -d)
trap 'rm -rf "$gguf_dir"' EXIT
printf '  %-5s %-10s %-3s %9s %9s %6s   %9s %9s %6s %9s %9s %9s\n' shape type thr "pp ours" "pp llama" ratio \
  "tg ours" "tg llama" ratio "eager tg" "bound tg" "of bound"
declare -A tok ratio frac
for shape in 20m 162m; do
  for pair in f32:f32 int8:q8_0 int4:q4_0; do
    f=${pair%%:*}; g=${pair##*:}
    [ $have_llama -eq 1 ] && "$dec" --shape "$shape" --gguf "$gguf_dir/$shape-$g.gguf" --gguf-type "$g" > /dev/null
    for t in 1 2; do
      extra=()
      [ "$f" = f32 ] && extra=(--baseline)
      ts=; pp=; eager=; lts=; lpp=
      for round in 1 2; do
        line=$("$dec" --shape "$shape" --format "$f" --threads "$t" --tokens 128 --prompt 128 --reps 3 "${extra[@]}")
        ts=$(max "$ts" "$(sed -nE 's/.* tok_s=([0-9.]+).*/\1/p' <<< "$line")")
        pp=$(max "$pp" "$(sed -nE 's/.*pp_tok_s=([0-9.]+).*/\1/p' <<< "$line")")
        mb=$(sed -nE 's/.*weight_mb=([0-9.]+).*/\1/p' <<< "$line")
        eager=$(max "$eager" "$(sed -nE 's/.*eager_tok_s=([0-9.]+).*/\1/p' <<< "$line")")
        extra=()  # the eager loop is a reference figure: one round
        if [ $have_llama -eq 1 ]; then
          lline=$(node bench/llama_anchor.mjs "$llama_modules" "$gguf_dir/$shape-$g.gguf" "$t" 128 128 3)
          lpp=$(max "$lpp" "$(sed -nE 's/.*pp_tok_s=([0-9.]+).*/\1/p' <<< "$lline")")
          lts=$(max "$lts" "$(sed -nE 's/.* tok_s=([0-9.]+).*/\1/p' <<< "$lline")")
        fi
      done
      bound=$(awk -v b="${bw[$t]}" -v m="$mb" 'BEGIN { printf "%.1f", b * 1000 / m }')
      rpp=-; rts=-
      [ -n "$lpp" ] || lpp=-
      [ -n "$lts" ] || lts=-
      if [ $have_llama -eq 1 ]; then
        rpp=$(awk -v a="$pp" -v b="$lpp" 'BEGIN { printf "%.2f", a / b }')
        rts=$(awk -v a="$ts" -v b="$lts" 'BEGIN { printf "%.2f", a / b }')
      fi
      fr=$(awk -v a="$ts" -v b="$bound" 'BEGIN { printf "%.2f", a / b }')
      printf '  %-5s %-10s %-3s %9s %9s %6s   %9s %9s %6s %9s %9s %8.0f%%\n' "$shape" "$f/$g" "$t" "$pp" "$lpp" "$rpp" \
        "$ts" "$lts" "$rts" "${eager:--}" "$bound" "$(awk -v f="$fr" 'BEGIN { print 100 * f }')"
      tok[$shape,$f,$t]=$ts; ratio[$shape,$f,$t]=$rts; ratio[pp,$shape,$f,$t]=$rpp; frac[$shape,$f,$t]=$fr
    done
  done
done
rm -rf "$gguf_dir"
# The smallest ratio of any cell, prompt processing and decode alike.
decode_ratio_min=-; pp_ratio_min=-
if [ $have_llama -eq 1 ]; then
  decode_ratio_min=$(for k in "${!ratio[@]}"; do if [[ $k != pp,* ]]; then echo "${ratio[$k]}"; fi; done | sort -g | awk 'NR == 1')
  pp_ratio_min=$(for k in "${!ratio[@]}"; do if [[ $k == pp,* ]]; then echo "${ratio[$k]}"; fi; done | sort -g | awk 'NR == 1')
fi
echo "  ratio: ours / llama.cpp (above 1: the engine is faster); bound: read bandwidth / weight bytes per token"
for f in bf16; do
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
read -r e_req e_tok e_p50 e_p99 <<< "$(sed -nE 's/^concurrency 32: +([0-9.]+) req\/s +([0-9.]+) tok\/s +TTFT p50 +([0-9.]+) p99 +([0-9.]+) ms.*/\1 \2 \3 \4/p' "${TMPDIR:-/tmp}/engine_serve.$$")"
rm -f "${TMPDIR:-/tmp}/engine_serve.$$"
concurrent_ratio=-
if [ $have_llama -eq 1 ] && [ -n "$e_tok" ]; then
  serve_dir=$(mktemp -d)
  "$serve" --gguf "$serve_dir/small.gguf" --requests-out "$serve_dir/requests.json" --concurrency 32 --tokens 128 > /dev/null
  # Two rounds alternating llama.cpp and the engine; each side keeps its faster round (with that
  # round's times to first token), so a slow spell of the machine falls on both.
  l_tok=
  for round in 1 2; do
    lline=$(node bench/llama_serve.mjs "$llama_modules" "$serve_dir/small.gguf" "$serve_dir/requests.json" "$cores" 128)
    t=$(sed -nE 's/.* tok_s=([0-9.]+).*/\1/p' <<< "$lline")
    if [ -z "$l_tok" ] || awk -v a="$t" -v b="$l_tok" 'BEGIN { exit !(a + 0 > b + 0) }'; then
      l_tok=$t
      l_req=$(sed -nE 's/.*req_s=([0-9.]+).*/\1/p' <<< "$lline")
      l_p50=$(sed -nE 's/.*ttft_p50_ms=([0-9.]+).*/\1/p' <<< "$lline"); l_p99=$(sed -nE 's/.*ttft_p99_ms=([0-9.]+).*/\1/p' <<< "$lline")
    fi
    [ $round -eq 2 ] && break
    read -r r_req r_tok r_p50 r_p99 <<< "$("$serve" --concurrency 32 --tokens 128 | sed -nE 's/^concurrency 32: +([0-9.]+) req\/s +([0-9.]+) tok\/s +TTFT p50 +([0-9.]+) p99 +([0-9.]+) ms.*/\1 \2 \3 \4/p')"
    if awk -v a="$r_tok" -v b="$e_tok" 'BEGIN { exit !(a + 0 > b + 0) }'; then
      e_req=$r_req; e_tok=$r_tok; e_p50=$r_p50; e_p99=$r_p99
    fi
  done
  rm -rf "$serve_dir"
  concurrent_ratio=$(awk -v a="$e_tok" -v b="$l_tok" 'BEGIN { printf "%.2f", a / b }')
  echo "  the same 32 requests in llama.cpp (one context, 32 sequences, $cores threads; the image's positions as text"
  echo "  tokens, so llama.cpp runs no vision encoder), f32 weights of the same seed; each side's faster of two"
  echo "  alternating rounds:"
  printf '    %-10s %8s %9s %12s %12s\n' "" "req/s" "tok/s" "TTFT p50 ms" "TTFT p99 ms"
  printf '    %-10s %8s %9s %12s %12s\n' engine "$e_req" "$e_tok" "$e_p50" "$e_p99"
  printf '    %-10s %8s %9s %12s %12s\n' llama.cpp "$l_req" "$l_tok" "$l_p50" "$l_p99"
  echo "    throughput ratio (engine / llama.cpp): ${concurrent_ratio}x"
fi
echo "  with oneDNN's bf16 GEMM for steps of 16+ rows (outputs close to, not identical with, the reference):"
"$serve" --concurrency 32 --tokens 128 --bf16-gemm 16 | grep -E "^concurrency|speedup"

echo
echo "== a tiny model trained here ($steps steps): speculative decoding and quantization"
tmp=$(mktemp -d)
trap 'rm -rf "$gguf_dir" "$tmp"' EXIT
"$bin" --log-level warn synth --out "$tmp/c" --encounters 240 --seed 11 --no-speech --image-size 128 > /dev/null
"$bin" --home "$tmp/home" --log-level warn ingest --dicom "$tmp/c/dicom" --fhir "$tmp/c/fhir" --out "$tmp/d" \
  --image-size 128 --no-warehouse > /dev/null || [ $? -eq 3 ]
"$bin" tokenizer train --dataset "$tmp/d" --vocab 2000 --out "$tmp/tok" > /dev/null
"$bin" train --dataset "$tmp/d" --tokenizer "$tmp/tok" --no-dictation --config tiny --out "$tmp/run" --max-steps "$steps" \
  --batch-size 4 --checkpoint-every "$steps" --eval-every 1000000 --lr 2e-3 --warmup 20 > /dev/null 2> "$tmp/train.err" \
  || { cat "$tmp/train.err"; exit 1; }
"$bin" --home "$tmp/home" registry register --run "$tmp/run" --name bench > /dev/null
gen() { "$bin" --home "$tmp/home" generate --model bench --dataset "$tmp/d" --split test --count 20 --threads 1 "$@"; }
# Speculative against plain decoding through the generator function $1, the drafted runs with
# the flags after it: two rounds alternating with and without drafts, the best of each (these
# reports take a second or two, so one slow spell of the machine would otherwise decide the
# ratio). Writes $tmp/$1.{spec,plain}.{txt,err}; sets spec_tps, plain_tps, acc, drafted, ver,
# same (identical output) and spec_ratio.
spec_vs_plain() {
  local g=$1 s= p=
  shift
  for round in 1 2; do
    "$g" "$@" > "$tmp/$g.spec.txt" 2> "$tmp/$g.spec.err" || { tail -3 "$tmp/$g.spec.err"; exit 1; }
    "$g" --no-speculative > "$tmp/$g.plain.txt" 2> "$tmp/$g.plain.err" || { tail -3 "$tmp/$g.plain.err"; exit 1; }
    s=$(max "$s" "$(sed -nE 's/.* ([0-9.]+) tokens\/s after it.*/\1/p' "$tmp/$g.spec.err")")
    p=$(max "$p" "$(sed -nE 's/.* ([0-9.]+) tokens\/s after it.*/\1/p' "$tmp/$g.plain.err")")
  done
  spec_tps=$s; plain_tps=$p
  read -r acc drafted ver <<< "$(sed -nE 's/.*speculative: ([0-9]+) of ([0-9]+) drafted tokens accepted in ([0-9]+) verifications.*/\1 \2 \3/p' "$tmp/$g.spec.err")"
  same=no
  cmp -s "$tmp/$g.spec.txt" "$tmp/$g.plain.txt" && same=yes
  spec_ratio=$(awk -v a="$s" -v b="$p" 'BEGIN { printf "%.2f", a / b }')
}
spec_vs_plain gen
spec_speedup=$spec_ratio
echo "  20 test reports one after another (batch 1, 1 thread; best of 2 alternating rounds): $spec_tps tokens/s with n-gram drafts vs $plain_tps without (${spec_speedup}x)"
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
cmp -s "$tmp/drafted.txt" "$tmp/gen.plain.txt" && dsame=yes
echo "  with a draft model (1 layer, width 64) after the n-grams: $draft_tps tokens/s ($(awk -v a="$draft_tps" -v b="$plain_tps" 'BEGIN { printf "%.2f", a / b }')x), $dacc of $ddrafted drafts accepted, $(awk -v a="$dacc" -v v="$dver" 'BEGIN { printf "%.2f", (a + v) / v }') tokens per verification; identical output: $dsame"
for f in int8 int4; do
  "$bin" --home "$tmp/home" quantize --model bench --format "$f" --out "bench-$f" --dataset "$tmp/d" --split test --limit 20 \
    > "$tmp/q-$f.txt" 2> /dev/null
done
echo "  quantization (greedy reports for 20 test samples, clinical micro-F1 against the references):"
grep -E "^format" "$tmp/q-int8.txt" | sed 's/^/    /'
grep -E "^f32 " "$tmp/q-int8.txt" | sed 's/^/    /'
for f in int8 int4; do grep -E "^$f " "$tmp/q-$f.txt" | sed 's/^/    /'; done

# Item: speculative decoding on the quality preset's model, where a kept quality run is at hand
# (QUALITY_DIR of `scripts/bench.sh quality`: its home and dataset; QUALITY_MODEL, default
# quality-full): 20 test reports at batch 1, with n-gram drafts seeded by the training split's
# reports against plain greedy decoding, in two alternating rounds.
spec_speedup_tiny=$spec_speedup
qmodel="${QUALITY_MODEL:-quality-full}"
if [ -n "${QUALITY_DIR:-}" ] && [ -f "$QUALITY_DIR/dataset/manifest.json" ]; then
  echo
  echo "== speculative decoding on $qmodel (the quality preset, from $QUALITY_DIR)"
  qgen() { "$bin" --home "$QUALITY_DIR/home" --log-level warn generate --model "$qmodel" \
    --dataset "$QUALITY_DIR/dataset" --split test --count 20 --threads 1 "$@"; }
  spec_vs_plain qgen --past-reports train
  spec_speedup=$spec_ratio
  echo "  20 test reports one after another (batch 1, 1 thread, f32; best of 2 alternating rounds): $spec_tps tokens/s with"
  echo "  n-gram drafts (prompt lookup and the training split's reports) vs $plain_tps without (${spec_speedup}x)"
  echo "  drafts: $acc of $drafted accepted, $(awk -v a="$acc" -v v="$ver" 'BEGIN { printf "%.2f", (a + v) / v }') tokens per verification step; identical output: $same"
else
  echo "  (no kept quality run: QUALITY_DIR=DIR of scripts/bench.sh quality measures speculative decoding on its"
  echo "  model; spec_speedup below is the tiny model's)"
fi
echo "decode_ratio_min=$decode_ratio_min pp_ratio_min=$pp_ratio_min concurrent_ratio=$concurrent_ratio decode_ratio_162m_int8_2t=${ratio[162m,int8,2]} bandwidth_fraction_162m_int8=${frac[162m,int8,2]} batch1_tok_s_f32=${tok[20m,f32,1]} batch1_tok_s_int8=${tok[20m,int8,1]} batch1_tok_s_int8_162m=${tok[162m,int8,1]} speedup_at_32=$speedup spec_speedup=$spec_speedup spec_speedup_tiny=$spec_speedup_tiny"
