"""Reliability of the parallel_histogram verdict: many gradings of every variant.

    python bench/parallelism.py [--rounds N] [--busy] [--only NAME ...] [--affinity CPUS]
                                [--sandbox plain|bwrap|auto]

Grades, through the real runner and sandbox, the reference, the correct alternatives
(solutions/parallel_histogram/alternatives/*), the serial stub and every mutant
(tests/mutants/parallel_histogram/mutants.yaml), N times each, interleaved so that load
changes hit every variant alike. --busy keeps one extra process spinning on a core the
whole time (someone else's job on a shared machine). --affinity 0 pins the grading to
CPU 0: a one-core machine, where the parallelism tests must pass as "not judged".

Prints, per variant: how often it earned the parallelism points (the three parallelism
tests) and how often every test came out as expected (the correct ones pass everything;
a mutant fails exactly its `fails`), time per grading, and the figures behind the
verdicts (in-kernel concurrency, share of time inside reconstruct(), CPU / serial CPU,
worker processes, speedup and the machine probe).

The figures of a passing test do not reach the grader (the plugin reports only a failing
test's details), so grader/timing/ also appends each verdict's figures to the file
named by BENCH_PARALLELISM_LOG. Under bubblewrap the test process has a private /tmp and
cannot write there: --sandbox plain (the default here) grades in a plain child process,
which measures the same; --sandbox bwrap gives the counts without the figures.
"""
from __future__ import annotations

import argparse
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

EXERCISE = ROOT / "exercises" / "parallel_histogram"
SOLUTION = ROOT / "solutions" / "parallel_histogram"
MUTANTS = ROOT / "tests" / "mutants" / "parallel_histogram"
PARALLEL_TESTS = ("test_work_runs_in_parallel", "test_little_overhead", "test_one_pool")


@dataclass
class Variant:
    name: str
    file: Path
    fails: tuple[str, ...]  # the hidden tests it must fail, exactly
    correct: bool  # a correct parallel solution: must pass every test
    gradings: list[dict] = field(default_factory=list)


def variants() -> list[Variant]:
    found = [Variant("reference", SOLUTION / "histogram.py", (), True)]
    for folder in sorted((SOLUTION / "alternatives").iterdir()):
        if (folder / "histogram.py").is_file():
            found.append(Variant(folder.name, folder / "histogram.py", (), True))
    found.append(Variant("serial stub", EXERCISE / "histogram.py", PARALLEL_TESTS, False))
    spec = yaml.safe_load((MUTANTS / "mutants.yaml").read_text())
    for name, entry in spec.items():
        found.append(Variant(name, MUTANTS / name / "histogram.py", tuple(entry["fails"]), False))
    return found


def grade(variant: Variant, exercise) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as log:
        os.environ[BENCH_LOG_ENV] = log.name
        started = time.monotonic()
        # Under a gate, as `grader grade` grades: the other tests' process, then the
        # measured tests' process, started ahead and let go alone.
        result = grade_exercise(Submission(variant.name, {"histogram.py": variant.file},
                                           variant.file.parent), exercise, gate=TimingGate())
        seconds = time.monotonic() - started
        lines = [json.loads(line) for line in log.read().splitlines() if line.strip()]
    failed = {t.name for t in result.tests if t.verdict != "passed"}
    return {
        "unjudged": {t.name for t in result.tests if not t.judged},
        "seconds": seconds,
        "failed": failed,
        "verdicts": {t.name: t.verdict for t in result.tests},
        "messages": {t.name: t.message for t in result.tests if t.message},
        "summary": lines[-1] if lines else None,
        "status": result.status,
    }


def earned_parallel(g: dict) -> bool:
    return not (g["failed"] & set(PARALLEL_TESTS))


def as_expected(v: Variant, g: dict) -> bool:
    """Right verdicts: exactly its `fails` failed, except tests not judged (they pass
    unjudged and are retried by the next run: no verdict, not a wrong one)."""
    return not (g["failed"] ^ set(v.fails)) - g["unjudged"]


def wrong_verdicts(v: Variant, g: dict) -> set[str]:
    return (g["failed"] ^ set(v.fails)) - g["unjudged"]


