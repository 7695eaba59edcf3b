#!/usr/bin/env bash
# End-to-end check of `medscribe ingest` and `medscribe dataset` as a user would run them:
#   medscribe synth --out C --encounters 500 --no-speech
#   medscribe ingest --dicom C/dicom --fhir C/fhir --out D
#   medscribe dataset verify D
# Checks: images re-encoded in every common transfer syntax are ingested; every input is
# accounted for (inputs = ingested + quarantined, exit 3 with quarantined items); the dataset
# verifies and a flipped byte in any shard is detected; no planted PHI anywhere in the dataset,
# the warehouse or the logs; the warehouse rows match the manifest; the same inputs give the same
# id for any --jobs; two distributed workers (RANK/WORLD_SIZE) produce the same samples; dictation
# audio is transcribed into the samples; bad usage exits 2.
# Usage: ingest_cli_test.sh MEDSCRIBE_BINARY PHI_SCAN_BINARY
bin="$1"
phi_scan="$2"
n="${INGEST_TEST_ENCOUNTERS:-500}"
source "$(dirname "$0")/lib.sh"
home="$work/home"
ms() { "$bin" --home "$home" "$@"; }

# 1. A cohort, with some images re-encoded by DCMTK's own tools in the other transfer syntaxes.
ms --log-level warn synth --out "$work/c" --encounters "$n" --seed 5 --no-speech --image-size 256 > /dev/null \
  || { fail "synth failed"; finish; exit 1; }
mapfile -t files < <(find "$work/c/dicom" -name '*.dcm' | sort)
i=0
for spec in "dcmconv +ti" "dcmconv +tb" "dcmconv +td" "dcmcjpeg +ee" "dcmcjpeg +e1" "dcmcjpls" \
            "dcmcrle" "dcmconv +te"; do
  f="${files[$((i * 7))]}"
  i=$((i + 1))
  # Decompress first (the cohort has compressed files), then encode with the tool under test.
  dcmdjpeg "$f" "$work/plain.dcm" 2> /dev/null || dcmdjpls "$f" "$work/plain.dcm" 2> /dev/null \
    || dcmdrle "$f" "$work/plain.dcm" 2> /dev/null || cp "$f" "$work/plain.dcm"
  if $spec "$work/plain.dcm" "$work/conv.dcm" 2> "$work/conv.err"; then
    mv "$work/conv.dcm" "$f"
    converted+=("${f#$work/c/dicom/}")
  else
    fail "$spec could not convert a cohort image: $(head -1 "$work/conv.err")"
  fi
done
pass "${#converted[@]} images re-encoded (implicit LE, big endian, deflated, JPEG extended, JPEG lossless SV1, JPEG-LS, RLE, explicit LE)"

# 2. Ingest: exit 3 (the cohort plants burned-in images), a complete ledger.
ms ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d" > "$work/out.txt" 2> "$work/ingest.log"
rc=$?
cat "$work/out.txt"
[ $rc -eq 3 ] && pass "exit 3: completed with quarantined items" || fail "ingest exit code $rc, expected 3"
for kind in dicom fhir encounters; do
  grep -Eq "^  $kind: +inputs = ingested \+ quarantined: [0-9]+ = [0-9]+ \+ [0-9]+$" "$work/out.txt" \
    && pass "$kind ledger printed" || fail "no $kind ledger line"
done
grep -q MISMATCH "$work/out.txt" && fail "a ledger does not add up"
burned=$(grep -c '"burned_in_annotation":true' "$work/c/truth/labels.jsonl")
q_burned=$(grep -c '"reason":"burned_in_annotation"' "$work/d/quarantine.jsonl")
[ "$burned" -eq "$q_burned" ] && pass "$burned burned-in images quarantined" || fail "burned-in: $burned planted, $q_burned quarantined"
bad_conv=0
for f in "${converted[@]}"; do
  if grep -F "\"source\":\"$f\"" "$work/d/quarantine.jsonl" | grep -vq burned_in_annotation; then
    bad_conv=1; fail "re-encoded image quarantined: $(grep -F "\"source\":\"$f\"" "$work/d/quarantine.jsonl")"
  fi
done
[ $bad_conv -eq 0 ] && pass "re-encoded images ingested"
samples=$(ms dataset show "$work/d" --keys | wc -l)
[ "$samples" -eq $((n - burned)) ] && pass "$samples samples" || fail "$samples samples, expected $((n - burned))"

