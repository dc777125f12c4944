"""The mutation score per module from the last ``mutmut run`` (``make mutation`` prints it).

Score = killed / (killed + survived + no tests): a mutant no fast test reaches counts as a
survivor. Timeouts count as killed (the mutant made the code hang).

    python tests/mutation_score.py            # from the repository root, after mutmut run
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path("mutants")


def scores(root: Path = ROOT) -> dict[str, dict[str, int]]:
    table = {}
    for meta in sorted(root.rglob("*.py.meta")):
        module = meta.relative_to(root).as_posix()[: -len(".meta")]
        counts: dict[str, int] = {}
        for code in json.loads(meta.read_text())["exit_code_by_key"].values():
            status = status_by_exit_code[code]
            counts[status] = counts.get(status, 0) + 1
        table[module] = counts
    return table


def main() -> int:
    table = scores()
    if not table:
        print("no mutmut results under mutants/: run `make mutation`", file=sys.stderr)
        return 1
    print(f"{'module':40} {'mutants':>7} {'killed':>6} {'survived':>8} {'no test':>7} {'score':>6}")
    for module, c in table.items():
        killed = c.get("killed", 0) + c.get("timeout", 0)
        missed = c.get("survived", 0) + c.get("no tests", 0)
        total = sum(c.values())
        score = f"{killed / (killed + missed):.0%}" if killed + missed else "-"
        print(f"{module:40} {total:7} {killed:6} {c.get('survived', 0):8} {c.get('no tests', 0):7} {score:>6}")
        other = {k: v for k, v in c.items() if k not in ("killed", "timeout", "survived", "no tests")}
        if other:
            print(f"{'':40} also: {other}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
