#!/usr/bin/env bash
# Ingest speed, end to end and for its DICOM stage.
#   1. `medscribe ingest` of an N-encounter synthetic cohort (default 500, 512-pixel images, no
#      audio) on all cores, next to the same run with --jobs 1 as the baseline: encounters/s.
#   2. DICOM decode + VOI window + resize to 256 x 256, in process (bench/dicom_decode.cc) on all
#      cores and on one, next to DCMTK's own command-line converter over the same files
#      (dcm2pnm, or dcmj2pnm / dcml2pnm for the JPEG and JPEG-LS files, which Debian's dcm2pnm
#      cannot decode; first VOI window, scaled to 256 columns, 8-bit PGM), one process per file
#      as that tool works, sequentially and with one process per core. `medscribe dicom decode`
#      run the same way (one process per file) shows what process start-up costs both sides.
#   3. The same in-process decode of up to 100 of the files rewritten as lossless JPEG 2000.
# Usage: scripts/bench.sh ingest [N]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin/medscribe
decode=build/release/bin/dicom_decode
n="${1:-500}"
cores=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" --log-level warn synth --out "$tmp/c" --encounters "$n" --seed 7 --no-speech > /dev/null
mapfile -t files < <(find "$tmp/c/dicom" -name '*.dcm' | sort)
echo "medscribe ingest, $n encounters ($(du -sh "$tmp/c" | cut -f1) of inputs), $cores cores"

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
per_s() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }

# 1. End to end.
ingest() {
  local t0 t1
  rm -rf "$tmp/d"
  t0=$(date +%s.%N)
  "$bin" --home "$tmp/home" --log-level warn ingest --dicom "$tmp/c/dicom" --fhir "$tmp/c/fhir" \
    --out "$tmp/d" --no-warehouse "$@" > /dev/null || [ $? -eq 3 ]
  t1=$(date +%s.%N)
  seconds "$t0" "$t1"
}
s_all=$(ingest)
s_one=$(ingest --jobs 1)
enc_all=$(per_s "$n" "$s_all")
enc_one=$(per_s "$n" "$s_one")
printf '%-58s %8s encounters/s  (%s s)\n' "ingest, all cores" "$enc_all" "$s_all"
printf '%-58s %8s encounters/s  (%s s)\n' "baseline: ingest --jobs 1" "$enc_one" "$s_one"

# 2. DICOM decode + resize.
dec_all=$("$decode" "$tmp/c/dicom" 256 0 | sed -E 's/.*images_per_s=//')
dec_one=$("$decode" "$tmp/c/dicom" 256 1 | sed -E 's/.*images_per_s=//')
printf '%-58s %8s images/s\n' "medscribe decode+resize in process, all cores" "$dec_all"
printf '%-58s %8s images/s\n' "medscribe decode+resize in process, 1 thread" "$dec_one"

tool_for() {
  case "$(dcmdump +P TransferSyntaxUID "$1" 2> /dev/null)" in
    *JPEGLS* | *JPEG-LS*) echo dcml2pnm ;;
    *JPEG*) echo dcmj2pnm ;;
    *) echo dcm2pnm ;;
  esac
}
: > "$tmp/jobs.txt"
for f in "${files[@]}"; do echo "$(tool_for "$f") +Wi 1 +Sxv 256 $f $tmp/out.pgm" >> "$tmp/jobs.txt"; done
run_tools() {  # PARALLELISM
  local t0 t1
  t0=$(date +%s.%N)
  awk -v d="$tmp" '{ $NF = d "/o" NR ".pgm"; print }' "$tmp/jobs.txt" | xargs -P "$1" -L 1 sh -c '"$0" "$@" || echo FAILED "$@"' > "$tmp/tool.log" 2>&1
  t1=$(date +%s.%N)
  if grep -q FAILED "$tmp/tool.log"; then echo "DCMTK tool failures: $(grep -c FAILED "$tmp/tool.log")" >&2; fi
  per_s "${#files[@]}" "$(seconds "$t0" "$t1")"
}
dcm_one=$(run_tools 1)
dcm_all=$(run_tools "$cores")
printf '%-58s %8s images/s\n' "baseline: dcm2pnm/dcmj2pnm/dcml2pnm, process per file, 1 at a time" "$dcm_one"
printf '%-58s %8s images/s\n' "baseline: the same, $cores processes at a time" "$dcm_all"
t0=$(date +%s.%N)
printf '%s\n' "${files[@]}" | awk -v d="$tmp" '{ print $0, d "/m" NR ".npy" }' \
  | xargs -P "$cores" -L 1 sh -c '"'"$bin"'" dicom decode "$0" --out "$1" > /dev/null'
t1=$(date +%s.%N)
ms_proc=$(per_s "${#files[@]}" "$(seconds "$t0" "$t1")")
printf '%-58s %8s images/s\n' "medscribe dicom decode, process per file, $cores at a time" "$ms_proc"
# 3. JPEG 2000 (which DCMTK's tools here cannot decode): up to 100 of the files rewritten
#    losslessly with `medscribe dicom convert`, decoded in process; their values must equal the
#    originals' (checked on the first file with --raw).
mkdir -p "$tmp/j2k"
k=0
for f in "${files[@]}"; do
  [ $k -lt 100 ] || break
  "$bin" --log-level warn dicom convert "$f" --out "$tmp/j2k/$k.dcm" --syntax jpeg2000-lossless 2> /dev/null && k=$((k + 1))
done
"$bin" dicom decode "${files[0]}" --raw --out "$tmp/a.npy" > /dev/null
"$bin" dicom decode "$tmp/j2k/0.dcm" --raw --out "$tmp/b.npy" > /dev/null
cmp -s "$tmp/a.npy" "$tmp/b.npy" && j2k_exact=yes || j2k_exact=NO
dec_j2k=$("$decode" "$tmp/j2k" 256 0 | sed -E 's/.*images_per_s=//')
dec_j2k_one=$("$decode" "$tmp/j2k" 256 1 | sed -E 's/.*images_per_s=//')
printf '%-58s %8s images/s  (%s files, values exact: %s)\n' "JPEG 2000 lossless, decode+resize in process, all cores" "$dec_j2k" "$k" "$j2k_exact"
printf '%-58s %8s images/s\n' "JPEG 2000 lossless, decode+resize in process, 1 thread" "$dec_j2k_one"
awk -v a="$dec_all" -v b="$dcm_all" -v c="$enc_all" -v d="$enc_one" \
  'BEGIN { printf "in-process decode vs DCMTK tools (all cores): %.1fx; ingest parallel speed-up: %.2fx\n", a / b, c / d }'
echo "encounters_per_s=$enc_all decode_images_per_s=$dec_all dcm2pnm_images_per_s=$dcm_all j2k_decode_images_per_s=$dec_j2k j2k_exact=$j2k_exact"
