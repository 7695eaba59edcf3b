#!/usr/bin/env bash
# A hyperparameter study as a user runs it, on a small cohort with `tiny`:
#   - 8 trials (TPE, ASHA) of the learning rate and warmup; the best trial's validation loss beats
#     a run at a deliberately bad default learning rate of the same length;
#   - the tuner killed with SIGKILL mid-study: its trials stop with it, and the tuner started again
#     resumes the study without running a finished trial again;
#   - a second tuner (--worker) shares the study: no trial runs twice; the same with the study in
#     PostgreSQL (--study postgresql://...), as tuners on several machines share it;
#   - the best trial registered with the study in its lineage; the table and the plot;
#   - bad study files refused with the key named.
# Usage: tune_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" "$@"; }
source "$(dirname "$0")/train_lib.sh"
cd "$work" || exit 1

small_cohort 40 64 0.7,0.15,0.15 500 || { fail "cohort and tokenizer"; finish; exit 1; }
fixed='[--dataset, d, --tokenizer, tok, --config, tiny, --no-dictation, --image-warmup-epochs, "0", --batch-size, "4", --jobs, "1"]'
study() {  # FILE TRIALS
  cat > "$1" <<YAML
trials: $2
steps: 30
sampler: tpe
startup_trials: 3
seed: 3
asha: {min_steps: 10, reduction_factor: 3}
train: $fixed
space:
  lr: {type: loguniform, low: 3e-4, high: 2e-2}
  warmup: {type: int, low: 0, high: 10}
YAML
}
table_rows() { grep -E '^[0-9]+\*? ' "$1"; }

# The baseline: a deliberately bad learning rate, the trials' length.
ms --log-level warn train --dataset d --tokenizer tok --config tiny --no-dictation --image-warmup-epochs 0 --batch-size 4 \
  --jobs 1 --lr 1e-5 --max-steps 30 --eval-every 30 --out bad > /dev/null 2>&1 || fail "baseline run"
bad=$(grep val_loss bad/metrics.jsonl | tail -1 | sed -E 's/.*"val_loss":([0-9.e+-]+).*/\1/')

# The study, killed once two trials have finished, then resumed.
study s.yaml 8
"$bin" --home "$home" tune --config s.yaml --out s --parallel 2 > run1.txt 2>&1 &  # $! is the tuner itself
tuner=$!
for _ in $(seq 600); do [ "$(grep -c ': completed\|: pruned,' run1.txt)" -ge 2 ] && break; sleep 0.2; done
kill -9 "$tuner"; wait "$tuner" 2>/dev/null
finished_before=$(grep -oE '^trial [0-9]+/8: (completed|pruned),' run1.txt | sed -E 's/trial ([0-9]+).*/\1/' | sort -n | tr '\n' ' ')
for _ in $(seq 100); do pgrep -f -- "--out $work/s/trials/" > /dev/null || break; sleep 0.1; done
pgrep -f -- "--out $work/s/trials/" > /dev/null && fail "trials still run after the tuner was killed: $(pgrep -af -- "--out $work/s/trials/")" \
  || pass "killed the tuner after trials $finished_before finished; its trials stopped with it"
ms tune --config s.yaml --out s --parallel 2 > run2.txt 2>&1 || fail "resumed tuner: $(tail -3 run2.txt)"
again=""
for t in $finished_before; do grep -qE "^trial $t/8 (started|resumed)" run2.txt && again="$again $t"; done
rows=$(table_rows run2.txt | wc -l)
[ -n "$finished_before" ] && [ -z "$again" ] && [ "$rows" -eq 8 ] && grep -q "resumed" run2.txt \
  && pass "resumed: $(grep -c resumed run2.txt) trial(s) resumed, none of the finished ones ran again, 8 trials in the table" \
  || fail "resume: finished before '$finished_before', ran again '$again', $rows rows: $(cat run2.txt)"
echo "--- study table"; sed -n '/^trial  *state/,$p' run2.txt
best=$(sed -nE 's/^best: trial [0-9]+, val_loss ([0-9.]+),.*/\1/p' run2.txt)
grep -q "pruned" run2.txt && pass "ASHA pruned $(table_rows run2.txt | grep -c pruned) trial(s)" || fail "no trial was pruned"
awk -v b="$best" -v d="$bad" 'BEGIN { exit !(b != "" && b < d) }' \
  && pass "the best trial (val_loss $best) beats the bad default learning rate (val_loss $bad)" \
  || fail "best $best vs bad default $bad"
[ -s s/trials.svg ] && has "<polyline" s/trials.svg && pass "plot s/trials.svg" || fail "no plot"
[ "$(grep -c '<tr>' s/trials.html)" -eq 9 ] && has "<polyline" s/trials.html && has '<td>[0-9]\*</td>' s/trials.html \
  && pass "s/trials.html: the 8 trials' table (the best marked) and the plot" || fail "html report: $(head -c 400 s/trials.html)"

