"""How reliable and how fast are the verdicts of the concurrency engine?

For every exercise graded under the controlled scheduler (mode: threads) that has
mutants, or for the exercises named in BENCH_EXERCISES (any mode), grade the reference, the untouched stub and every mutant RUNS times through the
real grading path (a child process per grading) and count how often the verdict is the
expected one: the reference passes everything, the stub loses points, each mutant fails
exactly the tests its mutants.yaml names. Also prints the time per grading and per hidden
test, and at which schedule each bug was found, against the budget (the margin).

    python bench/run.py engine            # 10 gradings of each variant by default
    BENCH_RUNS=200 python bench/run.py engine
    BENCH_EXERCISES=race_counter,transfer_deadlock python bench/run.py engine
    BENCH_JOBS=1 ...                      # one grading at a time
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.catalog import Exercise, load_catalog  # noqa: E402
from grader.cores import usable_cores  # noqa: E402
from grader.runner import grade_exercise  # noqa: E402
from grader.submissions import Submission  # noqa: E402


def variants(exercise: Exercise) -> list[tuple[str, Path, set[str] | None]]:
    """(name, folder holding the student file, exact failing tests or None = 'some')."""
    found: list[tuple[str, Path, set[str] | None]] = [
        ("reference", ROOT / "solutions" / exercise.id, set()),
        ("stub", exercise.path, None),
    ]
    mutants = ROOT / "tests" / "mutants" / exercise.id
    spec = yaml.safe_load((mutants / "mutants.yaml").read_text()) if (mutants / "mutants.yaml").is_file() else {}
    for name, entry in sorted(spec.items()):
        found.append((name, mutants / name, set(entry["fails"])))
    return found


def grade_once(exercise: Exercise, folder: Path) -> tuple[set[str], float, dict[str, float], list[int],
                                                         dict[str, tuple[int, float]]]:
    files = {name: folder / name for name in exercise.files}
    result = grade_exercise(Submission(folder.name, files, folder), exercise)
    failed = {t.name for t in result.tests if not t.passed}
    durations = {t.name: t.duration for t in result.tests}
    found_at = [int(t.details["found_at_schedule"]) for t in result.tests
                if not t.passed and "found_at_schedule" in t.details]
    # What the engine explored in each passing test: (schedules, ms per schedule).
    explored = {t.name: (int(t.details["figures"]["schedules"]), float(t.details["figures"]["ms per schedule"]))
                for t in result.tests
                if t.passed and "ms per schedule" in (t.details.get("figures") or {})}
    return failed, result.duration, durations, found_at, explored


def run() -> None:
    runs = int(os.environ.get("BENCH_RUNS", "10"))
    # BENCH_JOBS=1 leaves a core free for another benchmark running at the same time.
    jobs = int(os.environ.get("BENCH_JOBS", "0")) or max(1, min(2, usable_cores().usable))
    catalog = load_catalog(ROOT / "exercises")
    print(f"{runs} gradings of each variant, {jobs} at a time, through the real grading path")
    print(f"{'exercise':18} {'variant':30} {'right':>9} {'s/grading':>10} {'found at (max)':>15}")
    totals = [0, 0]
    only = {e for e in os.environ.get("BENCH_EXERCISES", "").split(",") if e}
    for exercise in catalog.exercises:
        if not (ROOT / "tests" / "mutants" / exercise.id).is_dir():
            continue
        # By default the thread exercises; any exercise when named in BENCH_EXERCISES.
        if (only and exercise.id not in only) or (not only and exercise.mode != "threads"):
            continue
        per_test: dict[str, list[float]] = {}
        per_schedule: dict[str, list[float]] = {}
        schedules: dict[str, int] = {}
        for name, folder, expected in variants(exercise):
            # An exercise that measures time is graded alone, as the grader itself does.
            with ThreadPoolExecutor(1 if exercise.timing else jobs) as pool:
                outcomes = list(pool.map(lambda _: grade_once(exercise, folder), range(runs)))
            right = sum(1 for failed, *_ in outcomes
                        if (failed == expected if expected is not None else bool(failed)))
            totals[0] += right
            totals[1] += runs
            seconds = statistics.median(o[1] for o in outcomes)
            found = max((max(o[3]) for o in outcomes if o[3]), default=None)
            budget = f"{found}/{exercise.schedules}" if found is not None else "-"
            print(f"{exercise.id:18} {name:30} {right:>4}/{runs:<4} {seconds:>10.2f} {budget:>15}")
            if name == "reference":
                for _, _, durations, _, explored in outcomes:
                    for test, d in durations.items():
                        per_test.setdefault(test, []).append(d)
                    for test, (count, ms) in explored.items():
                        per_schedule.setdefault(test, []).append(ms)
                        schedules[test] = count
        for test, values in per_test.items():
            engine = (f", {schedules[test]} schedules at a median {statistics.median(per_schedule[test]):.1f} ms"
                      if test in per_schedule else "")
            print(f"    reference {test}: median {statistics.median(values):.2f} s, "
                  f"max {max(values):.2f} s{engine}")
    print(f"right verdicts: {totals[0]} of {totals[1]} gradings")


if __name__ == "__main__":
    start = time.perf_counter()
    run()
    print(f"({time.perf_counter() - start:.0f} s)")
