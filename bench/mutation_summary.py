"""Summarize `mutmut results --all true`: the kill rate, and every surviving mutant by module.

Usage: python bench/mutation_summary.py mutants/results.txt  (make mutate runs it)
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path


def main(path: str) -> int:
    states: Counter[str] = Counter()
    survivors: dict[str, list[str]] = defaultdict(list)
    for line in Path(path).read_text().splitlines():
        name, sep, state = line.strip().rpartition(": ")
        if not sep:
            continue
        states[state] += 1
        if state == "survived":
            survivors[name.split("__mutmut_")[0].rsplit(".", 1)[0]].append(name)
    decided = states["killed"] + states["survived"] + states["timeout"]
    if not decided:
        print("no mutants were run")
        return 1
    rate = (states["killed"] + states["timeout"]) / decided
    print(f"mutants: {sum(states.values())} ({', '.join(f'{n} {s}' for s, n in sorted(states.items()))})")
    print(f"kill rate: {rate:.1%} of {decided} decided (killed or timed out, over killed, timed out and survived)")
    for module, names in sorted(survivors.items()):
        print(f"  {module}: {len(names)} survived")
        for name in names:
            print(f"    {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "mutants/results.txt"))
