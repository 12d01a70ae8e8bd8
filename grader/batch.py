"""Grading a class: the jobs (submission x exercise), what the gradebook already knows,
and running the rest in parallel without ever skewing a time measurement.

Discipline (the course's readers-writer lesson): test processes that judge correctness
are readers, they share the machine with one another; a test process that measures time
(an exercise with `timing: true`: its tests marked `measured`, or all of them) is a
writer, it runs alone, with no other grading running, because its speedup and
concurrency figures measure the cores. `TimingGate` implements that with one Condition,
writers preferred so a stream of readers cannot starve a timing job. Each job gets the
gate and its test processes enter it one by one (grader/sandbox.py: `shares`): a timing
exercise's other tests run as readers, in a process of their own, and only its measured
tests wait for the machine to be free.

The gate alone would be correct but slow: a timing job queued among correctness jobs
drains the pool each time. So `plan` also orders the work: every correctness job first,
then the timing jobs. The gate is what makes it safe (the first measured tests still wait
for the last correctness jobs to finish); the order is what keeps the cores busy.
"""
from __future__ import annotations

import hashlib
import statistics
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import grader
from grader.catalog import Exercise
from grader.gradebook import Gradebook, Key
from grader.model import ExerciseResult, SubmissionResult, TestOutcome

if TYPE_CHECKING:
    from grader.submissions import Submission


JOBS_OVER_CORES = 1  # default_jobs: correctness jobs beyond the usable cores


def default_jobs() -> int:
    """Jobs at once by default: one more than the cores this process may really use
    (cgroups, affinity). A correctness job waits for part of its time (real sleeps and
    timeouts, child processes starting and being joined): on the twelve references, two
    jobs kept two cores 50 to 80% busy, and three graded a full submission 1.5 s sooner
    (bench/bench_speed.py). Measured tests are not concerned: they run alone, whatever
    this number."""
    from grader.cores import usable_cores
    return usable_cores().usable + JOBS_OVER_CORES


# ---------------------------------------------------------------- the readers-writer gate

