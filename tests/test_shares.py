"""A timing exercise's measured tests run alone, its other tests beside other grading: two
planned test processes, each inside the gate, and one result (grader/sandbox.py: shares;
grader/batch.py: TimingGate)."""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import pytest

from grader import channel, sandbox
from grader.catalog import Catalog, Exercise
from grader.runner import grade_exercise
from grader.sandbox import run_hidden_tests
from grader.submissions import Submission

GOOD = Path(__file__).parent / "fixtures" / "students" / "basic" / "good"


@pytest.fixture(autouse=True)
def plain_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SANDBOX", "plain")  # the isolation is not what is tested here


@pytest.fixture
def timed(fixture_catalog: Catalog) -> Exercise:
    """The basic fixture as a timing exercise whose test_add is measured."""
    basic = fixture_catalog.get("basic")
    return replace(basic, id="timed", timing=True,
                   tests=tuple(replace(t, measured=t.name == "test_add") for t in basic.tests))


class Gate:
    """Records each entry (timing or not); HOLD seconds pass before an exclusive one."""

    def __init__(self, hold: float = 0.0) -> None:
        self.hold, self.entries = hold, []  # type: list[bool]
        self.inside: bool | None = None  # the kind of entry the run is inside of, if any

    @contextmanager
    def entered(self, timing: bool) -> Iterator[None]:
        if timing:
            time.sleep(self.hold)
        self.entries.append(timing)
        self.inside = timing
        try:
            yield
        finally:
            self.inside = None


