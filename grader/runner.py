"""One submission x one exercise -> an ExerciseResult.

The runner turns what the sandbox observed into points, test by test, as exercise.yaml
declares them. It never raises for anything a student did; a grader bug becomes an
ExerciseResult with status "error", so one bad job never stops a class run.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shlex
import time
import traceback
from pathlib import Path
from typing import Any, Iterable

from grader.catalog import Exercise
from grader.isolation import sandbox_mode
from grader.model import REPLAY, SEED, ExerciseResult, SubmissionResult, TestOutcome, TestSpec
from grader.sandbox import Cancelled, Gate, SandboxRun, TestRecord, run_hidden_tests
from grader.submissions import Submission, unpacked

log = logging.getLogger(__name__)


def grade_exercise(submission: Submission, exercise: Exercise, *,
                   replay_seed: int | None = None, gate: Gate | None = None) -> ExerciseResult:
    """Run EXERCISE's hidden tests against SUBMISSION's file(s) and score them, each test
    process inside GATE when other grading runs meanwhile (grader/batch.py)."""
    files = {name: submission.files[name] for name in exercise.files if name in submission.files}
    refusal = None if files else submission.refusal(exercise.files)
    if refusal:  # a link out of the student's folder, a broken zip, a duplicate name
        tests = tuple(_outcome(spec, "refused", refusal) for spec in exercise.tests)
        return _result(exercise, tests, status="not_submitted", message=refusal, sandbox="")
    if not files:
        missing = ", ".join(exercise.files)
        tests = tuple(_outcome(spec, "not_submitted", f"{missing} was not submitted") for spec in exercise.tests)
        return _result(exercise, tests, status="not_submitted", message=f"{missing} was not submitted",
                       sandbox="")
    started = time.monotonic()
    try:
        file_hash = hash_files(files)
        run = run_hidden_tests(exercise, files, replay_seed=replay_seed, gate=gate)
        tests, warnings = score(exercise, run, folder=replay_location(submission))
        message = "; ".join([*run.notes, *warnings])
        if run.restarts:
            message = "; ".join(filter(None, [message, f"the tests ran in {run.processes} processes "
                                                       "after a crash or hang"]))
        # Waiting for the gate is the other jobs' time, not this one's.
        return _result(exercise, tests, message=message, file_hash=file_hash,
                       duration=time.monotonic() - started - run.waited, sandbox=run.mode)
    except Cancelled:
        raise  # the grader is stopping: no result at all beats a made-up one
    except Exception as exc:  # a bug of the grader's, not the student's: keep the class run going
        log.exception("grading %s for %s failed", exercise.id, submission.student)
        where = traceback.extract_tb(exc.__traceback__)[-1]
        problem = f"the grader failed: {type(exc).__name__}: {exc} ({Path(where.filename).name} line {where.lineno})"
        tests = tuple(_outcome(spec, "not_judged", problem) for spec in exercise.tests)
        return _result(exercise, tests, status="error", message=problem,
                       duration=time.monotonic() - started, sandbox=sandbox_mode())


def replay_command(folder: str, exercise_id: str, test: str, seed: int) -> str:
    """What runs one failing schedule again: built here, by the grader, from the seed the
    test process recorded (it sees only a staged copy, not the submission's folder)."""
    return f"python -m grader replay {folder} {exercise_id} {test} --seed {seed}"


def _with_replay(details: dict[str, Any], folder: str, exercise_id: str, test: str) -> dict[str, Any]:
    """DETAILS with the replay command after the seed of the schedule that failed, if the
    engine recorded one (an int, from `Exploration.assert_ok`)."""
    seed = details.get(SEED)
    if not isinstance(seed, int) or isinstance(seed, bool):
        return details
    out: dict[str, Any] = {}
    for key, value in details.items():
        out[key] = value
        if key == SEED:
            out[REPLAY] = replay_command(folder, exercise_id, test, seed)
    return out


def replay_location(submission: Submission) -> str:
    """The submission's folder as a shell word, relative to where the grader runs when that
    is shorter; an archive unpacked into a temporary folder has no lasting path, so there
    the student's name stands in."""
    root = Path(submission.root)
    if unpacked(root):
        return f"<{submission.student}'s folder>"
    try:
        relative = os.path.relpath(root)
    except ValueError:  # another drive
        relative = str(root)
    return shlex.quote(relative if not relative.startswith("..") else str(root))


def grade_submission(submission: Submission, exercises: Iterable[Exercise], *,
                     replay_seed: int | None = None, gate: Gate | None = None) -> SubmissionResult:
    results = tuple(grade_exercise(submission, e, replay_seed=replay_seed, gate=gate) for e in exercises)
    return SubmissionResult(submission.student, results)


def hash_files(files: dict[str, Path]) -> str:
    """sha256 of the file's bytes (of name and bytes of each, for several files)."""
    if len(files) == 1:
        return hashlib.sha256(next(iter(files.values())).read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    return digest.hexdigest()


def score(exercise: Exercise, run: SandboxRun, *,
          folder: str = "<your folder>") -> tuple[tuple[TestOutcome, ...], list[str]]:
    """One TestOutcome per test of exercise.yaml; warnings about tests the yaml does not know.
    FOLDER names the submission in the replay command of a failed schedule."""
    by_function: dict[str, list[TestRecord]] = {}
    for record in run.records:
        by_function.setdefault(record.function, []).append(record)
    if run.tampered:
        changed = ", ".join(run.tampered[:3]) + (" ..." if len(run.tampered) > 3 else "")
        message = f"the hidden tests were changed during the run ({changed})"
        return tuple(_outcome(spec, "tampered", message) for spec in exercise.tests), []
    outcomes = []
    for spec in exercise.tests:
        records = by_function.pop(spec.name, [])
        if not records:
            why = run.notes[-1] if run.notes else "the hidden tests do not define it"
            outcomes.append(_outcome(spec, "not_judged", f"did not run: {why}"))
            continue
        # A parametrised test earns its points only if every case passes; the first
        # failing case explains why, naming the case when the cases differ.
        failed = [r for r in records if r.verdict != "passed"]
        duration = sum(r.duration for r in records)
        if not failed:
            # What the test measured, when it recorded it (a parametrised test's cases
            # each may: the last one that did speaks for the test).
            said = [r for r in records if r.message or r.details]
            unjudged = next((r for r in records if not r.judged), None)
            outcomes.append(_outcome(spec, "passed", said[-1].message if said else "",
                                     said[-1].details if said else None, duration,
                                     unjudged.not_judged_reason if unjudged else None))
        else:
            failing = failed[0]
            alike = len(failed) == len(records) and len({r.message for r in failed}) == 1
            case = "" if alike else failing.test[len(failing.function):]
            message = f"{case} {failing.message}".strip()
            details = _with_replay(failing.details, folder, exercise.id, failing.test)
            outcomes.append(_outcome(spec, failing.verdict, message, details, duration))
    warnings = [f"hidden test {name} is not in exercise.yaml; ignored" for name in sorted(by_function)]
    for warning in warnings:
        log.warning("%s: %s", exercise.id, warning)
    return tuple(outcomes), warnings


def _outcome(spec: TestSpec, verdict: str, message: str, details: dict | None = None,
             duration: float = 0.0, not_judged: str | None = None) -> TestOutcome:
    """NOT_JUDGED: why a passing test did not judge (a key of model.NOT_JUDGED), if it did not."""
    points = spec.points if verdict == "passed" else 0.0
    return TestOutcome(spec.name, spec.title, spec.points, points, verdict, message,
                       dict(details or {}), round(duration, 4), judged=not_judged is None,
                       not_judged_reason=not_judged or "")


def _result(exercise: Exercise, tests: tuple[TestOutcome, ...], *, status: str = "graded",
            message: str = "", file_hash: str = "", duration: float = 0.0,
            sandbox: str = "") -> ExerciseResult:
    return ExerciseResult(exercise.id, exercise.title, exercise.max_points, sum(t.points for t in tests),
                          tests, status=status, message=message, file_hash=file_hash,
                          duration=round(duration, 3), sandbox=sandbox)
