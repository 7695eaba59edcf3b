#!/usr/bin/env bash
# `medscribe dicom info|decode` on every common transfer syntax, made from a synthetic image with
# DCMTK's own converters (dcmconv, dcmcjpeg, dcmcjpls, dcmcrle), and on broken input: each bad
# file gives exactly one error line and a non-zero exit, never a crash.
# Usage: dicom_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"

"$bin" --log-level warn synth --out "$work/cohort" --encounters 4 --seed 3 --image-size 128 --no-speech > /dev/null ||
  { echo "FAIL: synth"; exit 1; }
src=$(find "$work/cohort/dicom" -name '*.dcm' | sort | head -1)
dcmconv +te "$src" "$work/base.dcm" || { echo "FAIL: dcmconv"; exit 1; }
"$bin" dicom decode "$work/base.dcm" --raw --out "$work/base.npy" || fail "decode base"

# Lossless conversions must decode to exactly the same values; lossy ones must decode.
convert_to() {  # NAME TOOL ARGS...
  local name=$1; shift
  "$@" "$work/base.dcm" "$work/$name.dcm" 2> "$work/$name.err" || { fail "$name: converter failed: $(cat "$work/$name.err")"; return 1; }
}
for spec in "implicit:dcmconv +ti" "big_endian:dcmconv +tb" "deflated:dcmconv +td" \
            "jpeg_lossless:dcmcjpeg +el" "jpeg_lossless_sv1:dcmcjpeg +e1" "jpeg_ls:dcmcjpls" "rle:dcmcrle" \
            "jpeg_baseline:dcmcjpeg +eb" "jpeg_extended:dcmcjpeg +ee" "jpeg_ls_near:dcmcjpls +en"; do
  name=${spec%%:*}
  convert_to "$name" ${spec#*:} || continue
  ts=$("$bin" dicom info "$work/$name.dcm" | grep -o '"transfer_syntax":"[^"]*"')
  if ! "$bin" dicom decode "$work/$name.dcm" --raw --out "$work/$name.npy" 2> "$work/$name.err"; then
    fail "$name ($ts): raw decode: $(cat "$work/$name.err")"; continue
  fi
  if ! "$bin" dicom decode "$work/$name.dcm" --out "$work/$name.png" --size 64 2> "$work/$name.err"; then
    fail "$name ($ts): display decode: $(cat "$work/$name.err")"; continue
  fi
  case $name in
    jpeg_baseline|jpeg_extended|jpeg_ls_near)
      pass "$name ($ts) decodes (lossy)";;
    *)
      if cmp -s "$work/base.npy" "$work/$name.npy"; then pass "$name ($ts) decodes to identical values"
      else fail "$name ($ts): decoded values differ from the uncompressed original"; fi;;
  esac
done

# Broken input: one line on stderr, non-zero exit, for info and decode alike.
: > "$work/empty.dcm"
head -c 4096 /dev/urandom > "$work/random.dcm"
head -c 3000 "$work/base.dcm" > "$work/truncated.dcm"
cp "$work/base.dcm" "$work/huge_length.dcm"
# Pixel Data (7FE0,0010) OW declared 0x7FFFFFF0 bytes long, far beyond the end of the file.
perl -pi -e 's/\xe0\x7f\x10\x00OW\x00\x00..../\xe0\x7f\x10\x00OW\x00\x00\xf0\xff\xff\x7f/s' "$work/huge_length.dcm"
# A JPEG-LS file relabelled as a retired JPEG process (same UID length), which nothing here
# decodes, and as JPEG 2000 (its payload then is no JPEG 2000 codestream).
perl -pe 's/1\.2\.840\.10008\.1\.2\.4\.80/1.2.840.10008.1.2.4.58/g' "$work/jpeg_ls.dcm" > "$work/retired.dcm"
perl -pe 's/1\.2\.840\.10008\.1\.2\.4\.80/1.2.840.10008.1.2.4.90/g' "$work/jpeg_ls.dcm" > "$work/fake_j2k.dcm"
mkdir "$work/a_directory.dcm"
# A JPEG lossless file whose codestream claims 65535 x 65535 pixels (a decompression bomb).
perl -pe 's/\xff\xc3\x00\x0b(.)..../\xff\xc3\x00\x0b$1\xff\xff\xff\xff/s' "$work/jpeg_lossless.dcm" > "$work/jpeg_bomb.dcm"
for bad in empty random truncated huge_length a_directory missing; do
  f="$work/$bad.dcm"
  for cmd in "dicom info $f" "dicom decode $f --out $work/$bad.npy"; do
    out=$("$bin" $cmd 2>&1 >/dev/null); rc=$?
    lines=$(printf '%s\n' "$out" | grep -c .)
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$lines" -eq 1 ]; then
      pass "${cmd%% /*} $bad -> exit $rc: ${out#error: $work/}"
    else
      fail "${cmd%% /*} $bad -> exit $rc, $lines lines: $out"
    fi
  done
