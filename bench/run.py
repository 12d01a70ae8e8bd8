"""Benchmarks of the grader itself: `make bench` runs them all, `bench/run.py NAME` some.

A benchmark registers by existing: a module `bench/bench_<name>.py` with a function
`run() -> None` that measures and prints its own figures.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def registered() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = registered()
    print(f"registered benchmarks: {', '.join(names) if names else 'none yet'}")
    unknown = [n for n in argv if n not in names]
    if unknown:
        print(f"unknown benchmark: {', '.join(unknown)}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(HERE))
    for name in argv or names:
        print(f"\n== {name}")
        importlib.import_module(f"bench_{name}").run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