# The best trial registered, with its study.
out=$(ms tune --config s.yaml --out s --show --register tuned 2>&1) && ms registry show tuned > show.json \
  && has '"tuning"' show.json && has "\"study_id\": \"$(sed -nE 's/^study .* \(([0-9a-f]+)\).*/\1/p' run2.txt | head -1)\"" show.json \
  && pass "registered the best trial: $(echo "$out" | tail -1)" || fail "register: $out $(head -c 400 show.json)"

# Two tuners share one study.
study w.yaml 2
"$bin" --home "$home" tune --config w.yaml --out w > w1.txt 2>&1 &
first=$!
for _ in $(seq 100); do [ -s w/study.sqlite ] && grep -q started w1.txt && break; sleep 0.1; done
ms tune --config w.yaml --out w --worker > w2.txt 2>&1 || fail "second worker: $(tail -3 w2.txt)"
wait "$first" || fail "first worker: $(tail -3 w1.txt)"
ids1=$(grep -oE '^trial [0-9]+/2 started' w1.txt | cut -d' ' -f2 | cut -d/ -f1 | sort -n | tr '\n' ' ')
ids2=$(grep -oE '^trial [0-9]+/2 started' w2.txt | cut -d' ' -f2 | cut -d/ -f1 | sort -n | tr '\n' ' ')
all=$(echo $ids1 $ids2 | tr ' ' '\n' | sort -n | tr '\n' ' ')
[ -n "$ids1" ] && [ -n "$ids2" ] && [ "$all" = "1 2 " ] \
  && pass "two tuners shared the study: trials $ids1| $ids2" || fail "shared study: first '$ids1', second '$ids2'"

# Two tuners share a study kept in PostgreSQL (as tuners on two machines would).
pg_bin=/usr/lib/postgresql/15/bin
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/pg"
pg_user=""
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$work/pg"
  chmod 755 "$work"
  pg_user="runuser -u postgres --"
fi
trap '$pg_user "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop > /dev/null 2>&1; rm -rf "$work"' EXIT
$pg_user "$pg_bin/initdb" -D "$work/pg" -U medscribe --auth=trust > pg.log 2>&1 \
  && $pg_user "$pg_bin/pg_ctl" -D "$work/pg" -w -l "$work/pg/server.log" \
       -o "-p $pport -k $work/pg -c listen_addresses=127.0.0.1" start >> pg.log 2>&1 \
  && $pg_user "$pg_bin/createdb" -h 127.0.0.1 -p "$pport" -U medscribe studies >> pg.log 2>&1 \
  || fail "PostgreSQL: $(tail -5 pg.log)"
url="postgresql://medscribe@127.0.0.1:$pport/studies"
study p.yaml 2
"$bin" --home "$home" tune --config p.yaml --out p --study "$url" > p1.txt 2>&1 &
first=$!
for _ in $(seq 100); do grep -q started p1.txt && break; sleep 0.1; done
ms tune --config p.yaml --out p --study "$url" --worker > p2.txt 2>&1 || fail "second worker on PostgreSQL: $(tail -3 p2.txt)"
wait "$first" || fail "first worker on PostgreSQL: $(tail -3 p1.txt)"
ids1=$(grep -oE '^trial [0-9]+/2 started' p1.txt | cut -d' ' -f2 | cut -d/ -f1 | tr '\n' ' ')
ids2=$(grep -oE '^trial [0-9]+/2 started' p2.txt | cut -d' ' -f2 | cut -d/ -f1 | tr '\n' ' ')
rows=$(table_rows p2.txt | grep -cE 'completed|pruned')
[ "$(echo $ids1 $ids2 | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "1 2 " ] && [ "$rows" -eq 2 ] \
  && pass "two tuners shared a study in PostgreSQL: trials $ids1| $ids2" \
  || fail "PostgreSQL study: first '$ids1', second '$ids2', $rows finished: $(cat p2.txt)"

# Bad input.
printf 'space:\n  lr: {type: lognormal, low: 1, high: 2}\n' > bad1.yaml
out=$(ms tune --config bad1.yaml --out b1 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "space.lr.type: 'lognormal' is not one of" && pass "refused: $out" || fail "unknown type (exit $rc): $out"
printf 'space:\n  learning-rate: {type: uniform, low: 0, high: 1}\n' > bad2.yaml
out=$(ms tune --config bad2.yaml --out b2 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "has no option --learning-rate" && pass "refused: $out" || fail "unknown option (exit $rc): $out"
study s2.yaml 8
sed -i 's/high: 10}/high: 20}/' s2.yaml
out=$(ms tune --config s2.yaml --out s 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "another definition" && pass "refused: a changed study file on an existing study" \
  || fail "changed definition (exit $rc): $out"
finish
