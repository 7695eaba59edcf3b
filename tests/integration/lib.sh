# Shared by the integration test scripts: a scratch directory removed on exit, and pass/fail
# bookkeeping that ends with the "N passed, N failed" line CI reads.
set -uo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
finish() {
  echo "$((failures == 0 ? 1 : 0)) passed, $failures failed"
  [ $failures -eq 0 ]
}