# 3. Verify, and detect a flipped byte in every shard.
ms dataset verify "$work/d" > "$work/verify.txt" && pass "verify: $(cat "$work/verify.txt")" || fail "verify failed: $(cat "$work/verify.txt")"
for shard in "$work"/d/*.tar; do
  size=$(stat -c %s "$shard")
  off=$((size / 2))
  orig=$(od -An -tu1 -j "$off" -N1 "$shard" | tr -d ' ')
  printf "$(printf '\\%03o' $(((orig + 1) % 256)))" | dd of="$shard" bs=1 seek="$off" conv=notrunc status=none
  if ms dataset verify "$work/d" > "$work/v.txt" 2>&1; then
    fail "flipped byte in $(basename "$shard") not detected"
  else
    grep -q "$(basename "$shard")" "$work/v.txt" || fail "verify did not name $(basename "$shard")"
  fi
  printf "$(printf '\\%03o' "$orig")" | dd of="$shard" bs=1 seek="$off" conv=notrunc status=none
done
ms dataset verify "$work/d" > /dev/null && pass "a flipped byte in each of $(ls "$work"/d/*.tar | wc -l) shards is detected" || fail "restored dataset no longer verifies"

# 4. No PHI in the dataset, the warehouse or the logs; DICOM de-id attributes set.
if "$phi_scan" "$work/c/truth/labels.jsonl" "$home/keys/deid.key" "$work/d" "$home/warehouse.sqlite" \
     "$work/ingest.log" "$work/out.txt" > "$work/phi.txt"; then
  pass "$(tail -1 "$work/phi.txt")"
else
  fail "PHI found"; head -20 "$work/phi.txt"
fi
[ "$(stat -c %a "$home/keys/deid.key")" = 600 ] && pass "key file is 0600" || fail "key file mode"
key_hex=$(cat "$home/keys/deid.key")
grep -rqF "$key_hex" "$work/d" "$home/warehouse.sqlite" "$work/ingest.log" && fail "the key was written to an output"

# 5. Warehouse rows match the manifest.
id=$(head -1 "$work/out.txt" | awk '{print $2}')
w_samples=$(sqlite3 "$home/warehouse.sqlite" "SELECT count(*) FROM samples WHERE dataset_id = '$id'")
w_quar=$(sqlite3 "$home/warehouse.sqlite" "SELECT count(*) FROM quarantine WHERE dataset_id = '$id'")
[ "$w_samples" -eq "$samples" ] && pass "warehouse: $w_samples samples" || fail "warehouse has $w_samples samples"
[ "$w_quar" -eq "$(wc -l < "$work/d/quarantine.jsonl")" ] && pass "warehouse: $w_quar quarantine rows" || fail "warehouse quarantine rows $w_quar"

# 6. Determinism: the same inputs give the same id, whatever --jobs.
ms --log-level warn ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d1" --jobs 1 > "$work/out1.txt"
[ "$(head -1 "$work/out1.txt")" = "$(head -1 "$work/out.txt")" ] && pass "same id with --jobs 1" || fail "id differs: $(head -1 "$work/out1.txt")"
rm -rf "$work/d1"

# 7. Distributed: two workers at once; the last one merges.
for r in 0 1; do
  RANK=$r WORLD_SIZE=2 "$bin" --home "$home" --log-level warn ingest --dicom "$work/c/dicom" \
    --fhir "$work/c/fhir" --out "$work/dist" > "$work/dist$r.txt" &
done
wait
ms dataset verify "$work/dist" > /dev/null && pass "distributed dataset verifies" || fail "distributed dataset does not verify"
diff <(ms dataset show "$work/d" --keys | cut -f1,2) <(ms dataset show "$work/dist" --keys | cut -f1,2) > /dev/null \
  && pass "2 workers: the same samples and splits" || fail "distributed samples differ"

# 8. Dictation audio is transcribed into the samples.
ms --log-level warn synth --out "$work/s" --encounters 4 --seed 9 --image-size 128 > /dev/null
ms --log-level warn ingest --dicom "$work/s/dicom" --fhir "$work/s/fhir" --audio "$work/s/audio" --out "$work/sd" \
  --allow-burned-in > "$work/sout.txt"
rc=$?
[ $rc -eq 0 ] && grep -Eq "^  audio: +inputs = ingested \+ quarantined: 4 = 4 \+ 0$" "$work/sout.txt" \
  && pass "4 dictations ingested" || { fail "audio ingest (exit $rc)"; cat "$work/sout.txt"; }
with_text=$(for t in "$work"/sd/*.tar; do tar -xOf "$t" --wildcards '*.json'; echo; done | grep -o '"speech_transcript":"[^"][^"]*"' | wc -l)
[ "$with_text" -eq 4 ] && pass "4 samples carry a transcript" || fail "$with_text samples carry a transcript"

# 9. Bad usage exits 2 and writes nothing.
ms ingest --fhir "$work/c/fhir" --out "$work/x" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "missing --dicom: exit 2" || fail "missing --dicom: exit $rc"
ms ingest --dicom "$work/nope" --fhir "$work/c/fhir" --out "$work/x" > /dev/null 2> "$work/err.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "nope" "$work/err.txt" && pass "missing input directory: exit 2 naming it" || fail "missing input: exit $rc"
RANK=3 WORLD_SIZE=2 "$bin" --home "$home" ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/x" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "RANK >= WORLD_SIZE: exit 2" || fail "bad RANK: exit $rc"
ms ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "existing dataset: exit 2 (not overwritten)" || fail "existing dataset: exit $rc"
[ -e "$work/x" ] && fail "a failed run left $work/x behind"
ms dataset verify "$work/c" > /dev/null 2>&1; rc=$?
[ $rc -ne 0 ] && pass "verify of a non-dataset fails ($rc)" || fail "verify accepted a non-dataset"
finish
