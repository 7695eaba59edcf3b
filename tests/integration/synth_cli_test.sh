#!/usr/bin/env bash
# End-to-end check of `medscribe synth` as a user would run it:
#   medscribe synth --out X --encounters 200 --seed 7
# writes the documented layout; every DICOM file is readable by dcmdump and passes dciodvfy
# without errors; every NDJSON line is a valid FHIR R4 resource and references resolve; every WAV
# is 16 kHz mono 16-bit; a second run with the same seed is byte-identical; bad options exit 2 and
# leave nothing behind.
# Usage: synth_cli_test.sh MEDSCRIBE_BINARY TOOLS_DIR
bin="$1"
tools="$2"
n="${SYNTH_TEST_ENCOUNTERS:-200}"
source "$(dirname "$0")/lib.sh"

# 1. Generate.
if ! "$bin" --log-level warn synth --out "$work/a" --encounters "$n" --seed 7 > "$work/summary.txt"; then
  fail "synth exited non-zero"; cat "$work/summary.txt"; exit 1
fi
grep -q "encounters $n" "$work/summary.txt" && pass "summary printed" || fail "summary lacks the encounter count"

# 2. Layout.
for f in cohort.json truth/labels.jsonl fhir/Patient.ndjson fhir/Encounter.ndjson fhir/ServiceRequest.ndjson \
         fhir/ImagingStudy.ndjson fhir/Observation.ndjson fhir/Condition.ndjson fhir/Procedure.ndjson \
         fhir/DocumentReference.ndjson fhir/DiagnosticReport.ndjson; do
  [ -s "$work/a/$f" ] || fail "missing or empty $f"
done
ndcm=$(find "$work/a/dicom" -mindepth 3 -maxdepth 3 -name '*.dcm' | wc -l)
nwav=$(find "$work/a/audio" -name 'enc-*.wav' | wc -l)
[ "$ndcm" -eq "$n" ] && pass "$ndcm DICOM files in dicom/<study>/<series>/<sop>.dcm" || fail "expected $n DICOM files, found $ndcm"
[ "$nwav" -eq "$n" ] && pass "$nwav WAV files" || fail "expected $n WAV files, found $nwav"
[ "$(wc -l < "$work/a/truth/labels.jsonl")" -eq "$n" ] && pass "one truth line per encounter" || fail "truth line count"

# 3. DICOM: every file parses with dcmdump and passes dciodvfy without errors; layout matches UIDs.
bad_dump=0; bad_iod=0; bad_path=0
while IFS= read -r f; do
  dcmdump -q "$f" > /dev/null 2>&1 || { bad_dump=$((bad_dump + 1)); echo "dcmdump failed: $f"; }
  errs=$(dciodvfy "$f" 2>&1 | grep -c '^Error') || true
  if [ "$errs" -ne 0 ]; then bad_iod=$((bad_iod + 1)); dciodvfy "$f" 2>&1 | grep '^Error' | head -3; fi
  study=$(dcmdump +P StudyInstanceUID "$f" | sed -E 's/.*\[([^]]*)\].*/\1/')
  series=$(dcmdump +P SeriesInstanceUID "$f" | sed -E 's/.*\[([^]]*)\].*/\1/')
  sop=$(dcmdump +P SOPInstanceUID "$f" | sed -E 's/.*\[([^]]*)\].*/\1/')
  [ "$f" = "$work/a/dicom/$study/$series/$sop.dcm" ] || bad_path=$((bad_path + 1))
done < <(find "$work/a/dicom" -name '*.dcm' | sort)
[ $bad_dump -eq 0 ] && pass "dcmdump reads every file" || fail "$bad_dump files unreadable by dcmdump"
[ $bad_iod -eq 0 ] && pass "dciodvfy: no errors in any file" || fail "$bad_iod files with dciodvfy errors"
[ $bad_path -eq 0 ] && pass "paths match Study/Series/SOP Instance UIDs" || fail "$bad_path files at the wrong path"
# All four transfer syntaxes and both photometric interpretations occur.
syntaxes=$(find "$work/a/dicom" -name '*.dcm' -exec dcmdump +P TransferSyntaxUID {} + | sed -E 's/.*=([A-Za-z]+).*/\1/' | sort -u | tr '\n' ' ')
for ts in LittleEndianExplicit JPEGLossless JPEGLSLossless RLELossless; do
  echo "$syntaxes" | has -w "$ts" || fail "no file in transfer syntax $ts (have: $syntaxes)"
