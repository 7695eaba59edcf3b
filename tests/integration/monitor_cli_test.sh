#!/usr/bin/env bash
# Drift monitoring as users run it (`medscribe monitor`), on synthetic cohorts:
#   - a cohort from the same generator settings (another seed) drifts on no feature;
#   - a cohort drawn from the ICU alone drifts on the department (PSI far above 0.25), and the
#     command exits 4 with the JSON report and the Prometheus gauges written;
#   - a cohort of another detector mix, whose CRP is reported in another unit (x10) and whose
#     WBC reads half again as high (a recalibrated analyzer), drifts on the detector model and
#     those two labs, and on nothing else but what the detectors set (modality, pixel spacing,
#     image statistics);
#   - ingest writes the train split's reference profile into the manifest, and training carries
#     it into run.json: `--model` takes the reference from a registered model;
#   - thresholds come from the configuration (monitor.psi, ...) unless given on the command line;
#   - without a reference, or with a dataset that does not exist, the error says what to give.
# Usage: monitor_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }

cohort() {  # NAME SEED [--departments LIST]
  local name=$1 seed=$2
  shift 2
  ms --log-level warn synth --out "$work/c-$name" --encounters 200 --seed "$seed" --no-speech --image-size 64 "$@" > /dev/null \
    || fail "synth $name"
  ms --log-level warn ingest --dicom "$work/c-$name/dicom" --fhir "$work/c-$name/fhir" --out "$work/d-$name" \
    --image-size 64 --split 0.8,0.1,0.1 --no-warehouse > /dev/null
  [ -f "$work/d-$name/manifest.json" ] || fail "ingest $name"
}
cohort ref 41
cohort same 42
cohort icu 43 --departments ICU
cohort shift 44 --device-mix 0,0,0,1 --lab-shift crp=10,wbc=1.5

ms monitor --reference "$work/d-ref" --current "$work/d-same" --split train > "$work/same.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && has "^0 of [0-9]* features drifted" "$work/same.txt" \
  && pass "same generator settings: $(tail -1 "$work/same.txt" | cut -d';' -f1); largest: $(sed -n 2p "$work/same.txt" | tr -s ' ')" \
  || { fail "same settings (exit $rc)"; cat "$work/same.txt"; }

ms monitor --reference "$work/d-ref" --current "$work/d-icu" --split train --out "$work/icu.json" \
  --prometheus "$work/icu.prom" > "$work/icu.txt" 2>&1; rc=$?
dept=$(awk '$1 == "department" { print $2 }' "$work/icu.txt")
[ $rc -eq 4 ] && awk '$1 == "department" && $NF == "ALERT"' "$work/icu.txt" | has . \
  && awk -v p="$dept" 'BEGIN { exit !(p > 0.25) }' \
  && pass "ICU-only cohort: department PSI $dept, ALERT, exit 4; $(tail -1 "$work/icu.txt" | cut -d';' -f1)" \
  || { fail "ICU cohort (exit $rc)"; cat "$work/icu.txt"; }
has '^medscribe_drift_psi{feature="department"} ' "$work/icu.prom" && has '^medscribe_drift_alert{feature="department"} 1$' "$work/icu.prom" \
  && pass "Prometheus gauges: $(grep '^medscribe_drift_psi{feature="department"}' "$work/icu.prom")" || fail "gauges: $(head -5 "$work/icu.prom")"
python3 -c "import json,sys; r=json.load(open('$work/icu.json')); f={x['feature']: x for x in r['features']}; sys.exit(0 if r['alerts'] >= 1 and f['department']['alert'] else 1)" \
  && pass "JSON report names the department's alert" || fail "JSON report"
# Thresholds from the configuration when the command line gives none; the command line wins.
ms --set monitor.psi=100 --set monitor.js=1 monitor --reference "$work/d-ref" --current "$work/d-icu" --split train \
  > /dev/null 2>&1; rc=$?
ms --set monitor.psi=100 --set monitor.js=1 monitor --reference "$work/d-ref" --current "$work/d-icu" --split train \
  --psi 0.25 > /dev/null 2>&1; rc2=$?
[ $rc -eq 0 ] && [ $rc2 -eq 4 ] && pass "thresholds from the configuration (monitor.psi, monitor.js), overridden by --psi" \
  || fail "thresholds from the configuration: exit $rc, with --psi exit $rc2"

ms monitor --reference "$work/d-ref" --current "$work/d-shift" --split train > "$work/shift.txt" 2>&1; rc=$?
alerting=$(awk '$NF == "ALERT" { print $1 }' "$work/shift.txt" | sort | paste -sd,)
unexpected=$(awk '$NF == "ALERT" { print $1 }' "$work/shift.txt" | grep -v -x -e device_model -e modality -e pixel_spacing_mm \
  -e image_mean -e image_std -e lab:1988-5 -e lab:6690-2)
[ $rc -eq 4 ] && [ -z "$unexpected" ] && echo ",$alerting," | has ",device_model," && echo ",$alerting," | has ",lab:1988-5," \
  && echo ",$alerting," | has ",lab:6690-2," \
  && pass "another detector mix and shifted CRP and WBC: alerts on $alerting only" \
  || { fail "shifted cohort (exit $rc): alerts on $alerting"; cat "$work/shift.txt"; }

python3 -c "
import json, sys
m = json.load(open('$work/d-ref/manifest.json'))
p = m['drift_profile']
n = sum(p['features']['department']['counts'].values())
sys.exit(0 if p['format'] == 'medscribe-profile' and n == m['splits']['train']['samples'] and 'finding:Cardiomegaly' in p['features'] else 1)" \
  && pass "the manifest carries the train split's drift profile" || fail "manifest drift_profile"

# The reference carried by a registered model.
ms tokenizer train --dataset "$work/d-ref" --vocab 600 --out "$work/tok" > /dev/null 2>&1
ms train --dataset "$work/d-ref" --tokenizer "$work/tok" --config tiny --no-dictation --out "$work/run" --max-steps 2 \
  --batch-size 2 --checkpoint-every 2 --eval-every 2 > /dev/null 2>&1 && ms registry register --run "$work/run" --name m > /dev/null \
  || fail "train and register"
ms monitor --model m --current "$work/d-icu" --split train > "$work/model.txt" 2>&1; rc=$?
[ $rc -eq 4 ] && has "reference m (its run.json)" "$work/model.txt" \
  && pass "--model m: the reference is the profile its run.json carries" || { fail "--model (exit $rc)"; tail -3 "$work/model.txt"; }

out=$(ms monitor --current "$work/d-icu" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "give --model MODEL or --reference DATASET" && pass "no reference: $out" || fail "no reference (exit $rc): $out"
out=$(ms monitor --reference "$work/d-ref" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | has "give the data to check" && pass "nothing to check: $out" || fail "no current (exit $rc): $out"
out=$(ms monitor --reference "$work/nowhere" --current "$work/d-icu" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "nowhere" && pass "a missing dataset: $out" || fail "missing dataset (exit $rc): $out"
finish