def _fig(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(found: list[Variant], condition: str) -> None:
    print(f"\n== {condition}")
    head = (f"{'variant':22} {'parallel pts':>12} {'as expected':>11} {'unjudged':>8} "
            f"{'s/grading':>14} "
            f"{'concurrency':>18} {'in reconstruct':>16} {'CPU/serial':>18} {'procs':>6} "
            f"{'speedup':>18} {'rounds':>6} {'quiet':>5}")
    print(head)
    for v in found:
        gs = v.gradings
        if not gs:
            continue
        n = len(gs)
        earned = sum(earned_parallel(g) for g in gs)
        expected = sum(as_expected(v, g) for g in gs)
        unjudged = sum(1 for g in gs if g["unjudged"])
        secs = [g["seconds"] for g in gs]
        sums = [g["summary"] for g in gs if g["summary"]]
        conc = [s["figures"]["concurrency_median"] for s in sums]
        duty = [s["figures"]["duty_median"] for s in sums]
        cpu = [s["figures"]["cpu_overhead_median"] for s in sums]
        procs = [s["figures"]["worker_processes_median"] for s in sums]
        speed = [s["speedup"]["speedup_median"] for s in sums]
        rounds = [s["rounds"] for s in sums]
        quiet = sum(1 for s in sums if s["quiet"])
        should_earn = not set(v.fails) & set(PARALLEL_TESTS)
        ok = earned == (n if should_earn else 0) or expected == n
        print(f"{v.name:22} {earned:>5}/{n:<3}{'ok' if ok else '!!':>3} "
              f"{expected:>5}/{n:<5} {unjudged:>8} "
              f"{statistics.median(secs):>5.1f} (max {max(secs):>4.1f}) "
              f"{_fig(conc):>18} {_fig(duty):>16} {_fig(cpu):>18} "
              f"{statistics.median(procs) if procs else '-':>6} {_fig(speed):>18} "
              f"{statistics.median(rounds) if rounds else '-':>6} {quiet:>5}")
        for g in gs:
            if not as_expected(v, g):
                wrong = sorted(wrong_verdicts(v, g))
                print(f"    unexpected: {', '.join(wrong)}: "
                      + "; ".join(f"{k}: {g['verdicts'][k]} {g['messages'].get(k, '')[:160]}"
                                  for k in wrong))
    total = sum(len(v.gradings) for v in found)
    wrong = sum(1 for v in found for g in v.gradings if not as_expected(v, g))
    unjudged = sum(1 for v in found for g in v.gradings if g["unjudged"])
    print(f"wrong verdicts: {wrong} of {total} gradings; not judged (retried next run): "
          f"{unjudged}")
    secs = [g["seconds"] for v in found for g in v.gradings]
    if secs:
        print(f"{total} gradings, {statistics.median(secs):.1f} s median, "
              f"{max(secs):.1f} s max, {sum(secs) / 60:.1f} min in all")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="gradings per variant")
    parser.add_argument("--busy", action="store_true",
                        help="keep one process spinning on a core the whole time")
    parser.add_argument("--only", nargs="*", default=None, help="variants to grade")
    parser.add_argument("--affinity", default=None,
                        help="CPUs to grade on, e.g. 0 for a one-core machine")
    parser.add_argument("--sandbox", default="plain", choices=["plain", "bwrap", "auto"],
                        help="isolation of the test process (GRADER_SANDBOX); figures "
                             "reach the bench in plain mode only")
    args = parser.parse_args(argv)

    os.environ["GRADER_SANDBOX"] = args.sandbox
    exercise = load_exercise(EXERCISE)
    found = [v for v in variants() if args.only is None or v.name in args.only]
    if args.affinity is not None:
        os.sched_setaffinity(0, {int(c) for c in args.affinity.split(",")})
    hog = None
    if args.busy:
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    condition = ("busy: one process spinning the whole time" if args.busy else "quiet") + (
        f", affinity {args.affinity}" if args.affinity is not None else "") + (
        f", sandbox {args.sandbox}")
    print(f"{condition}; load average (1, 5, 15 min): {' '.join(map(str, os.getloadavg()))}")
    try:
        for i in range(args.rounds):
            for v in found:
                g = grade(v, exercise)
                v.gradings.append(g)
                mark = "" if as_expected(v, g) else "  UNEXPECTED: " + "; ".join(
                    f"{k} {g['verdicts'][k]} {g['messages'].get(k, '')[:120]}"
                    for k in sorted(wrong_verdicts(v, g)))
                s = g["summary"]
                fig = (f"conc {s['figures']['concurrency_median']} "
                       f"cpu {s['figures']['cpu_overhead_median']} "
                       f"rounds {s['rounds']}") if s else ""
                unjudged = f" not judged {sorted(g['unjudged'])}" if g["unjudged"] else ""
                print(f"[{i + 1}/{args.rounds}] {v.name:22} {g['seconds']:5.1f}s "
                      f"failed {sorted(g['failed']) or '-'}{unjudged} {fig}{mark}", flush=True)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    report(found, condition)
    print(f"load average at the end (1, 5, 15 min): {' '.join(map(str, os.getloadavg()))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
