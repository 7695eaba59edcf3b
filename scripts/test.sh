#!/usr/bin/env bash
# Installs what is missing, builds the dev preset and runs every test with CTest.
# Extra arguments go to ctest (e.g. scripts/test.sh -L unit, scripts/test.sh -LE slow).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh dev
cd build/dev
ctest --output-on-failure -j "$(nproc)" --timeout 1200 "$@"
