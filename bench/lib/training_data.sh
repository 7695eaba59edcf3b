# Sourced by the training benchmarks: a scratch directory $tmp (removed on exit) holding a
# 60-encounter synthetic dataset ($tmp/d, 256-pixel images, no speech) and its 8000-piece
# tokenizer ($tmp/tok), made with the release binary $bin.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --log-level warn synth --out "$tmp/c" --encounters 60 --seed 7 --no-speech --image-size 256 > /dev/null
"$bin" --home "$tmp/home" --log-level warn ingest --dicom "$tmp/c/dicom" --fhir "$tmp/c/fhir" --out "$tmp/d" \
  --no-warehouse > /dev/null || [ $? -eq 3 ]
"$bin" tokenizer train --dataset "$tmp/d" --vocab 8000 --out "$tmp/tok" > /dev/null
