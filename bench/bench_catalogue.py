"""The whole catalogue as a user grades it: `python -m grader grade solutions` must give
full marks on every exercise and `python -m grader grade exercises` (the stubs) must lose
points on every exercise, in each of RUNS consecutive runs of the real command line.

Also prints how long one full submission (every reference) takes with --jobs 2, and which
exercises dominate that time (the target: at most 60 s on a 2-core machine).

    python bench/run.py catalogue                 # 2 runs of each by default
    BENCH_RUNS=10 python bench/run.py catalogue
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


Found = dict[str, tuple[float, float, float]]  # exercise -> (points, max points, seconds)


def grade(what: str, out: Path) -> tuple[Found, float, int]:
    """One run of the command line: what each exercise scored, wall seconds, exit code."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "grader", "grade", what, "--force",
                           "--jobs", "2", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not (out / "class.json").is_file():
        print(f"  grade {what} exited {done.returncode}: {done.stderr.strip()[-300:]}")
        return {}, seconds, done.returncode
    data = json.loads((out / "class.json").read_text())
    return {ex["exercise"]: (ex["points"], ex["max_points"], ex["duration"])
            for submission in data["submissions"] for ex in submission["exercises"]}, \
        seconds, done.returncode


def run() -> None:
    runs = int(os.environ.get("BENCH_RUNS", "2"))
    expected = sorted(p.parent.name for p in (ROOT / "exercises").glob("*/exercise.yaml"))
    print(f"{runs} consecutive runs of `grade solutions` and `grade exercises`, --jobs 2, "
          f"{len(expected)} exercises")
    right = {"solutions": 0, "exercises": 0}
    wall: list[float] = []
    durations: dict[str, list[float]] = {}
    misses: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-catalogue-") as tmp:
        for n in range(1, runs + 1):
            for what in ("solutions", "exercises"):
                found, seconds, code = grade(what, Path(tmp) / f"{what}-{n}")
                if what == "solutions":
                    wall.append(seconds)
                    for e, (_, _, took) in found.items():
                        durations.setdefault(e, []).append(took)
                    wrong = [e for e in expected if e not in found or found[e][0] != found[e][1]]
                else:
                    wrong = [e for e in expected if e not in found or found[e][0] >= found[e][1]]
                ok = code == 0 and not wrong
                right[what] += ok
                detail = "" if ok else "  wrong: " + ", ".join(
                    f"{e} {found[e][0]:g}/{found[e][1]:g}" if e in found else f"{e} missing" for e in wrong)
                if not ok:
                    misses.append(f"run {n} {what}:{detail}")
                print(f"  run {n:>2} grade {what:9} {seconds:6.1f} s  {'as expected' if ok else 'WRONG'}{detail}",
                      flush=True)
    print(f"grade solutions: full marks on all {len(expected)} in {right['solutions']} of {runs} runs")
    print(f"grade exercises: points lost on every exercise in {right['exercises']} of {runs} runs")
    if wall:
        print(f"one full submission (every reference, --jobs 2): median {statistics.median(wall):.1f} s, "
              f"range {min(wall):.1f}-{max(wall):.1f} s")
        slowest = sorted(durations.items(), key=lambda kv: -statistics.median(kv[1]))[:4]
        print("  slowest exercises (median s per grading): " +
              ", ".join(f"{e} {statistics.median(d):.1f}" for e, d in slowest))
    for line in misses:
        print("  " + line)


if __name__ == "__main__":
    run()
