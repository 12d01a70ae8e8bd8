"""Reliability of gil_choice's verdicts: every variant graded N times, quiet or busy.

    python bench/bench_gil_choice.py [--rounds N] [--busy] [--only NAME ...]

Grades, through the real runner and sandbox, the reference, the serial stub and every
mutant of tests/mutants/gil_choice/mutants.yaml, N times each, interleaved so that load
changes hit every variant alike. --busy keeps one extra process spinning on a core the
whole time. Prints, per variant, how often every test came out as expected (the
reference passes all, the stub fails the parallelism tests, a mutant fails exactly its
`fails`), seconds per grading, and the CPU rule's in-kernel concurrency.

First it checks that the grader's instrumented workloads.py returns exactly what the
given one returns (a kernel that drifted would fail every student's order tests).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.catalog import load_exercise  # noqa: E402
from grader.batch import TimingGate  # noqa: E402
from grader.runner import grade_exercise  # noqa: E402
from grader.submissions import Submission  # noqa: E402
from grader.timing import BENCH_LOG_ENV  # noqa: E402

EXERCISE = ROOT / "exercises" / "gil_choice"
SOLUTION = ROOT / "solutions" / "gil_choice"
MUTANTS = ROOT / "tests" / "mutants" / "gil_choice"
STUB_FAILS = ("test_cpu_runs_in_parallel", "test_cpu_in_processes", "test_io_overlaps")


@dataclass
class Variant:
    name: str
    file: Path
    fails: tuple[str, ...]
    gradings: list[dict] = field(default_factory=list)


def variants() -> list[Variant]:
    found = [Variant("reference", SOLUTION / "choose.py", ()),
             Variant("serial stub", EXERCISE / "choose.py", STUB_FAILS)]
    spec = yaml.safe_load((MUTANTS / "mutants.yaml").read_text())
    found += [Variant(n, MUTANTS / n / "choose.py", tuple(e["fails"])) for n, e in spec.items()]
    return found


def kernels_agree() -> None:
    """The instrumented workloads give the given ones' results, to the last bit."""
    def load(path: Path, name: str):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    given = load(EXERCISE / "workloads.py", "_given_workloads")
    ours = load(ROOT / "grader" / "kernels" / "workloads.py", "_grader_workloads")
    seeds = range(0, 400, 3)
    assert all(given.fit_peak(s) == ours.fit_peak(s) for s in seeds), "fit_peak differs"
    assert all(given.fetch_metadata(r) == ours.fetch_metadata(r) for r in (0, 1, 2, 3, 7, 8))
    print("instrumented workloads.py: same results as the given one")


def grade(v: Variant, exercise) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as log:
        os.environ[BENCH_LOG_ENV] = log.name
        started = time.monotonic()
        # Under a gate, as `grader grade` grades (the measured tests in a process of their own).
        result = grade_exercise(Submission(v.name, {"choose.py": v.file}, v.file.parent), exercise,
                                gate=TimingGate())
        seconds = time.monotonic() - started
        lines = [json.loads(line) for line in log.read().splitlines() if line.strip()]
    return {"seconds": seconds, "failed": {t.name for t in result.tests if not t.passed},
            "messages": {t.name: f"{t.verdict}: {t.message}" for t in result.tests if t.message},
            "summary": lines[-1] if lines else None, "status": result.status}


def report(found: list[Variant], condition: str) -> None:
    print(f"\n== {condition}")
    print(f"{'variant':18} {'as expected':>11} {'s/grading':>16} {'CPU concurrency':>18} "
          f"{'rounds':>6} {'quiet':>5}")
    for v in found:
        gs = v.gradings
        if not gs:
            continue
        ok = sum(g["failed"] == set(v.fails) for g in gs)
        secs = [g["seconds"] for g in gs]
        sums = [g["summary"] for g in gs if g["summary"]]
        conc = [s["figures"]["concurrency_median"] for s in sums]
        conc_txt = (f"{statistics.median(conc):.2f} ({min(conc):.2f}-{max(conc):.2f})"
                    if conc else "-")
        rounds = statistics.median([s["rounds"] for s in sums]) if sums else "-"
        quiet = sum(1 for s in sums if s["quiet"])
        print(f"{v.name:18} {ok:>5}/{len(gs):<5} {statistics.median(secs):>6.1f} "
              f"(max {max(secs):>4.1f}) {conc_txt:>18} {rounds:>6} {quiet:>5}")
        for g in gs:
            if g["failed"] != set(v.fails):
                for name in sorted(g["failed"] ^ set(v.fails)):
                    print(f"    unexpected {name}: {g['messages'].get(name, 'passed')[:200]}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="gradings per variant")
    parser.add_argument("--busy", action="store_true",
                        help="keep one process spinning on a core the whole time")
    parser.add_argument("--only", nargs="*", default=None, help="variants to grade")
    args = parser.parse_args(argv)
    kernels_agree()
    exercise = load_exercise(EXERCISE)
    found = [v for v in variants() if args.only is None or v.name in args.only]
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        for i in range(args.rounds):
            for v in found:
                g = grade(v, exercise)
                v.gradings.append(g)
                mark = "" if g["failed"] == set(v.fails) else "  UNEXPECTED"
                print(f"[{i + 1}/{args.rounds}] {v.name:18} {g['seconds']:5.1f}s failed "
                      f"{sorted(g['failed']) or '-'}{mark}", flush=True)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    report(found, "busy: one process spinning the whole time" if args.busy else "quiet")
    return 0


def run() -> None:
    """For bench/run.py: two quiet gradings of every variant."""
    main(["--rounds", "2"])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
