# Shared by the integration test scripts: a scratch directory removed on exit, and pass/fail
# bookkeeping that ends with the failures repeated (a long log is often read from its tail) and
# the "N passed, N failed" line CI reads.
set -uo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
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
