#!/usr/bin/env bash
# End-to-end check of the discharge scenario's data and evaluation as a user would run them:
#   medscribe synth --kind inpatient --out X --encounters 300 --seed 3 --no-speech
#   medscribe discharge eval --cohort X [--drafts FILE] [--out FILE]
# The cohort has the documented layout, its FHIR is valid R4 with resolving references, a second
# run is byte-identical; the evaluation scores the signed summaries perfectly (the scorer's own
# check), ranks the baselines below them, scores a drafts file, and refuses bad input with exit 2.
# Usage: discharge_cli_test.sh MEDSCRIBE_BINARY TOOLS_DIR
bin="$1"
tools="$2"
n=300
source "$(dirname "$0")/lib.sh"

# 1. Synthesize.
if ! "$bin" --log-level warn synth --kind inpatient --out "$work/a" --encounters $n --seed 3 \
     --no-speech > "$work/summary.txt"; then
  fail "synth --kind inpatient exited non-zero"; cat "$work/summary.txt"; exit 1
fi
has "inpatient stays $n" "$work/summary.txt" && pass "summary printed" || fail "summary lacks the stay count"
for f in cohort.json truth/stays.jsonl fhir/Patient.ndjson fhir/Encounter.ndjson fhir/Condition.ndjson \
         fhir/AllergyIntolerance.ndjson fhir/Observation.ndjson fhir/MedicationRequest.ndjson \
         fhir/MedicationAdministration.ndjson fhir/Procedure.ndjson fhir/DiagnosticReport.ndjson \
         fhir/DocumentReference.ndjson; do
  [ -s "$work/a/$f" ] || fail "missing or empty $f"
done
[ "$(wc -l < "$work/a/truth/stays.jsonl")" -eq $n ] && pass "one truth line per stay" || fail "truth line count"
[ ! -e "$work/a/dicom" ] && [ ! -e "$work/a/audio" ] && pass "no dicom/ and, with --no-speech, no audio/" \
  || fail "unexpected dicom/ or audio/"
summaries=$(grep -c '"code":"18842-5"' "$work/a/fhir/DocumentReference.ndjson")
[ "$summaries" -eq $n ] && pass "$summaries signed discharge summaries" || fail "expected $n discharge summaries, found $summaries"

