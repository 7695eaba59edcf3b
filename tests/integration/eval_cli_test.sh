#!/usr/bin/env bash
# The evaluation as a user runs it:
#   1. the labeler against the truth of a 1,000-encounter cohort: micro-F1 >= 0.98 and macro-F1
#      >= 0.95 over the classes present, the absent classes named; truth of another generator
#      version or a missing file refused with the reason;
#   2. the ablations: `train --no-image` and `--no-dictation` train, validate, checkpoint,
#      resume (a resume with other inputs is refused), register and evaluate beside the full
#      model, with the baselines and the perfect image reader in one table, written next to the
#      model in the registry; a model of the wrong kind as an ablation row is refused;
#   3. a dataset without dictation and no --no-dictation: a clear error naming the dictation.
# Usage: eval_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }

# 1. The labeler against the truth.
ms --log-level warn synth --out "$work/big" --encounters 1000 --seed 21 --no-speech --image-size 64 > /dev/null \
  || { fail "synth 1000"; finish; exit 1; }
ms eval --truth "$work/big/truth/labels.jsonl" > "$work/labeler.txt" 2>&1 || fail "eval --truth: $(cat "$work/labeler.txt")"
line=$(grep "^labeler_micro_f1=" "$work/labeler.txt")
micro=$(sed -E 's/.*labeler_micro_f1=([0-9.]+).*/\1/' <<< "$line")
macro=$(sed -E 's/.*labeler_macro_f1=([0-9.]+).*/\1/' <<< "$line")
awk -v a="$micro" -v b="$macro" 'BEGIN { exit !(a >= 0.98 && b >= 0.95) }' \
  && pass "labeler vs truth on 1,000 reports: micro-F1 $micro, macro-F1 $macro" \
  || { fail "labeler vs truth: micro $micro macro $macro"; cat "$work/labeler.txt"; }
grep -q "Pleural Other .*not present in this cohort" "$work/labeler.txt" && grep -q "classes_used=12" "$work/labeler.txt" \
  && pass "classes the generator never produces are named and left out of macro-F1" || fail "absent classes not reported"
sed 's/"generator":"medscribe-synth 2",//' "$work/big/truth/labels.jsonl" > "$work/old.jsonl"
ms eval --truth "$work/old.jsonl" > /dev/null 2> "$work/old.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "re-synthesize" "$work/old.txt" && pass "truth of another generator: refused ($(head -c 90 "$work/old.txt")...)" \
  || fail "old truth: exit $rc $(cat "$work/old.txt")"
ms eval --truth "$work/nothing.jsonl" > /dev/null 2> "$work/none.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "cannot open the truth file" "$work/none.txt" && pass "missing truth file: exit 2" || fail "missing truth: exit $rc"
ms eval --model m --dataset "$work" --reading-views 12 > /dev/null 2> "$work/views.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "reading-views must be between 1 and 9" "$work/views.txt" \
  && pass "--reading-views out of range: exit 2" || fail "--reading-views 12: exit $rc $(cat "$work/views.txt")"

# 2. Ablations on a cohort with dictation.
ms --log-level warn synth --out "$work/c" --encounters 60 --seed 22 --image-size 64 > /dev/null || { fail "synth"; finish; exit 1; }
ms --log-level warn ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --audio "$work/c/audio" --out "$work/d" \
  --image-size 64 --split 0.6,0.2,0.2 --no-warehouse > /dev/null
[ -f "$work/d/manifest.json" ] || { fail "ingest"; finish; exit 1; }
ms tokenizer train --dataset "$work/d" --vocab 600 --out "$work/tok" > /dev/null || { fail "tokenizer"; finish; exit 1; }
common=(--dataset "$work/d" --tokenizer "$work/tok" --config tiny --batch-size 4 --lr 3e-3 --warmup 5
        --checkpoint-every 10 --eval-every 10)
for kind in full no-image no-dictation; do
  flag=(); [ "$kind" != full ] && flag=(--$kind)
  ms train "${common[@]}" "${flag[@]}" --max-steps 20 --out "$work/run-$kind" > "$work/train-$kind.txt" 2>&1 \
    && grep -q '"val_loss"' "$work/run-$kind/metrics.jsonl" && [ -f "$work/run-$kind/checkpoints/latest" ] \
    && pass "train $kind: validated, checkpointed" || fail "train $kind: $(tail -3 "$work/train-$kind.txt")"