done
photometric=$(find "$work/a/dicom" -name '*.dcm' -exec dcmdump +P PhotometricInterpretation {} + | grep -o 'MONOCHROME[12]' | sort -u | wc -l)
[ "$photometric" -eq 2 ] && pass "MONOCHROME1 and MONOCHROME2 both present" || fail "photometric interpretations: $photometric"

# 4. FHIR: valid R4 resources with resolving references (Medplum's R4 validator on Node >= 20.19).
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

# 5. Audio: 16 kHz, mono, 16-bit PCM.
bad_wav=0
while IFS= read -r w; do
  info="$(soxi -r "$w" 2>&1) $(soxi -c "$w" 2>&1) $(soxi -b "$w" 2>&1) $(soxi -e "$w" 2>&1)"
  [ "$info" = "16000 1 16 Signed Integer PCM" ] || { bad_wav=$((bad_wav + 1)); echo "bad WAV $w: $info"; }
done < <(find "$work/a/audio" -name '*.wav')
[ $bad_wav -eq 0 ] && pass "every WAV is 16 kHz mono 16-bit PCM" || fail "$bad_wav WAV files with the wrong format"

# 6. Determinism: a second run (one thread) is byte-identical.
"$bin" --log-level warn synth --out "$work/b" --encounters "$n" --seed 7 --jobs 1 > /dev/null || fail "second run failed"
if diff -r "$work/a" "$work/b" > /dev/null; then pass "second run with the same seed is byte-identical"; else fail "runs differ: $(diff -rq "$work/a" "$work/b" | head -3)"; fi
rm -rf "$work/b"

# 7. Bad input: exit code 2, a clear message, nothing half-written.
expect_usage_error() {
  local what="$1"; shift
  local out rc
  out=$("$bin" "$@" 2>&1); rc=$?
  if [ $rc -eq 2 ] && [ -n "$out" ]; then pass "$what -> exit 2: $(echo "$out" | head -1)"; else fail "$what -> exit $rc: $out"; fi
}
expect_usage_error "--encounters 0" synth --out "$work/z" --encounters 0
expect_usage_error "--encounters -3" synth --out "$work/z" --encounters -3
expect_usage_error "missing --out" synth --encounters 3
expect_usage_error "unknown voice" synth --out "$work/z" --encounters 2 --voice xx-no-such-voice
expect_usage_error "non-empty --out without --force" synth --out "$work/a" --encounters 2
touch "$work/plainfile"
expect_usage_error "unwritable --out" synth --out "$work/plainfile/sub" --encounters 2
expect_usage_error "unknown option" synth --out "$work/z" --encounters 2 --bogus
[ ! -e "$work/z" ] && pass "nothing written by rejected runs" || fail "rejected run left $work/z"
[ "$(find "$work/a/dicom" -name '*.dcm' | wc -l)" -eq "$n" ] && pass "existing cohort untouched" || fail "existing cohort changed"
leftovers=$(find "$work" -maxdepth 1 -name '.*staging*' | wc -l)
[ "$leftovers" -eq 0 ] && pass "no staging directories left behind" || fail "$leftovers staging directories left"
"$bin" synth --help | has -- "--encounters" && pass "synth --help explains the options" || fail "synth --help"

# 8. Configuration file and overrides fill what the command line leaves unset.
printf 'synth:\n  encounters: 5\n  speech: false\n  image_size: 64\n' > "$work/cfg.yaml"
if "$bin" --config "$work/cfg.yaml" --set synth.encounters=3 synth --out "$work/cfg" > "$work/cfg.txt" 2>&1 &&
   grep -q "encounters 3" "$work/cfg.txt" && [ ! -d "$work/cfg/audio" ]; then
  pass "--config and --set apply"
else
  fail "--config/--set: $(cat "$work/cfg.txt")"
fi
expect_usage_error "--set without =" --set synth.seed synth --out "$work/z2" --encounters 1

finish
