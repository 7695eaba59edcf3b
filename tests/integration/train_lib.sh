# Shared by the training test scripts (after lib.sh, with `bin`, `home` and `ms` defined): weight
# and loss-curve comparisons of runs, and a run interrupted by kill -9.
close() { # close A B [TOL]: the runs' final weights agree within TOL (relative L2 over all weights)
  local out
  out=$("$diff_bin" "$1/model/model.safetensors" "$2/model/model.safetensors") || { echo "$out"; return 1; }
  echo "$out"
  awk -v d="$(echo "$out" | sed -E 's/^rel_diff=([0-9.e+-]+).*/\1/')" -v t="${3:-1e-4}" 'BEGIN { exit !(d <= t) }'
}
small_cohort() { # ENCOUNTERS [IMAGE_SIZE SPLIT VOCAB]: a synthetic cohort without speech ingested
  # into $work/d (default 128 px, 80/10/10), a tokenizer in $work/tok (default vocabulary 600)
  local size=${2:-128}
  ms --log-level warn synth --out "$work/c" --encounters "$1" --seed 5 --no-speech --image-size "$size" > /dev/null \
    || return 1
  ms --log-level warn ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d" --image-size "$size" \
    --split "${3:-0.8,0.1,0.1}" --no-warehouse > /dev/null
  ms tokenizer train --dataset "$work/d" --vocab "${4:-600}" --out "$work/tok" > /dev/null 2>&1
}
losses() { grep -v val_loss "$1" | sed -E 's/.*"loss":([0-9.e+-]+).*"step":([0-9]+).*/\2 \1/'; }
curves_agree() { # A B: the runs logged the same steps with losses within 1e-5 (relative)
  paste <(losses "$1/metrics.jsonl") <(losses "$2/metrics.jsonl") \
    | awk '{ d = ($2 - $4) / $2; if (d < 0) d = -d; if ($1 != $3 || d > 1e-5) bad = 1; n++ } END { exit bad || n < 2 }' \
    && echo "$(paste -d' ' <(losses "$1/metrics.jsonl") <(losses "$2/metrics.jsonl") | tr '\n' ';')"
}
fault_run() { # NAME ARGS...: an uninterrupted run and one whose rank $kill_rank (default 1) is
  # killed once checkpoint 6 exists; both under the launcher, the second with restarts
  local name=$1
  shift
  ms launch --nproc "${nproc:-2}" -- "$bin" --home "$home" "$@" --out "$work/$name-ref" > /dev/null 2> "$work/$name-ref.err" \
    || fail "$name uninterrupted run: $(tail -3 "$work/$name-ref.err")"
  ( for _ in $(seq 1200); do [ -e "$work/$name/checkpoints/step-00000006" ] && break; sleep 0.05; done
    for pid in $(pgrep -f -- "--out $work/$name\$"); do
      if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | has -x "RANK=${kill_rank:-1}"; then kill -9 "$pid"; fi
    done ) &
  local killer=$! rc
  ms launch --nproc "${nproc:-2}" --max-restarts 2 --stop-grace 5 -- "$bin" --home "$home" "$@" --out "$work/$name" \
    > /dev/null 2> "$work/$name.err"; rc=$?
  wait $killer
  [ $rc -eq 0 ] && grep -q "resuming at step [0-9]* (restart 1)" "$work/$name.err" \
    && pass "$name: kill -9 of rank ${kill_rank:-1}, $(grep -o 'resuming at step [0-9]* (restart 1)' "$work/$name.err")" \
    || { fail "$name fault run: exit $rc"; tail -5 "$work/$name.err"; }
  [ "$(losses "$work/$name-ref/metrics.jsonl")" = "$(losses "$work/$name/metrics.jsonl")" ] \
    && pass "$name: the loss curve equals the uninterrupted run's" \
    || { fail "$name: loss curves differ"; diff <(losses "$work/$name-ref/metrics.jsonl") <(losses "$work/$name/metrics.jsonl") | head; }
  r=$(close "$work/$name-ref" "$work/$name" 0) && pass "$name: final weights equal the uninterrupted run's: $r" \
    || fail "$name: weights differ: $r"
}
