#!/usr/bin/env bash
# `medscribe asr adapt`: a model adapted to the voices of one synthesized cohort (MAP and MLLR)
# transcribes the dictations of another with fewer word errors than the unadapted model; the model
# directory is complete and says what was done; bad input is refused with a clear message.
# Usage: asr_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
ms() { "$bin" --log-level warn "$@"; }

ms synth --out "$work/adapt" --encounters 40 --seed 3 --image-size 64 > /dev/null \
  && ms synth --out "$work/test" --encounters 12 --seed 4 --image-size 64 > /dev/null \
  || { fail "synth"; finish; exit; }
ms asr build-lm --corpus "$work/adapt/transcripts/dictations.txt" --out "$work/lm.arpa" > /dev/null \
  || fail "build-lm"

for method in map mllr; do
  ms asr adapt --cohort "$work/adapt" --lm "$work/lm.arpa" --method $method --out "$work/am-$method" \
    > "$work/adapt-$method.txt" 2>&1
  rc=$?
  aligned=$(python3 -c "import json; print(json.load(open('$work/am-$method/adapt.json'))['aligned'])" 2>/dev/null)
  [ $rc -eq 0 ] && [ "${aligned:-0}" -ge 20 ] && grep -q "$method adaptation from" "$work/adapt-$method.txt" \
    && pass "adapt --method $method: $(grep "adaptation from" "$work/adapt-$method.txt")" \
    || fail "adapt --method $method (exit $rc): $(cat "$work/adapt-$method.txt")"
done
for f in mdef feat.params noisedict means variances mixture_weights transition_matrices; do
  [ -s "$work/am-map/$f" ] || fail "MAP model lacks $f"
done
[ -s "$work/am-mllr/mllr_matrix" ] && [ -s "$work/am-mllr/sendump" ] && [ ! -e "$work/am-map/mllr_matrix" ] \
  && pass "MLLR model: the base model with its transform" || fail "MLLR model files: $(ls "$work/am-mllr")"
[ -z "$(ls -A "$work/am-map" | grep -E '^\.')" ] && pass "no work files left behind" || fail "left: $(ls -A "$work/am-map")"

# Word error rate of the test cohort's dictations (reference texts from its truth, for scoring).
wer() {  # TRANSCRIPTS_TSV -> WER
  python3 - "$work/test/truth/labels.jsonl" "$1" <<'PY'
import json, re, sys
ref = {j["encounter_id"]: j["dictation_text"] for j in map(json.loads, open(sys.argv[1]))}
def words(t): return re.findall(r"[a-z']+", t.lower())
def dist(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
    return d[len(b)]
errors = total = 0
for line in open(sys.argv[2]):
    path, _, hyp = line.rstrip("\n").partition("\t")
    r = words(ref[re.search(r"(enc-\d+)\.wav", path).group(1)])
    errors += dist(r, words(hyp)); total += len(r)
print(f"{errors / total:.3f}")
PY
}
ms asr transcribe --lm "$work/lm.arpa" "$work"/test/audio/*.wav > "$work/base.tsv" 2> "$work/base.err" \
  || fail "transcribe: $(cat "$work/base.err")"
ms asr transcribe --lm "$work/lm.arpa" --acoustic-model "$work/am-map" "$work"/test/audio/*.wav \
  > "$work/map.tsv" 2> "$work/map.err" || fail "transcribe --acoustic-model: $(cat "$work/map.err")"
ms asr transcribe --lm "$work/lm.arpa" --acoustic-model "$work/am-mllr" "$work"/test/audio/*.wav \
  > "$work/mllr.tsv" 2> "$work/mllr.err" || fail "transcribe --acoustic-model (mllr): $(cat "$work/mllr.err")"
base=$(wer "$work/base.tsv"); map=$(wer "$work/map.tsv"); mllr=$(wer "$work/mllr.tsv")
awk -v b="$base" -v m="$map" 'BEGIN { exit !(m < b && m <= 0.15) }' \
  && pass "MAP-adapted model: WER $map (unadapted $base) on $(wc -l < "$work/map.tsv") other dictations" \
  || fail "MAP-adapted WER $map, unadapted $base"
awk -v b="$base" -v m="$mllr" 'BEGIN { exit !(m < b) }' \
  && pass "MLLR-adapted model: WER $mllr (unadapted $base)" || fail "MLLR-adapted WER $mllr, unadapted $base"

# Bad input.
ms asr adapt --cohort "$work/adapt" --transcripts x.jsonl --out "$work/x" > "$work/both.txt" 2>&1
[ $? -eq 2 ] && grep -q "one of --cohort DIR or --transcripts FILE" "$work/both.txt" \
  && pass "both sources: exit 2" || fail "both sources: $(cat "$work/both.txt")"
ms synth --out "$work/silent" --encounters 3 --seed 5 --image-size 64 --no-speech > /dev/null
ms asr adapt --cohort "$work/silent" --out "$work/x" > "$work/silent.txt" 2>&1
[ $? -eq 2 ] && grep -q "no-speech" "$work/silent.txt" && pass "cohort without speech: $(cat "$work/silent.txt")" \
  || fail "cohort without speech: $(cat "$work/silent.txt")"
printf '{"audio": "a.wav"}\n' > "$work/bad.jsonl"
ms asr adapt --transcripts "$work/bad.jsonl" --out "$work/x" > "$work/bad.txt" 2>&1
[ $? -eq 2 ] && grep -q 'bad.jsonl:1: needs "audio" and "text"' "$work/bad.txt" \
  && pass "transcript list without text: $(cat "$work/bad.txt")" || fail "bad list: $(cat "$work/bad.txt")"
ms asr adapt --cohort "$work/adapt" --lm "$work/lm.arpa" --out "$work/am-map" > "$work/again.txt" 2>&1
[ $? -ne 0 ] && grep -qi "force" "$work/again.txt" && [ -s "$work/am-map/means" ] \
  && pass "existing output kept without --force" || fail "existing output: $(cat "$work/again.txt")"
[ ! -e "$work/x" ] && pass "nothing written on error" || fail "$work/x exists"
finish
