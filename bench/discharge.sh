#!/usr/bin/env bash
# The discharge scenario on a 1,000-stay cohort (seed 11): synthesis and ingest times, then the
# discharge metrics of `medscribe discharge eval` (problem coverage, medication reconciliation,
# invented medications, unsupported statements, follow-up, pending results, ROUGE-L) for the
# drafts of a model when given, beside the extractive and retrieval baselines and the signed
# summaries (the scorer's check), all on the same test split.
# Usage: scripts/bench.sh discharge [DRAFTS.jsonl]
#   DRAFTS: {"encounter_id", "text"} per stay of this cohort (seed 11, 1,000 stays).
# The last line holds the drafts' figures (med_rec_f1, problem_coverage, unsupported_rate) when
# DRAFTS is given; the baselines' (retrieval_*, extractive_*) always.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bin/medscribe
drafts="${1:-}"
n=1000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MEDSCRIBE_HOME="$tmp/home"

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t0=$(date +%s.%N)
"$bin" --log-level warn synth --kind inpatient --out "$tmp/stays" --encounters $n --seed 11 >/dev/null
t1=$(date +%s.%N)
"$bin" --log-level warn ingest --fhir "$tmp/stays/fhir" --out "$tmp/dataset" >/dev/null
t2=$(date +%s.%N)
echo "synthesis of $n stays with dictation audio: $(seconds "$t0" "$t1") s; ingest (no ASR): $(seconds "$t1" "$t2") s"

args=(--cohort "$tmp/stays" --out "$tmp/scores.json")
[ -n "$drafts" ] && args+=(--drafts "$drafts")
"$bin" --log-level warn discharge eval "${args[@]}"
python3 - "$tmp/scores.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
out = []
if "drafts" in rows:
    d = rows["drafts"]
    out += [f"med_rec_f1={d['med_rec_f1']['value']:.3f}",
            f"problem_coverage={d['problem_coverage']['value']:.3f}",
            f"unsupported_rate={d['unsupported_rate']:.3f}"]
for name in ("retrieval", "extractive"):
    b = rows[name]
    out += [f"{name}_med_rec_f1={b['med_rec_f1']['value']:.3f}",
            f"{name}_problem_coverage={b['problem_coverage']['value']:.3f}",
            f"{name}_unsupported_rate={b['unsupported_rate']:.3f}"]
print(" ".join(out))
PY