done
ms train "${common[@]}" --no-image --max-steps 30 --out "$work/run-no-image" > "$work/resume.txt" 2>&1 \
  && grep -q "resumed at step 20" "$work/resume.txt" && pass "--no-image resumes at step 20" || fail "resume: $(tail -3 "$work/resume.txt")"
ms train "${common[@]}" --max-steps 40 --out "$work/run-no-image" > /dev/null 2> "$work/mixed.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "without the image" "$work/mixed.txt" && pass "resuming an image ablation with the image: refused" \
  || fail "mixed resume: exit $rc $(cat "$work/mixed.txt")"
for kind in full no-image no-dictation; do
  ms registry register --run "$work/run-$kind" --name "chest-$kind" > /dev/null || fail "register $kind"
done
# The de-identification key ingest created in this home joins the dataset with the truth.
ms eval --model chest-full --no-image-model chest-no-image --no-dictation-model chest-no-dictation \
  --dataset "$work/d" --truth "$work/c/truth/labels.jsonl" --bootstrap 50 --reports "$work/reports" \
  > "$work/eval.txt" 2> "$work/eval.err" || fail "eval with ablations: $(tail -3 "$work/eval.err")"
n_ref=$(ls "$work/reports/reference" 2>/dev/null | wc -l)
[ "$n_ref" -gt 0 ] && for d in model no_image no_dictation; do [ "$(ls "$work/reports/$d" | wc -l)" = "$n_ref" ] || n_ref=0; done
[ "$n_ref" -gt 0 ] && grep -q "IMPRESSION" "$work/reports/reference/$(ls "$work/reports/reference" | head -1)" \
  && pass "eval --reports: $n_ref references and each row's reports written" || fail "eval --reports: $(ls -R "$work/reports" | head)"
for row in "model (chest-full)" "ablation: without the image" "ablation: without the dictation" \
           "baseline: record only" "baseline: nearest-neighbour" "truth-label report"; do
  grep -q "$row" "$work/eval.txt" || fail "eval table lacks '$row'"
done
grep -qE "^micro_f1=.* no_image_micro_f1=.* no_dictation_micro_f1=.* record_only_micro_f1=.* truth_report_micro_f1=1" "$work/eval.txt" \
  && pass "one table: model, both ablations, baselines, perfect reader ($(tail -1 "$work/eval.txt"))" \
  || { fail "eval headline"; cat "$work/eval.txt"; }
json=$(ls "$home"/registry/models/chest-full/1/evaluations/*-test.json 2>/dev/null | head -1)
[ -n "$json" ] && grep -q '"f1_micro_14"' "$json" && grep -q '"no_image"' "$json" \
  && pass "evaluation written next to the model: ${json#$home/}" || fail "no evaluation JSON in the registry"
ms registry verify chest-full > /dev/null && pass "the registered model still verifies" || fail "registry verify after eval"
# An ablation model scored on its own gets the inputs it was trained with: its row's figure.
ablation=$(sed -nE 's/.* no_image_micro_f1=([0-9.]+).*/\1/p' "$work/eval.txt")
alone=$(ms eval --model chest-no-image --dataset "$work/d" --bootstrap 20 2> /dev/null | sed -nE 's/^micro_f1=([0-9.]+).*/\1/p')
[ -n "$alone" ] && [ "$alone" = "$ablation" ] && pass "the image ablation scored alone: micro-F1 $alone, as in its row" \
  || fail "ablation alone: '$alone' vs its row '$ablation'"
ms eval --model chest-full --no-image-model chest-full --dataset "$work/d" > /dev/null 2> "$work/wrong.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "trained with the image" "$work/wrong.txt" && pass "a full model as the image ablation: refused" \
  || fail "wrong ablation: exit $rc $(cat "$work/wrong.txt")"
ms eval --model chest-full --dataset "$work/d" --truth "$work/big/truth/labels.jsonl" > /dev/null 2> "$work/other.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "another cohort" "$work/other.txt" && pass "truth of another cohort: refused" \
  || fail "other cohort's truth: exit $rc $(cat "$work/other.txt")"

# 3. No dictation in the dataset.
ms --log-level warn ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d-silent" --image-size 64 \
  --no-warehouse > /dev/null
ms train --dataset "$work/d-silent" --tokenizer "$work/tok" --config tiny --max-steps 5 --out "$work/silent" > /dev/null 2> "$work/silent.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "no dictation transcripts" "$work/silent.txt" && grep -q -- "--no-dictation" "$work/silent.txt" \
  && pass "no dictation in the dataset: $(head -c 100 "$work/silent.txt")..." || fail "silent dataset: exit $rc $(cat "$work/silent.txt")"
finish
