#!/usr/bin/env bash
# De-identification through ingest, as a site checks it before a dataset leaves the hospital:
#   medscribe synth --out C --encounters 40           (with dictation audio)
#   phi_plant.py C 30                                  (identifiers of every Safe Harbor category)
#   medscribe asr build-lm --corpus ... --out LM       (a model in which the planted speech is heard)
#   medscribe ingest --dicom C/dicom --fhir C/fhir --audio C/audio --lm LM --out D
# Checks: the planted identifiers are really where ingest reads them (notes and reports in the
# FHIR files, DICOM top level, nested sequence items and private block, and the words speech
# recognition writes down from the planted dictations); after ingest none of them is in the
# dataset (shards member by member, DICOM bytes included), the warehouse or the logs (phi_scan),
# and the samples carry the scrubber's tags in their text.
# Usage: deid_ingest_test.sh MEDSCRIBE_BINARY PHI_SCAN_BINARY
bin="$1"
phi_scan="$2"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
py=$(command -v python3)
ms() { "$bin" --home "$home" "$@"; }

ms --log-level warn synth --out "$work/c" --encounters 40 --seed 11 --image-size 128 > /dev/null \
  || { fail "synth failed"; finish; exit 1; }
if $py "$(dirname "$0")/phi_plant.py" "$work/c" 30 > "$work/plant.txt" 2>&1; then
  pass "$(cat "$work/plant.txt")"
else
  fail "phi_plant: $(tail -3 "$work/plant.txt")"; finish; exit 1
fi

# The planted values are in the inputs, where ingest reads them.
planted() { $py -c 'import json,sys; [print(s) for l in open(sys.argv[1]) for s in json.loads(l)["planted_phi"]]' "$work/c/truth/labels.jsonl"; }
in_notes=$($py -c '
import base64,json,sys
text = ""
for f in ("DocumentReference", "DiagnosticReport"):
    for l in open(sys.argv[1] + "/" + f + ".ndjson"):
        d = json.loads(l)
        for a in [c["attachment"] for c in d.get("content", [])] + d.get("presentedForm", []):
            if "data" in a: text += base64.b64decode(a["data"]).decode("utf-8", "replace")
print(sum(1 for s in open(sys.argv[2]).read().splitlines() if s and s in text))' "$work/c/fhir" <(planted))
[ "$in_notes" -ge 300 ] && pass "$in_notes planted strings found in the notes and reports" || fail "only $in_notes planted strings in notes and reports"
dicom_hits=0
for f in $(find "$work/c/dicom" -name '*.dcm'); do
  dcmdump +U8 "$f" 2> /dev/null | has -E "CHEST call|RequestedProcedureDescription.*CXR for|SITE PRIVATE" && dicom_hits=$((dicom_hits + 1))
done
[ "$dicom_hits" -ge 25 ] && pass "$dicom_hits DICOM files carry planted values (top level, nested, private)" || fail "$dicom_hits DICOM files with planted values"

# A language model in which the planted dictations are heard, as a site's model of its past
# dictations would hear them; the recognized text must hold the planted words.
cat "$work/c/transcripts/dictations.txt" "$work/c/transcripts/planted_speech.txt" > "$work/lm.txt"
ms --log-level warn asr build-lm --corpus "$work/lm.txt" --out "$work/lm.arpa" > /dev/null 2>&1 \
  || fail "asr build-lm failed"
heard=$(ms --log-level warn asr transcribe --lm "$work/lm.arpa" "$work"/c/audio/*.wav 2> /dev/null \
  | grep -Eio "daughter (margaret|patricia)|(one|two|three|four|five|six|seven|eight|nine)( (one|two|three|four|five|six|seven|eight|nine)){5,}" | wc -l)
[ "$heard" -ge 2 ] && pass "speech recognition writes down $heard planted names or numbers before ingest" \
  || fail "the planted dictations are not recognized ($heard hits): the audio check would be vacuous"

# Ingest, then look for every planted string everywhere.
ms --log-level debug ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --audio "$work/c/audio" \
  --lm "$work/lm.arpa" --out "$work/d" > "$work/out.txt" 2> "$work/ingest.log"
rc=$?
{ [ $rc -eq 0 ] || [ $rc -eq 3 ]; } && pass "ingest exit $rc: $(grep -c . "$work/d/quarantine.jsonl" 2> /dev/null || echo 0) quarantined" \
  || { fail "ingest exit $rc: $(tail -3 "$work/ingest.log")"; finish; exit 1; }
if "$phi_scan" "$work/c/truth/labels.jsonl" "$home/keys/deid.key" "$work/d" "$home/warehouse.sqlite" \
     "$work/ingest.log" "$work/out.txt" > "$work/phi.txt"; then
  pass "$(tail -1 "$work/phi.txt")"
else
  fail "planted PHI survived ingest: $(grep -c LEAK "$work/phi.txt") leaks"; grep LEAK "$work/phi.txt" | head -20
fi

# The text fields carry the scrubber's tags (the identifiers were replaced, not the text dropped).
$py -c '
import glob,json,sys,tarfile
for p in sorted(glob.glob(sys.argv[1] + "/*.tar")):
    with tarfile.open(p) as t:
        for m in t.getmembers():
            if m.name.endswith(".json"): print(json.dumps(json.loads(t.extractfile(m).read())))' "$work/d" > "$work/samples.jsonl"
for tag in NAME PHONE ADDRESS EMAIL URL IP ID VEHICLE DEVICE_ID PHOTO MRN; do
  grep -q "\[$tag\]" "$work/samples.jsonl" || missing+=" $tag"
done
[ -z "${missing:-}" ] && pass "samples carry every tag ([NAME], [PHONE], [ADDRESS], [EMAIL], [URL], [IP], [ID], [VEHICLE], [DEVICE_ID], [PHOTO], [MRN])" \
  || fail "tags missing from the samples:${missing}"
grep -q '90+-year-old' "$work/samples.jsonl" && pass "ages over 89 grouped (90+)" || fail "no grouped age in the samples"
transcripts=$($py -c '
import json,sys
n = 0
for l in open(sys.argv[1]):
    t = json.loads(l)["modalities"].get("speech_transcript") or ""
    n += "[NAME]" in t or "[NUMBER]" in t
print(n)' "$work/samples.jsonl")
[ "$transcripts" -ge 2 ] && pass "$transcripts transcripts carry [NAME] or [NUMBER] where the dictation named someone" \
  || fail "$transcripts transcripts with [NAME]/[NUMBER], expected 2 or more"

# `medscribe deid text`: the same scrubber on a site's own text; a missing file is named.
out=$(printf 'Seen by Dr. Agnes Hale, call 555-201-3344.\n' | ms deid text --stats 2> "$work/stats.txt")
[ "$out" = "Seen by Dr. [NAME], call [PHONE]." ] && has '"phone":1' < "$work/stats.txt" \
  && pass "deid text: $out $(cat "$work/stats.txt")" || fail "deid text: $out $(cat "$work/stats.txt")"
ms deid text "$work/no-such-note.txt" > /dev/null 2> "$work/err.txt"; rc=$?
[ $rc -ne 0 ] && has "no-such-note.txt" < "$work/err.txt" \
  && pass "deid text on a missing file: exit $rc, $(head -1 "$work/err.txt")" || fail "deid text missing file: exit $rc $(cat "$work/err.txt")"
finish
