#!/usr/bin/env bash
# Runs one benchmark from bench/ on a release build. Usage: scripts/bench.sh NAME
# Each benchmark prints its figures next to the baseline measured in the same run and ends with
# one line of name=value headline figures.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-}"
if [ -z "$name" ] || [ ! -f "bench/$name.sh" ]; then
  echo "usage: scripts/bench.sh NAME   (available: $(ls bench/*.sh 2>/dev/null | xargs -n1 basename | sed 's/\.sh$//' | tr '\n' ' '))" >&2
  exit 2
fi
scripts/bootstrap.sh >/dev/null
scripts/build.sh release >/dev/null
shift
exec bash "bench/$name.sh" "$@"