class TimingGate:
    """Many correctness jobs at once, or one timing job alone: a readers-writer lock."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._readers = 0  # correctness jobs running
        self._writing = False  # a timing job running
        self._writers_waiting = 0
        self.peak = 0  # the most correctness jobs ever running at once, for tests and notes

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._changed:
            # Writers preferred: a waiting timing job stops new correctness jobs from
            # starting, otherwise with enough students it would wait forever.
            while self._writing or self._writers_waiting:
                self._changed.wait()
            self._readers += 1
            self.peak = max(self.peak, self._readers)
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                if self._readers == 0:
                    self._changed.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._changed:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._changed.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()

    @contextmanager
    def entered(self, timing: bool) -> Iterator[None]:
        with self.exclusive() if timing else self.shared():
            yield


# ---------------------------------------------------------------- the plan

@dataclass(frozen=True)
class Job:
    submission: "Submission"
    exercise: Exercise
    key: Key

    @property
    def name(self) -> str:
        return f"{self.submission.student} · {self.exercise.id}"


@dataclass
class Plan:
    """Every job of the run: the ones the gradebook answers, and the ones to grade."""

    cached: list[tuple[Job, ExerciseResult]] = field(default_factory=list)
    todo: list[Job] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)  # Job.name -> why it is graded

    @property
    def total(self) -> int:
        return len(self.cached) + len(self.todo)


def file_hash(submission: "Submission", exercise: Exercise) -> str:
    """The hash the runner writes into the result (ExerciseResult.file_hash)."""
    files = {n: submission.files[n] for n in exercise.files if n in submission.files}
    if not files:
        refusal = submission.refusal(exercise.files)  # refused (a link out, a broken zip): its own key
        return "refused:" + hashlib.sha256(refusal.encode()).hexdigest()[:16] if refusal else ""
    from grader import runner  # the runner pulls in the sandbox: only when there is work
    return runner.hash_files(files)


def plan(submissions: Sequence["Submission"], exercises: Sequence[Exercise],
         book: Gradebook | None, *, force: bool = False) -> Plan:
    """The jobs of a run, each looked up in the gradebook unless FORCE; the ones to grade
    ordered correctness first, longest first, timing last (see the module's docstring)."""
    # The reference solution is left out of the exercise's hash: grading never runs it
    # (timing tests carry their own yardstick), so editing it must not regrade a class.
    hashes = {e.id: e.content_hash() for e in exercises}
    result = Plan()
    timing: list[Job] = []
    for submission in submissions:
        for exercise in exercises:
            key = Key(submission.student, exercise.id, file_hash(submission, exercise),
                      hashes[exercise.id], grader.__version__)
            job = Job(submission, exercise, key)
            known = None if force or book is None else book.lookup(key)
            if known is not None:
                result.cached.append((job, known))
            else:
                result.why[job.name] = ("forced" if force else
                                        book.why_graded(key) if book is not None else "new")
                (timing if exercise.timing else result.todo).append(job)
    if book is not None:
        # Longest first (as far as the gradebook knows): the last correctness jobs then
        # end close together, and the first timing job, which waits for all of them,
        # starts sooner. Unknown exercises keep their place among the equals.
        durations = book.durations()
        result.todo.sort(key=lambda job: -durations.get(job.exercise.id, 0.0))
    result.todo.extend(timing)
    return result


def expected_seconds(todo: Sequence[Job], known: dict[str, float], jobs: int) -> list[float]:
    """How much wall time each job should add to the run, for an ETA that holds when a
    run ends with its slow timing jobs: seconds per grading (KNOWN, from the gradebook),
    divided by JOBS for correctness jobs since they share the wall time."""
    fallback = statistics.median(known.values()) if known else 1.0
    weights = []
    for job in todo:
        seconds = known.get(job.exercise.id)
        if seconds is None:  # never graded here: a rough prior, timing jobs being far longer
            seconds = fallback * (TIMING_PRIOR if job.exercise.timing else 1.0)
        weights.append(seconds if job.exercise.timing else seconds / max(1, jobs))
    return weights


# Before the gradebook knows an exercise: a timing job takes this many times as long as a
# correctness job (the demo class: about 50 s against 3 to 4 s).
TIMING_PRIOR = 12.0


# ---------------------------------------------------------------- running

@dataclass(frozen=True)
class Done:
    """A finished job: its result, or the exception the grading function raised."""

    job: Job
    result: ExerciseResult | None
    error: Exception | None = None


def crashed(student: str, exercises: Sequence[Exercise], exc: BaseException) -> SubmissionResult:
    """A result for a submission the grader itself failed on: zero points, marked as not
    judged, so the others' results are kept and this one is visibly to be re-run."""
    why = f"the grader failed on this submission ({type(exc).__name__}: {exc}); re-run it"
    return SubmissionResult(student, tuple(
        ExerciseResult(ex.id, ex.title, ex.max_points, 0.0,
                       tuple(TestOutcome(t.name, t.title, t.points, 0.0, "not_judged", why)
                             for t in ex.tests),
                       status="error", message=why)
        for ex in exercises))


def run(todo: Sequence[Job], grade: Callable[[Job, TimingGate], ExerciseResult], *, jobs: int,
        on_done: Callable[[Done], None], gate: TimingGate | None = None,
        stop: Callable[[], None] | None = None) -> None:
    """Grade TODO with JOBS threads (each job starts its own child process), calling
    ON_DONE in this thread as each job finishes, so the caller stores it at once. GRADE
    gets the job and the gate, which each of its test processes enters (grader/sandbox.py:
    a timing exercise's measured tests alone, everything else shared).

    On Ctrl-C (or any exception from ON_DONE): no new job starts, STOP is called to end
    the running ones early (the CLI passes isolation.cancel_all, which kills their test
    processes for good, hence not a default), jobs that did finish are still handed to
    ON_DONE, and the exception goes on.
    """
    gate = gate or TimingGate()

    def one(job: Job) -> ExerciseResult:
        return grade(job, gate)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade")
    futures: dict[Future[ExerciseResult], Job] = {pool.submit(one, job): job for job in todo}
    pending = set(futures)
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in _in_submission_order(finished, futures):
                pending.discard(future)
                on_done(_done(future, futures[future]))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        if stop is not None:
            stop()
        # Whatever finished meanwhile is a real result: keep it (a stopped job raises).
        for future in _in_submission_order(pending, futures):
            try:
                if future.cancelled() or future.exception(timeout=120) is not None:
                    continue
                on_done(_done(future, futures[future]))
            except BaseException:  # the first interruption is the one to report
                continue
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _in_submission_order(done: Iterable[Future[ExerciseResult]],
                         futures: dict[Future[ExerciseResult], Job]) -> list[Future[ExerciseResult]]:
    order = {f: i for i, f in enumerate(futures)}
    return sorted(done, key=order.__getitem__)


def _done(future: Future[ExerciseResult], job: Job) -> Done:
    error = future.exception()
    if error is None:
        return Done(job, future.result())
    if not isinstance(error, Exception):  # KeyboardInterrupt, SystemExit: not a job's fault
        raise error
    return Done(job, None, error)