# 2. FHIR: valid R4 resources with resolving references (Medplum's R4 validator on Node >= 20.19).
if command -v node > /dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  if [ -d "$tools/node_modules/@medplum/core" ]; then
    if (cd "$tools" && node validate_fhir.mjs "$work"/a/fhir/*.ndjson) > "$work/fhir.txt" 2>&1; then
      pass "FHIR: $(tail -1 "$work/fhir.txt")"
    else
      fail "FHIR validation"; head -20 "$work/fhir.txt"
    fi
  else
    fail "FHIR validator not installed (run scripts/bootstrap.sh)"
  fi
else
  echo "note: FHIR R4 validation needs Node.js >= 20.19; skipped on $(node --version 2>/dev/null || echo 'no node')"
fi

# 3. Determinism.
"$bin" --log-level warn synth --kind inpatient --out "$work/b" --encounters $n --seed 3 --no-speech --jobs 1 > /dev/null \
  || fail "second run failed"
if diff -r "$work/a" "$work/b" > /dev/null; then pass "second run is byte-identical"; else fail "runs differ: $(diff -rq "$work/a" "$work/b" | head -3)"; fi
rm -rf "$work/b"

# 4. Evaluation: the signed summaries score perfectly, the baselines below them.
if ! "$bin" --log-level warn discharge eval --cohort "$work/a" --out "$work/scores.json" > "$work/eval.txt" 2>&1; then
  fail "discharge eval exited non-zero"; cat "$work/eval.txt"
fi
cat "$work/eval.txt"
python3 - "$work/scores.json" <<'PY' && pass "signed summary 1.000 everywhere, baselines below it" || fail "scores"
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
ref = rows["signed summary"]
assert ref["problem_coverage"]["value"] == 1 and ref["med_rec_f1"]["value"] == 1, ref
assert ref["unsupported_rate"] == 0 and ref["follow_up_completeness"] == 1, ref
for name in ("extractive", "retrieval"):
    b = rows[name]
    assert b["problem_coverage"]["value"] < 0.9 and b["med_rec_f1"]["value"] < 0.9, (name, b)
    assert b["problem_coverage"]["high"] >= b["problem_coverage"]["value"] >= b["problem_coverage"]["low"]
assert rows["extractive"]["problem_coverage"]["value"] < rows["retrieval"]["problem_coverage"]["value"]
PY

# 5. A drafts file: one stay's draft is its signed summary with a medication removed.
python3 - "$work/a" "$work/drafts.jsonl" <<'PY' || fail "could not write the drafts file"
import base64, json, sys, hashlib
root, out = sys.argv[1], sys.argv[2]
docs = {}
for line in open(f"{root}/fhir/DocumentReference.ndjson"):
    d = json.loads(line)
    if d["type"]["coding"][0]["code"] == "18842-5":
        docs[d["id"]] = base64.b64decode(d["content"][0]["attachment"]["data"]).decode()
with open(out, "w") as f:
    for line in open(f"{root}/truth/stays.jsonl"):
        t = json.loads(line)
        text = docs[t["summary_document"].split("/")[1]]
        drop = t["discharge_medications"][-1]["name"] if t["discharge_medications"] else None
        if drop:
            text = "\n".join(l for l in text.split("\n") if not (l.startswith("- " + drop)))
        f.write(json.dumps({"encounter_id": t["encounter_id"], "text": text}) + "\n")
PY
"$bin" --log-level warn discharge eval --cohort "$work/a" --drafts "$work/drafts.jsonl" --out "$work/drafts.json" > "$work/eval2.txt" 2>&1 \
  || { fail "eval with --drafts exited non-zero"; cat "$work/eval2.txt"; }
python3 - "$work/drafts.json" <<'PY' && pass "drafts scored: recall falls, precision stays" || fail "drafts scores"
import json, sys
d = json.load(open(sys.argv[1]))["rows"]["drafts"]
assert d["med_rec_precision"] == 1 and 0.5 < d["med_rec_recall"] < 1, d
assert d["problem_coverage"]["value"] == 1, d
PY

# 6. Bad input exits 2 with a message that says what to do.
"$bin" discharge eval > /dev/null 2> "$work/err.txt"; rc=$?
[ $rc -eq 2 ] && has -- "--cohort is required" "$work/err.txt" && pass "missing --cohort: exit 2" || fail "missing --cohort: rc=$rc $(cat "$work/err.txt")"
"$bin" --log-level warn synth --out "$work/rad" --encounters 3 --image-size 64 --no-speech > /dev/null
"$bin" discharge eval --cohort "$work/rad" > /dev/null 2> "$work/err.txt"; rc=$?
[ $rc -eq 2 ] && has "kind inpatient" "$work/err.txt" && pass "radiology cohort: exit 2 naming --kind inpatient" || fail "radiology cohort: rc=$rc $(cat "$work/err.txt")"
echo '{"encounter_id": 1}' > "$work/bad.jsonl"
"$bin" discharge eval --cohort "$work/a" --drafts "$work/bad.jsonl" > /dev/null 2> "$work/err.txt"; rc=$?
[ $rc -eq 2 ] && has "bad.jsonl:1" "$work/err.txt" && pass "malformed drafts: exit 2 naming the line" || fail "malformed drafts: rc=$rc $(cat "$work/err.txt")"
"$bin" synth --kind inpatient --out "$work/c" --encounters 5 --departments ED > /dev/null 2> "$work/err.txt"; rc=$?
[ $rc -eq 2 ] && [ ! -e "$work/c" ] && pass "radiology option with --kind inpatient: exit 2, nothing written" || fail "rc=$rc $(cat "$work/err.txt")"

# 7. The prompt of a stay: de-identified, tagged, within its limit.
first=$(head -1 "$work/a/truth/stays.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["encounter_id"])')
if "$bin" --home "$work/home" discharge prompt --cohort "$work/a" --stay "$first" --sources --max-chars 4000 \
     > "$work/prompt.txt" 2> "$work/prompt.err"; then
  head -1 "$work/prompt.txt" | has -x "<discharge>" && has -x "<summary>" "$work/prompt.txt" \
    && pass "prompt from <discharge> to <summary>" || fail "prompt shape: $(head -3 "$work/prompt.txt")"
  has -E "^M1	MedicationRequest/" "$work/prompt.txt" && pass "source tags name their resources" || fail "no source map"
  python3 - "$work/a/truth/stays.jsonl" "$work/prompt.txt" <<'PY' && pass "no PHI of the stay in its prompt" || fail "PHI in the prompt"
import json, sys
truth = json.loads(open(sys.argv[1]).readline())
text = open(sys.argv[2]).read()
prompt = text[: text.index("<summary>")]
assert len(prompt) <= 4000, len(prompt)
leaks = [p for p in truth["phi"] if len(p) > 3 and p in prompt]
assert not leaks, leaks
PY
else
  fail "discharge prompt exited non-zero: $(cat "$work/prompt.err")"
fi
"$bin" --home "$work/home" discharge prompt --cohort "$work/a" --stay nope > /dev/null 2> "$work/err.txt"; rc=$?
[ $rc -eq 2 ] && has "no inpatient stay 'nope'" "$work/err.txt" && pass "unknown stay: exit 2" || fail "unknown stay: rc=$rc $(cat "$work/err.txt")"

finish
