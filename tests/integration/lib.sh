# Shared by the integration test scripts: a scratch directory removed on exit, and pass/fail
# bookkeeping that ends with the failures repeated (a long log is often read from its tail) and
# the "N passed, N failed" line CI reads.
set -uo pipefail
# Under pipefail a pipeline ending in `grep -q` fails at random: grep exits at the first match and
# the writer, still writing, dies of SIGPIPE. `has PATTERN` reads all of its input instead.
has() { grep "$@" > /dev/null; }
work=$(mktemp -d)
[ -n "${KEEP_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
failures=0
failed_lines=()
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
  failed_lines+=("$(head -c 600 <<< "$*")")
}
pass() { echo "ok: $*"; }
finish() {
  local line
  for line in "${failed_lines[@]}"; do echo "FAILED: $line"; done
  echo "$((failures == 0 ? 1 : 0)) passed, $failures failed"
  [ $failures -eq 0 ]
}
# Pins the de-identification key of a medscribe home (HOME/keys/deid.key) to a fixed value, so
# that pseudonyms, and with them the train/val/test split, are the same on every run.
pin_deid_key() {
  mkdir -p "$1/keys" && chmod 700 "$1/keys" \
    && (umask 077 && printf '%s\n' 6d656473637269626520746573742064652d6964656e74696669636174696f6e > "$1/keys/deid.key")
}
