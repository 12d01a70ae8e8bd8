"""Parallel grading: correctness jobs share the machine, timing jobs run alone, the
gradebook answers what did not change, and one failing job costs only itself."""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from grader import batch
from grader.batch import Done, Job, TimingGate
from grader.catalog import Catalog, Exercise
from grader.gradebook import Gradebook
from grader.model import ExerciseResult
from grader.sandbox import shares
from grader.submissions import Submission

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def exercises(fixture_catalog: Catalog) -> list[Exercise]:
    """Two correctness exercises and one with timing tests, all on the basic fixture."""
    basic = fixture_catalog.get("basic")
    return [replace(basic, id="alpha"), replace(basic, id="omega"),
            replace(basic, id="speed", timing=True)]


def students(n: int) -> list[Submission]:
    good = FIXTURES / "students" / "basic" / "good"
    return [Submission(f"s{i}", {"basic.py": good / "basic.py"}, good) for i in range(n)]


def result_of(job: Job, status: str = "graded") -> ExerciseResult:
    return ExerciseResult(job.exercise.id, job.exercise.title, 5.0, 4.0, (), status=status,
                          file_hash=job.key.file_hash)


class Recorder:
    """A stand-in for grade_exercise that enters the gate once per planned test process,
    as the sandbox does (sandbox.shares), and records when each ran."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.spans: list[tuple[float, float, bool]] = []  # start, end, timing (alone)

    def __call__(self, job: Job, gate: TimingGate) -> ExerciseResult:
        for share in shares(job.exercise, gated=True):
            with gate.entered(share.timing):
                start = time.monotonic()
                time.sleep(self.seconds)
                with self.lock:
                    self.spans.append((start, time.monotonic(), share.timing))
        return result_of(job)


@pytest.mark.parametrize("apart", [False, True], ids=["all measured", "measured apart"])
def test_timing_jobs_never_run_beside_anything(exercises: list[Exercise], apart: bool) -> None:
    if apart:  # the timing exercise's first test measured, the others run with the readers
        speed = exercises[2]
        exercises = [*exercises[:2], replace(speed, tests=tuple(
            replace(t, measured=i == 0) for i, t in enumerate(speed.tests)))]
    work = batch.plan(students(6), exercises, None)
    grade, gate, done = Recorder(), TimingGate(), []
    batch.run(work.todo, grade, jobs=3, on_done=done.append, gate=gate)
    assert len(done) == 18 and all(d.error is None for d in done)
    assert len(grade.spans) == (24 if apart else 18)
    for start, end, timing in grade.spans:
        if timing:
            company = [s for s in grade.spans if s[0] < end and start < s[1]]
            assert company == [(start, end, timing)], "a timing job had company"
    assert gate.peak == 3, "correctness jobs should have run three at a time"


def test_a_waiting_timing_job_stops_new_correctness_jobs() -> None:
    """Writers preferred: otherwise a steady stream of readers starves the timing job."""
    gate, order = TimingGate(), []
    reading = threading.Event()

    def reader(name: str, hold: float) -> None:
        with gate.shared():
            order.append(name)
            reading.set()
            time.sleep(hold)

    def writer() -> None:
        with gate.exclusive():
            order.append("timing")

    first = threading.Thread(target=reader, args=("first", 0.3))
    first.start()
    reading.wait()
    w = threading.Thread(target=writer)
    w.start()
    time.sleep(0.1)  # the timing job is waiting now
    late = threading.Thread(target=reader, args=("late", 0))
    late.start()
    for t in (first, w, late):
        t.join(5)
    assert order == ["first", "timing", "late"]


def test_plan_orders_correctness_first_and_skips_what_the_gradebook_knows(
        tmp_path: Path, exercises: list[Exercise]) -> None:
    subs = students(2)
    work = batch.plan(subs, exercises, None)
    assert [j.exercise.id for j in work.todo] == ["alpha", "omega", "alpha", "omega",
                                                  "speed", "speed"]
    with Gradebook.open(tmp_path / "g.sqlite") as book:
        for job in work.todo[:3]:
            book.store(result_of(job), job.key)
        book.store(result_of(work.todo[3], status="error"), work.todo[3].key)
        again = batch.plan(subs, exercises, book)
        assert len(again.cached) == 3 and again.total == 6
        # The grader's own failure is not a grade: graded again.
        assert [j.name for j in again.todo] == ["s1 · omega", "s0 · speed", "s1 · speed"]
        assert len(batch.plan(subs, exercises, book, force=True).todo) == 6


def test_correctness_jobs_the_gradebook_knows_to_be_long_go_first(
        tmp_path: Path, exercises: list[Exercise]) -> None:
    subs = students(2)
    with Gradebook.open(tmp_path / "g.sqlite") as book:
        first = batch.plan(subs[:1], exercises, book).todo
        for job, seconds in zip(first, (1.0, 3.0, 9.0)):  # alpha, omega, speed
            book.store(replace(result_of(job), duration=seconds), job.key)
        work = batch.plan(subs[1:], exercises, book)
        # omega took longer than alpha; the timing job stays last whatever its time.
        assert [j.exercise.id for j in work.todo] == ["omega", "alpha", "speed"]


def test_the_key_follows_the_file_and_the_exercise(tmp_path: Path,
                                                   exercises: list[Exercise]) -> None:
    mine = tmp_path / "basic.py"
    mine.write_text("def add(a, b):\n    return a + b\n")
    sub = Submission("ann", {"basic.py": mine}, tmp_path)
    before = batch.plan([sub], exercises[:1], None).todo[0].key
    mine.write_text("def add(a, b):\n    return b + a\n")
    after = batch.plan([sub], exercises[:1], None).todo[0].key
    assert before.file_hash != after.file_hash and before.exercise_hash == after.exercise_hash
    missing = batch.plan([Submission("bob", {}, tmp_path)], exercises[:1], None).todo[0].key
    assert missing.file_hash == ""


def test_a_failing_job_costs_only_itself(exercises: list[Exercise]) -> None:
    def grade(job: Job, gate: TimingGate) -> ExerciseResult:
        if job.submission.student == "s1" and job.exercise.id == "omega":
            raise RuntimeError("the sandbox fell over")
        return result_of(job)

    done: list[Done] = []
    batch.run(batch.plan(students(3), exercises, None).todo, grade, jobs=2,
              on_done=done.append)
    failed = [d for d in done if d.error is not None]
    assert len(done) == 9 and [d.job.name for d in failed] == ["s1 · omega"]
    assert str(failed[0].error) == "the sandbox fell over"


def test_an_interrupt_starts_no_new_job_and_keeps_what_finished(
        exercises: list[Exercise]) -> None:
    grade = Recorder(0.02)
    stored: list[str] = []

    def on_done(done: Done) -> None:
        stored.append(done.job.name)
        if len(stored) == 2:
            raise KeyboardInterrupt

    todo = batch.plan(students(10), exercises, None).todo
    with pytest.raises(KeyboardInterrupt):
        batch.run(todo, grade, jobs=2, on_done=on_done)
    assert len(grade.spans) < len(todo)  # the queue was dropped
    # Jobs that were already running when the interrupt came are still handed over.
    assert len(stored) >= 2 and len(stored) == len(set(stored))


def test_the_eta_expects_timing_jobs_to_be_long_and_alone(exercises: list[Exercise]) -> None:
    todo = batch.plan(students(2), exercises, None).todo
    # Known durations: correctness jobs share the wall time among the jobs, timing ones not.
    assert batch.expected_seconds(todo, {"alpha": 4.0, "omega": 2.0, "speed": 50.0}, 2) == \
        [2.0, 1.0, 2.0, 1.0, 50.0, 50.0]
    # Never graded here: timing jobs still weigh far more than the others.
    weights = batch.expected_seconds(todo, {}, 1)
    assert weights[:4] == [1.0] * 4 and weights[4] == weights[5] == batch.TIMING_PRIOR


def test_the_gradebook_knows_how_long_each_exercise_takes(tmp_path: Path,
                                                           exercises: list[Exercise]) -> None:
    with Gradebook.open(tmp_path / "g.sqlite") as book:
        for job, seconds in zip(batch.plan(students(3), exercises[:1], None).todo, (1, 2, 9)):
            book.store(replace(result_of(job), duration=seconds), job.key)
        assert book.durations() == {"alpha": 2.0}
