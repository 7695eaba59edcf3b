#!/usr/bin/env bash
# `medscribe rules test`: the shipped rule files pass their fixtures (exit 0); a fixture that
# expects the wrong thing fails with a FAIL line (exit 1); a broken file is refused with its line
# (exit 2).
# Usage: rules_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
rules="$(cd "$(dirname "$0")/../../rules" && pwd)"

"$bin" rules test "$rules"/*.yaml > "$work/ok.txt" 2>&1 && [ "$(grep -c 'tests pass' "$work/ok.txt")" -eq 4 ] \
  && pass "shipped rules: $(tr '\n' ' ' < "$work/ok.txt")" || fail "shipped rules: $(cat "$work/ok.txt")"
cat > "$work/wrong.yaml" <<'YAML'
rules:
  - id: impression
    when: len(draft.impression) == 0
    message: {en: "No impression.", zh-Hant: "缺少印象。"}
tests:
  - name: says nothing is wrong with a draft that has no impression
    draft: "FINDINGS: Clear lungs."
    expect: []
YAML
"$bin" rules test "$work/wrong.yaml" > "$work/wrong.txt" 2>&1
[ $? -eq 1 ] && grep -q "FAIL .*unexpected impression" "$work/wrong.txt" && pass "failing fixture: exit 1, $(head -1 "$work/wrong.txt")" \
  || fail "failing fixture: $(cat "$work/wrong.txt")"
printf 'rules:\n  - id: a\n    when: contains(draft.text\n    message: {en: a, zh-Hant: b}\n' > "$work/bad.yaml"
"$bin" rules test "$work/bad.yaml" > "$work/bad.txt" 2>&1
[ $? -eq 2 ] && grep -q "bad.yaml:3: 'when': column 20" "$work/bad.txt" && pass "broken file: exit 2, $(cat "$work/bad.txt")" \
  || fail "broken file: $(cat "$work/bad.txt")"
finish
