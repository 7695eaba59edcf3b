# Sourced by the cohort and quality benchmarks. Needs $bin (the release binary), $work (kept or
# scratch directory), $n (encounters) and ms() (the binary with this benchmark's home). Makes,
# unless already there: $work/cohort (seed 17, with dictation audio), $work/dictation.arpa (the
# domain language model from the cohort's past dictations), $work/voices (the acoustic model
# adapted to the site's voices from 200 recordings of a separate cohort, seed 9) and
# $work/dataset (ingested with the audio transcribed by both, and every image resampled to 1.68
# mm per pixel -- the 430 mm detectors' spacing at 256 px -- so that a lesion's size in pixels
# means the same on every detector).
echo "== cohort: $n encounters, seed 17, with dictation audio"
[ -f "$work/cohort/cohort.json" ] || ms synth --out "$work/cohort" --encounters "$n" --seed 17 > "$work/synth.txt"
[ -f "$work/dictation.arpa" ] ||
  ms asr build-lm --corpus "$work/cohort/transcripts/dictations.txt" --out "$work/dictation.arpa" > /dev/null
[ -f "$work/adapt/cohort.json" ] ||
  ms synth --out "$work/adapt" --encounters 200 --seed 9 --image-size 64 > /dev/null
[ -f "$work/voices/adapt.json" ] ||
  ms asr adapt --cohort "$work/adapt" --lm "$work/dictation.arpa" --out "$work/voices" --force
if [ ! -f "$work/dataset/manifest.json" ]; then
  rc=0
  ms ingest --dicom "$work/cohort/dicom" --fhir "$work/cohort/fhir" --audio "$work/cohort/audio" \
    --lm "$work/dictation.arpa" --acoustic-model "$work/voices" --out "$work/dataset" --no-warehouse \
    --image-spacing 1.68 \
    > "$work/ingest.txt" || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat "$work/ingest.txt"; exit 1; }
fi
ms dataset show "$work/dataset" | sed -n '1,3p;/^  test/p;/^  train/p;/^  val/p'
