"""What one test process costs before its first test: issue 13's child start-up.

Every graded exercise starts at least one test process (the interpreter, pytest, the
grader's plugin, the collection of the hidden tests); on the twelve references that is
about a fifth of the CPU time of a full submission. This starts the very command and
environment the grader gives a test process (grader/sandbox.py: `_Run._command`, `_env`,
the results channel), with `--collect-only` added, in a staged copy of the reference, in
plain mode (the isolation's own cost, bubblewrap, is not what is measured here), and
prints the median CPU time (user + sys) and wall time of a process from launch to exit,
and whether the plugin reported the collection through the channel (a start-up that
lost the plugin would look fast and grade nothing).

    python bench/run.py startup
    BENCH_STARTUP_RUNS=40 BENCH_STARTUP_EXERCISES=race_counter,gil_choice python bench/run.py startup
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
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import channel, sandbox  # noqa: E402
from grader.catalog import load_catalog  # noqa: E402


def one_start(run: sandbox._Run, results: Path) -> tuple[float, float, bool]:
    """CPU seconds, wall seconds, and whether the plugin reported the collected tests."""
    key, results_fd, key_read = channel.hand_down(results)
    env = run._env(channel.spec(results_fd, key_read), uuid.uuid4().hex)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        subprocess.run([*run._command(), "--collect-only"], cwd=run.staged, env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       pass_fds=(results_fd, key_read), timeout=120)
    finally:
        os.close(results_fd)
        os.close(key_read)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    reader = channel.Reader(results, key, None)
    collected = any(r.get("event") == "collected" and r.get("tests") for r in reader.read())
    return cpu, wall, collected


def run() -> None:
    runs = int(os.environ.get("BENCH_STARTUP_RUNS", "15"))
    wanted = [e for e in os.environ.get("BENCH_STARTUP_EXERCISES", "race_counter,gil_choice").split(",") if e]
    catalog = load_catalog(ROOT / "exercises", ROOT / "solutions")
    sandbox.compile_grader()
    one, five, _ = os.getloadavg()
    print(f"{runs} test processes per exercise, started as the grader starts them, up to the end of "
          f"collection (--collect-only), plain mode; load {one:.1f} (5 min {five:.1f})")
    print(f"  {'exercise':22} {'CPU ms':>7} {'wall ms':>8}  collected")
    for exercise in catalog.exercises:
        if exercise.id not in wanted or exercise.solution is None:
            continue
        files = {name: exercise.solution / name for name in exercise.files}
        tmp = Path(tempfile.mkdtemp(prefix="bench-startup-"))
        try:
            staged = sandbox.stage(exercise, files, tmp / "staged")
            run_ = sandbox._Run(exercise, staged, tmp, None, "plain", list(files.values()))
            cpus, walls, every = [], [], True
            for i in range(runs):
                sandbox._restage(exercise, files, staged)  # the plugin removed the hidden sources
                cpu, wall, collected = one_start(run_, tmp / f"results-{i}.jsonl")
                cpus.append(cpu)
                walls.append(wall)
                every = every and collected
            run_.output.close()
            print(f"  {exercise.id:22} {statistics.median(cpus) * 1000:7.0f} {statistics.median(walls) * 1000:8.0f}"
                  f"  {'yes' if every else 'NO: the plugin did not report'}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run()