done
# A syntax without a decoder here: info describes the file and says why it cannot be decoded;
# decode fails in one line. JPEG 2000 written by `dicom convert` decodes to exactly the values it
# was given.
info=$("$bin" dicom info "$work/retired.dcm" 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$info" | has '"decodable":false' && echo "$info" | has 'Process 15.*not supported' &&
  pass "info: a retired JPEG process described as not decodable" || fail "info retired -> exit $rc: $info"
out=$("$bin" dicom decode "$work/retired.dcm" --out "$work/retired.npy" 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] && echo "$out" | has 'Process 15.*not supported' &&
  pass "decode: $out" || fail "decode retired -> exit $rc: $out"
"$bin" dicom info "$work/fake_j2k.dcm" | has '"ingest":"quarantined as undecodable_pixels: frame 1' \
  && "$bin" dicom info "$work/jpeg_ls.dcm" | has '"ingest":"accepted"' \
  && "$bin" dicom info "$work/retired.dcm" | has '"ingest":"quarantined as unsupported_transfer_syntax"' \
  && pass "info says what ingest would do with each file" || fail "info ingest verdicts: $("$bin" dicom info "$work/fake_j2k.dcm" "$work/jpeg_ls.dcm")"
out=$("$bin" dicom decode "$work/fake_j2k.dcm" --out "$work/fake.npy" 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] && echo "$out" | has 'not a JPEG 2000 codestream' &&
  pass "decode of a JPEG 2000 label over other bytes: $out" || fail "fake j2k -> exit $rc: $out"
"$bin" dicom convert "$work/jpeg_ls.dcm" --out "$work/real_j2k.dcm" --syntax jpeg2000-lossless 2> /dev/null \
  && "$bin" dicom info "$work/real_j2k.dcm" | has '"transfer_syntax_uid":"1.2.840.10008.1.2.4.90".*"decodable":true' \
  && "$bin" dicom decode "$work/jpeg_ls.dcm" --raw --out "$work/ls.npy" && "$bin" dicom decode "$work/real_j2k.dcm" --raw --out "$work/j2.npy" \
  && cmp -s "$work/ls.npy" "$work/j2.npy" && pass "JPEG 2000 lossless (dicom convert) decodes to the original values" \
  || fail "JPEG 2000 round trip"
out=$(timeout 60 "$bin" dicom decode "$work/jpeg_bomb.dcm" --out "$work/bomb.npy" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | has "65535 x 65535" && pass "decode refuses a codestream larger than its header: $out" ||
  fail "jpeg bomb -> exit $rc: $out"
# Mixed batch: good files are still printed, the exit code reports the failure.
n=$("$bin" dicom info "$work/base.dcm" "$work/random.dcm" "$work/rle.dcm" 2>/dev/null | grep -c '"sop_instance_uid"'); rc=$?
"$bin" dicom info "$work/base.dcm" "$work/random.dcm" > /dev/null 2>&1; rc=$?
[ "$n" -eq 2 ] && [ $rc -eq 1 ] && pass "info prints good files and exits 1 when one fails" || fail "mixed batch: $n lines, exit $rc"
"$bin" dicom decode "$work/base.dcm" --raw --out "$work/x.png" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "--raw with .png is a usage error" || fail "--raw .png exit $rc"
# Global options before or after the command.
out=$("$bin" dicom info "$work/base.dcm" --log-level warn 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | has '"sop_instance_uid"' && "$bin" --log-level warn dicom info "$work/base.dcm" > /dev/null \
  && pass "a global option after the command is accepted" || fail "global option after the command: exit $rc: $out"

finish
