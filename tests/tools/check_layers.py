#!/usr/bin/env python3
"""Checks every `#include "X/..."` under src/ against the layer graph of docs/ARCHITECTURE.md:
a component may include its own headers and those of the components its row lists under
"Depends on" (transitively). `status` is part of common. Prints each violation; exits 1 if any.
Usage: check_layers.py REPO_ROOT"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
table = (root / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
components = {p.name for p in (root / "src").iterdir() if p.is_dir()}
deps = {}
for line in table.splitlines():
    m = re.match(r"\| `src/([a-z_]+)` \|[^|]*\|[^|]*\| (.*) \|$", line)
    if m:
        words = re.findall(r"[a-z_]+", m.group(2))
        deps[m.group(1)] = {w for w in words if w in components or w == "status"}
missing = sorted(components - deps.keys())
if missing:
    print("components without a row in docs/ARCHITECTURE.md:", ", ".join(missing))
    sys.exit(1)


def allowed(c, seen=None):
    seen = seen if seen is not None else set()
    if c in seen:
        return seen
    seen.add(c)
    for d in deps.get(c, ()):
        allowed("common" if d == "status" else d, seen)
    return seen


bad = []
for comp in sorted(components):
    ok = allowed(comp)
    for f in sorted((root / "src" / comp).glob("*.[ch]*")):
        for n, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            m = re.match(r'#include "([a-z_]+)/', line)
            if m and m.group(1) in components and m.group(1) not in ok:
                bad.append(f"{f.relative_to(root)}:{n}: includes {m.group(1)}/, "
                           f"which src/{comp} does not depend on (docs/ARCHITECTURE.md)")
print("\n".join(bad) if bad else f"{len(components)} components: every include follows the layer graph")
sys.exit(1 if bad else 0)
