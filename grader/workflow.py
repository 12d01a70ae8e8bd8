"""Grading a class from start to end: what `grader grade` does once its input is checked.

The command line (grader/cli.py) parses the arguments, finds the submissions and prints;
this module runs the grading: plan the jobs against the gradebook, grade what changed
(on local threads or a Dask cluster), store each result as soon as it is graded, write
the similarity report and every page and export, and say whether the setup, rather than
the students, is broken. Progress and warnings go through the callables it is given, so
it prints nothing itself.
"""
from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from grader.catalog import Exercise
from grader.model import ExerciseResult, SubmissionResult

if TYPE_CHECKING:
    from grader.batch import Job, Plan
    from grader.roster import Person
    from grader.submissions import Submission

# Opened with each job's expected seconds; yields `step(job, result)`, called once per finished job.
Progress = Callable[[Sequence[float]], AbstractContextManager[Callable[[Any, ExerciseResult], None]]]
# A message for the person running the grader, and the exception behind it, if any.
Warn = Callable[[str, BaseException | None], None]


class UsageError(Exception):
    """Bad input from the person at the keyboard: reported as one line, exit status 2."""


@dataclass(frozen=True)
class ClassRun:
    """What a grading run did, for the command line to tell."""

    results: list[SubmissionResult]  # everyone in the gradebook, as published
    work: "Plan"  # the jobs: graded now, or taken unchanged from the gradebook
    jobs: int  # jobs at once
    seconds: float
    broken: str | None  # why the setup, not the submissions, is at fault (grader/health.py)


def grade_class(submissions: Sequence["Submission"], people: dict[str, "Person"],
                exercises: Sequence[Exercise], *, book_path: Path, out: Path, jobs: int,
                cluster: Any, catalog_root: Path, force: bool, late_rules: dict[str, Any],
                released_when: dict[str, Any], progress: Progress, warn: Warn) -> ClassRun:
    """Grade SUBMISSIONS on EXERCISES into the gradebook at BOOK_PATH and publish every
    report under OUT. On KeyboardInterrupt (Ctrl-C, SIGTERM) the running tests are killed,
    what finished is kept and published, and the interrupt goes on to the caller."""
    from grader import batch, late, runner
    from grader.gradebook import Gradebook
    from grader.health import setup_failure
    from grader.report.publish import publish
    from grader.report.render import machine

    started = time.monotonic()
    with Gradebook.open(book_path) as book:
        work = batch.plan(submissions, exercises, book, force=force)
        book.start_run(jobs, machine())
        book.store_people(people)
        book.set_meta("feedback", {**book.meta("feedback", {}), **released_when})

        def adjusted(result: ExerciseResult, job: "Job") -> ExerciseResult:
            from grader.folders import annotate
            # A file graded under another name, or those seen instead: said in every report;
            # the late policy from the platform's submission time.
            result = annotate(result, job.submission, job.exercise)
            return late.apply(result, getattr(job.submission, "person", None),
                              late_rules[job.exercise.id])

        # Taken from the gradebook: the submission time or the policy may have changed.
        for job, result in work.cached:
            now = adjusted(result, job)
            if now != result:
                book.store(now, job.key)

        def grade(job: "Job", gate: batch.TimingGate) -> ExerciseResult:
            # grade_submission of one exercise is grade_exercise, through the runner's
            # per-submission entry point (the seam tests replace); every test process it
            # starts enters the gate (a timing exercise's measured tests run alone).
            return adjusted(runner.grade_submission(job.submission, [job.exercise], gate=gate).exercises[0],
                            job)

        weights = batch.expected_seconds(work.todo, book.durations(), jobs)
        fresh: list[ExerciseResult] = []  # graded in this run: what tells a broken setup
        with progress(weights) as step:
            def store(done: batch.Done) -> None:
                result = done.result
                if done.error is not None:  # one broken job must not cost the others
                    exc = done.error
                    warn(f"internal error grading {done.job.submission.student}: "
                         f"{type(exc).__name__}: {exc} (exercise {done.job.exercise.id})", exc)
                    result = batch.crashed(done.job.submission.student, [done.job.exercise],
                                           exc).exercises[0]
                assert result is not None  # a job that raised nothing has its result
                # Committed as soon as graded: an interrupted run keeps what it finished.
                book.store(result, done.job.key)
                fresh.append(result)
                step(done.job, result)

            from grader.isolation import cancel_all  # Ctrl-C: kill the running tests at once
            try:
                if cluster is None:
                    batch.run(work.todo, grade, jobs=jobs, on_done=store, stop=cancel_all)
                else:
                    from grader import distributed
                    distributed.run(work.todo, cluster, catalog=catalog_root, on_done=store)
            except KeyboardInterrupt:
                # The running tests are already killed; what finished is in the gradebook,
                # and its reports are written before leaving.
                publish(book, out)
                raise
        book.finish_run(machine())
        _similarity(submissions, exercises, out, warn, book, work)
        everyone = publish(book, out)

    # Zeros for everyone would be the setup's fault. The results are stored as not
    # final, so the next run grades them again.
    broken = setup_failure([SubmissionResult("this run", tuple(fresh))], exercises)
    return ClassRun(everyone, work, jobs, time.monotonic() - started, broken)


def _similarity(submissions: Sequence["Submission"], exercises: Sequence[Exercise], out: Path,
                warn: Warn, book: Any, work: "Plan") -> None:
    """The similarity report of the exercises graded, for the class page (when the
    `similarity` extra is installed; said once otherwise).

    The pairs depend only on the files compared: when every job's key (student, exercise,
    file hash, exercise hash) is what the report in OUT was made from, it is kept as it
    is; comparing means importing copydetect (numpy, matplotlib), a second or more on a
    run that graded nothing. One submission alone has nobody to be compared with."""
    import hashlib
    import json

    from grader import similarity
    if not similarity.available():
        warn("note: no similarity report (pip install 'concurrency-grader[similarity]' "
             "adds one to the class page)", None)
        return
    keys = sorted((k.student, k.exercise, k.file_hash, k.exercise_hash)
                  for k in [job.key for job, _ in work.cached] + [job.key for job in work.todo])
    made_from = hashlib.sha256(json.dumps(
        [similarity.THRESHOLD, similarity.NOISE_TOKENS, similarity.GUARANTEE_TOKENS, similarity.METHOD, keys]
    ).encode()).hexdigest()
    where = str(out.resolve())
    known = book.meta("similarity_made_from", {})
    if isinstance(known, dict) and known.get(where) == made_from \
            and (out / similarity.FILENAME).is_file():
        return
    pairs = [p for e in exercises for p in similarity.compare(list(submissions), e)] \
        if len(submissions) > 1 else []
    similarity.write(out, exercises, pairs)
    book.set_meta("similarity_made_from", {**(known if isinstance(known, dict) else {}),
                                           where: made_from})