def test_measured_tests_run_alone_in_a_process_of_their_own(
        timed: Exercise, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate()
    seen: list[tuple[str, str, bool | None]] = []  # (share, test function, the gate entry it ran in)
    original = sandbox._Run._handle

    def handle(self: Any, record: dict[str, Any], current: Any) -> Any:
        if record.get("event") == "result":  # as the parent receives it
            seen.append((self.share.tests, record["function"], gate.inside))
        return original(self, record, current)

    launches: list[tuple[bool, bool | None]] = []  # (held, the gate entry it started in)
    launch = sandbox._Run._launch

    def launched(self: Any, hold: bool = False, **kwargs: Any) -> Any:
        launches.append((hold, gate.inside))
        return launch(self, hold, **kwargs)

    monkeypatch.setattr(sandbox._Run, "_handle", handle)
    monkeypatch.setattr(sandbox._Run, "_launch", launched)
    run = run_hidden_tests(timed, {"basic.py": GOOD / "basic.py"}, gate=gate)
    # The measured tests' process starts with the other tests' one, beside other grading,
    # and is held after its collection; then it is let go alone.
    assert gate.entries == [False, True]
    assert launches == [(True, False), (False, False)]
    assert (run.processes, run.shares, run.restarts) == (2, 2, 0)
    assert {f for share, f, _ in seen if share == channel.MEASURED} == {"test_add"}
    # Every test exercise.yaml does not mark goes with the others, unknown ones too.
    assert {f for share, f, _ in seen if share == channel.UNMEASURED} == {"test_sub", "test_given", "test_extra"}
    # Each result came while its process was inside the gate, alone only if measured.
    assert all(inside is (share == channel.MEASURED) for share, _, inside in seen), seen


def test_without_a_gate_one_process_runs_every_test(timed: Exercise) -> None:
    run = run_hidden_tests(timed, {"basic.py": GOOD / "basic.py"})
    assert (run.processes, run.shares, run.waited) == (1, 1, 0.0)
    assert {r.function for r in run.records} == {"test_add", "test_sub", "test_given", "test_extra"}


def test_the_grade_is_the_same_in_one_process_or_two(timed: Exercise, tmp_path: Path) -> None:
    student = tmp_path / "basic.py"
    student.write_text((GOOD / "basic.py").read_text() + "\ndef add(a, b):\n    return a - b\n")
    for files in ({"basic.py": GOOD / "basic.py"}, {"basic.py": student}):
        submission = Submission("ann", files, files["basic.py"].parent)
        one = grade_exercise(submission, timed)
        two = grade_exercise(submission, timed, gate=Gate())
        assert [(t.name, t.verdict, t.points, t.message) for t in one.tests] == \
            [(t.name, t.verdict, t.points, t.message) for t in two.tests]
        assert (one.points, one.status, one.message) == (two.points, two.status, two.message)
    assert two.points < two.max_points  # the wrong add lost its points in both


def test_waiting_for_the_gate_is_not_the_jobs_time(timed: Exercise) -> None:
    submission = Submission("ann", {"basic.py": GOOD / "basic.py"}, GOOD)
    started = time.monotonic()
    result = grade_exercise(submission, timed, gate=Gate(hold=1.5))
    elapsed = time.monotonic() - started
    assert elapsed >= 1.5 and result.duration <= elapsed - 1.4, (elapsed, result.duration)


def test_a_share_that_cannot_start_spares_the_next_one(
        timed: Exercise, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test process that dies before collecting: the measured share would die the same
    way, so it is not started (and the reason is told once)."""
    monkeypatch.setattr(sandbox._Run, "_command", lambda self: [sys.executable, "-c", "raise SystemExit(3)"])
    gate = Gate()
    run = run_hidden_tests(timed, {"basic.py": GOOD / "basic.py"}, gate=gate)
    # The held process started with the first (and died the same way): both, no more.
    assert (gate.entries, run.processes, run.records) == ([False], 2, ())
    assert len(run.notes) == 1 and "before any test started" in run.notes[0], run.notes
    result = grade_exercise(Submission("ann", {"basic.py": GOOD / "basic.py"}, GOOD), timed, gate=Gate())
    assert {t.verdict for t in result.tests} == {"not_judged"} and result.points == 0


def test_the_run_limit_is_for_both_shares_and_not_for_the_wait(
        timed: Exercise, monkeypatch: pytest.MonkeyPatch) -> None:
    """The measured share gets what the other share left of the exercise's run limit,
    counted from when it may start, not from when it asked."""
    deadlines: list[float] = []
    original = sandbox._Run._attempt

    def attempt(self: Any) -> Any:
        deadlines.append(self.deadline - time.monotonic())
        return original(self)

    monkeypatch.setattr(sandbox._Run, "_attempt", attempt)
    run = run_hidden_tests(replace(timed, run_timeout=30.0), {"basic.py": GOOD / "basic.py"},
                           gate=Gate(hold=2.0))
    assert run.shares == 2 and len(deadlines) == 2
    first, second = deadlines
    assert 29.0 < first <= 30.0
    assert first - run.duration - 1.0 < second < first, (deadlines, run.duration)


def test_batch_hands_each_job_its_gate(fixture_catalog: Catalog) -> None:
    from grader import batch
    basic = fixture_catalog.get("basic")
    submission = Submission("ann", {"basic.py": GOOD / "basic.py"}, GOOD)
    todo = batch.plan([submission], [basic, replace(basic, id="speed", timing=True)], None).todo
    gate, given = batch.TimingGate(), []
    lock = threading.Lock()

    def grade(job: batch.Job, passed: batch.TimingGate) -> Any:
        with lock:
            given.append(passed)
        return grade_exercise(job.submission, job.exercise, gate=passed)

    done: list[batch.Done] = []
    batch.run(todo, grade, jobs=2, on_done=done.append, gate=gate)
    assert given == [gate, gate] and all(d.error is None for d in done)


def test_a_held_process_runs_no_student_code_before_its_turn(
        timed: Exercise, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "imported"  # a line each time a test process imports the student's file
    student = tmp_path / "basic.py"
    student.write_text(f"open({str(marker)!r}, 'a').write('x\\n')\n" + (GOOD / "basic.py").read_text())

    def imports() -> int:
        return len(marker.read_text().splitlines()) if marker.exists() else 0

    seen: list[tuple[bool, int]] = []  # (collected, imports so far) once held a while
    hold = sandbox._Run.hold

    def held(self: Any, share: Any, *args: Any, **kwargs: Any) -> None:
        hold(self, share, *args, **kwargs)
        child = self.held[share]
        peek = channel.Reader(child.reader.path, child.reader.key, child.reader.pid)
        collected, deadline = False, time.monotonic() + 30
        while not collected and time.monotonic() < deadline:
            collected = any(r.get("event") == "collected" for r in peek.read())
            time.sleep(0.05)
        time.sleep(0.5)
        seen.append((collected, imports()))

    monkeypatch.setattr(sandbox._Run, "hold", held)
    run = run_hidden_tests(timed, {"basic.py": student}, gate=Gate())
    # Collected, then waiting: no import of the student's file until it is let go (after
    # the other share's process, which imports it once).
    assert seen == [(True, 0)]
    assert imports() == 2 and {r.function: r.verdict for r in run.records}["test_add"] == "passed"


def test_a_held_process_the_run_never_lets_go_is_stopped(
        timed: Exercise, monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    class Refusing(Gate):
        @contextmanager
        def entered(self, timing: bool) -> Iterator[None]:
            if timing:
                raise sandbox.Cancelled("stopped while waiting for the machine")
            with super().entered(timing):
                yield

    pids: list[int] = []
    launch = sandbox._Run._launch

    def launched(self: Any, hold: bool = False, **kwargs: Any) -> Any:
        child = launch(self, hold, **kwargs)
        pids.append(child.proc.pid)
        return child

    monkeypatch.setattr(sandbox._Run, "_launch", launched)
    with pytest.raises(sandbox.Cancelled):
        run_hidden_tests(timed, {"basic.py": GOOD / "basic.py"}, gate=Refusing())
    assert len(pids) == 2  # the held one, and the other share's process
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]


def test_an_exercise_measured_all_through_starts_its_process_ahead_too(
        timed: Exercise, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test marked: one process, alone; it starts and collects beside other grading."""
    every = replace(timed, tests=tuple(replace(t, measured=False) for t in timed.tests))
    gate = Gate()
    launches: list[tuple[bool, bool | None]] = []
    launch = sandbox._Run._launch

    def launched(self: Any, hold: bool = False, **kwargs: Any) -> Any:
        launches.append((hold, gate.inside))
        return launch(self, hold, **kwargs)

    monkeypatch.setattr(sandbox._Run, "_launch", launched)
    run = run_hidden_tests(every, {"basic.py": GOOD / "basic.py"}, gate=gate)
    assert (gate.entries, launches, run.processes, run.shares) == ([False, True], [(True, False)], 1, 1)
    assert {r.function: r.verdict for r in run.records}["test_add"] == "passed"
