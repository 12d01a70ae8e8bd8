"""How fast grading is (issue 13's goals), through the real command line.

Prints, each with the load average of the machine at the time (figures taken on a busy
machine are not comparable with quiet ones):

- one full submission (every reference solution, `grade solutions --force`): wall time,
  quiet and with one foreign process spinning a core (`--busy`); goal <= 15 s / <= 30 s;
- per exercise: the job's time, the time its hidden tests took inside the test process,
  and their ratio (the grader's overhead: start-up, staging, collection; goal <= 1.3x);
- the timing jobs (gil_choice, parallel_histogram): goal <= 12 s quiet, <= 25 s busy;
- the demo class as `make grade` grades it: the first run into a fresh folder (goal
  <= 25 s quiet), and a second with nothing changed (goal <= 3 s, says "nothing changed");
  with `--busy` too, the first run graded while a foreign process spins a core (the
  second must still have nothing to grade: whatever the load, a verdict is final unless
  it was not judged).

Each run also gives its CPU time (user + sys of the grader and its test processes): on a
machine shared with other work, wall time depends on the neighbours, CPU time much less.

    python bench/run.py speed
    BENCH_SPEED_BUSY=0 python bench/run.py speed     # quiet figures only
"""
from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
DEMO_EXERCISES = ["--exercise", "race_counter", "--exercise", "transfer_deadlock",
                  "--exercise", "parallel_histogram"]
TIMING = ("gil_choice", "parallel_histogram")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (5 min {five:.1f})"


@contextmanager
def busy_core(on: bool) -> Iterator[None]:
    """One foreign process spinning a core, as a neighbour's job would."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        yield
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def grade(args: list[str], out: Path) -> tuple[float, str]:
    seconds, said, _ = grade_cpu(args, out)
    return seconds, said


def grade_cpu(args: list[str], out: Path) -> tuple[float, str, float]:
    """Wall seconds, what the run printed, and CPU seconds of the grader and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "grader", "grade", *args, "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        print(f"  grade {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return seconds, done.stdout + done.stderr, cpu


def per_exercise(out: Path) -> dict[str, tuple[float, float, float, float]]:
    """exercise -> (points, max points, job seconds, seconds of the hidden tests)."""
    data = json.loads((out / "class.json").read_text())
    found = {}
    for submission in data["submissions"]:
        for ex in submission["exercises"]:
            inside = sum(t.get("duration", 0.0) for t in ex.get("tests", ()))
            found[ex["exercise"]] = (ex["points"], ex["max_points"], ex["duration"], inside)
    return found


def full_submission(tmp: Path, busy: bool) -> None:
    what = "busy (one core spun by another process)" if busy else "quiet"
    with busy_core(busy):
        before = load()
        seconds, _, cpu = grade_cpu(["solutions", "--force"], tmp / f"solutions-{busy}")
        after = load()
    goal = 30 if busy else 15
    print(f"one full submission, {what}: {seconds:.1f} s (goal <= {goal} s), {cpu:.1f} CPU s; "
          f"{before} before, {after} after")
    try:
        found = per_exercise(tmp / f"solutions-{busy}")
    except (OSError, ValueError, KeyError):
        return
    print(f"  {'exercise':22} {'points':>7} {'job s':>6} {'tests s':>8} {'overhead':>8}")
    for ex, (points, most, job, inside) in sorted(found.items(), key=lambda kv: -kv[1][2]):
        ratio = f"{job / inside:.2f}x" if inside > 0 else "-"
        flag = "  (timing job: goal <= %d s)" % (25 if busy else 12) if ex in TIMING else ""
        print(f"  {ex:22} {points:>3g}/{most:<3g} {job:6.1f} {inside:8.1f} {ratio:>8}{flag}")
    timing = ", ".join(f"{ex} {found[ex][2]:.1f} s" for ex in TIMING if ex in found)
    print(f"  timing jobs: {timing} (goal <= {25 if busy else 12} s each)")
    total_job = sum(v[2] for v in found.values())
    total_in = sum(v[3] for v in found.values())
    if total_in:
        print(f"  all exercises: {total_job:.1f} s of jobs, {total_in:.1f} s of hidden tests: "
              f"overhead {total_job / total_in:.2f}x (goal <= 1.3x)")


def demo_class(tmp: Path, busy: bool = False) -> None:
    out = tmp / f"demo-{busy}"
    what = "while a foreign process spins a core" if busy else "fresh folder"
    with busy_core(busy):
        before = load()
        first, _, cpu = grade_cpu(["demo/class", *DEMO_EXERCISES], out)
    goal = " (goal <= 25 s quiet)" if not busy else ""
    print(f"make grade (demo class, {what}): {first:.1f} s{goal}, {cpu:.1f} CPU s; {before}")
    before = load()
    second, said, cpu = grade_cpu(["demo/class", *DEMO_EXERCISES], out)
    nothing = "Nothing changed" in said
    line = next((ln for ln in said.splitlines() if re.match(r"Graded \d+ jobs?:", ln)), "")
    print(f"make grade again, nothing changed: {second:.1f} s (goal <= 3 s), {cpu:.1f} CPU s, "
          f"says \"nothing changed\": {'yes' if nothing else 'NO'}; {before}")
    if line and not nothing:
        print(f"  {line}")


def run() -> None:
    busy = os.environ.get("BENCH_SPEED_BUSY", "1") != "0"
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip() or "?"
    print(f"commit {head}, {os.cpu_count()} CPUs, {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        full_submission(Path(tmp), busy=False)
        if busy:
            full_submission(Path(tmp), busy=True)
        demo_class(Path(tmp))
        if busy:
            demo_class(Path(tmp), busy=True)


if __name__ == "__main__":
    run()
