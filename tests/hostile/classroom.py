"""A class of hostile submissions, graded through the real path (grade_exercise).

Each folder under cases/ is one student whose counter.py misbehaves one way; the class
is graded on race_counter with tight limits (a hang costs its 3 s test limit, not 30),
several at a time like `grader grade --jobs`. Before and after, the repository's
exercises/, solutions/ and grader/ are hashed; after, every process whose command line
carries the cases' marker is looked for. Used by tests/hostile/ and bench/bench_hostile.py.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from grader.catalog import Exercise, load_catalog
from grader.isolation import sandbox_mode
from grader.model import ExerciseResult
from grader.runner import grade_exercise, grade_submission
from grader.submissions import Submission

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"
MARKER = "hostile-leftover"  # in the command line of every process a case leaves behind
WATCHED = ("exercises", "solutions", "grader")  # what no submission may change
TEST_LIMIT, RUN_LIMIT = 3.0, 40.0
# The correct (if loud or curious) cases: graded under the exercise's own limits, since the
# tight limit is only there to make a hang cheap, and on a loaded machine it timed out a
# correct counter (honest_introspection ran 2.998 s of a 3 s limit at load 6).
HONEST = ("floods_stdout", "honest_introspection")


@dataclasses.dataclass(frozen=True)
class ClassRun:
    results: dict[str, ExerciseResult]  # case -> its race_counter result
    mixed: tuple[ExerciseResult, ...]  # a hostile counter.py beside a correct transfer.py
    elapsed: float  # seconds to grade the whole class
    mode: str  # the sandbox mode it was graded in
    leftovers: tuple[str, ...]  # command lines of processes a case left alive
    changed: tuple[str, ...]  # repository files that changed during the run


def catalog_exercise(name: str, **limits: float) -> Exercise:
    exercise = load_catalog(ROOT / "exercises").get(name)
    return dataclasses.replace(exercise, **limits) if limits else exercise


def cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "counter.py").is_file())


def repository_hashes() -> dict[str, str]:
    hashes = {}
    for top in WATCHED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                hashes[str(path.relative_to(ROOT))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def leftovers() -> list[str]:
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if MARKER in (p.info["cmdline"] or []) and p.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(" ".join(p.info["cmdline"]))
        except psutil.Error:
            continue
    return found


def grade_class(jobs: int = 4, names: list[str] | None = None) -> ClassRun:
    counter = catalog_exercise("race_counter", test_timeout=TEST_LIMIT, run_timeout=RUN_LIMIT)
    honest = catalog_exercise("race_counter")
    transfer = catalog_exercise("transfer_deadlock")
    before = repository_hashes()
    started = time.monotonic()

    def one(case: str) -> ExerciseResult:
        path = CASES / case / "counter.py"
        return grade_exercise(Submission(case, {"counter.py": path}, path.parent),
                              honest if case in HONEST else counter)

    names = names or cases()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        mixed_job = pool.submit(grade_submission, Submission("mixed", {
            "counter.py": CASES / "os_exit_in_call" / "counter.py",
            "transfer.py": ROOT / "solutions" / "transfer_deadlock" / "transfer.py"}, CASES),
            [counter, transfer])
        results = dict(zip(names, pool.map(one, names)))
        mixed = mixed_job.result().exercises
    elapsed = time.monotonic() - started
    after = repository_hashes()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return ClassRun(results, tuple(mixed), elapsed, sandbox_mode(), tuple(leftovers()), tuple(changed))
