"""How long does regrading an unchanged class take? (The gradebook's promise: seconds.)

A fake class of 30 copies of one demo student, graded on one quick exercise
(race_counter) through the real command line: a first full grading, then the same
command again, which should find every result in the gradebook and only rebuild the
reports. Prints both wall times (whole `python -m grader` processes, startup included),
the regrade's median over a few repetitions.

    python bench/run.py gradebook
    BENCH_STUDENTS=100 BENCH_STUDENT=boris python bench/run.py gradebook
"""
from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = "race_counter"


def _grade(klass: Path, out: Path, catalog: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the grader and its test processes)."""
    command = [sys.executable, "-m", "grader", "grade", str(klass), "--out", str(out),
               "--exercises", str(catalog), "--exercise", EXERCISE]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"grading failed ({done.returncode}): {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _catalog(into: Path) -> Path:
    """A catalogue of the one exercise: the bench does not depend on the others being
    in a loadable state while they are written."""
    (into / "exercises").mkdir(parents=True)
    shutil.copytree(ROOT / "exercises" / EXERCISE, into / "exercises" / EXERCISE)
    (into / "solutions").symlink_to(ROOT / "solutions")
    return into / "exercises"


def run() -> None:
    count = int(os.environ.get("BENCH_STUDENTS", "30"))
    student = os.environ.get("BENCH_STUDENT", "ada")
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    source = ROOT / "demo" / "class" / student
    with tempfile.TemporaryDirectory(prefix="bench-gradebook-") as tmp:
        work = Path(tmp)
        catalog = _catalog(work / "catalog")
        klass = work / "class"
        for i in range(count):
            shutil.copytree(source, klass / f"{student}{i:03}")
        out = work / "reports"
        first, first_cpu = _grade(klass, out, catalog)
        again = [_grade(klass, out, catalog) for _ in range(repeats)]
    walls, cpus = [w for w, _ in again], [c for _, c in again]
    # The wall time depends on what else runs: the load average and the CPU time say how much.
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{count} copies of demo/class/{student} on {EXERCISE}, default --jobs, "
          f"{os.cpu_count()} CPUs, load average {load}")
    print(f"  first grading:       {first:6.2f} s wall, {first_cpu:6.2f} s CPU")
    print(f"  regrade, unchanged:  {statistics.median(walls):6.2f} s wall median of {repeats} "
          f"(range {min(walls):.2f}-{max(walls):.2f} s), {statistics.median(cpus):.2f} s CPU; "
          f"target: under 2 s")


if __name__ == "__main__":
    run()
