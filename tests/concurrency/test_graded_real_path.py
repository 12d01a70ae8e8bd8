"""The issue's cases graded through the real path (a child process per grading, the
hidden tests of the exercise), on submissions written here: a counter over
multiprocessing.Lock and Value, a swap-and-retry dinner, a counter on a lock the engine
cannot control at all."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.catalog import load_exercise
from grader.runner import grade_exercise
from grader.submissions import Submission

ROOT = Path(__file__).resolve().parents[2]

MP_COUNTER = """
import multiprocessing
from multiprocessing import Value


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._lock = multiprocessing.Lock()
        self._value = Value("i", start)

    def increment(self, n: int = 1) -> None:
        with self._lock:
            self._value.value += n

    @property
    def value(self) -> int:
        with self._lock:
            return self._value.value
"""

MP_RACY = """
import multiprocessing


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = multiprocessing.Value("i", start)

    def increment(self, n: int = 1) -> None:
        self._value.value += n

    @property
    def value(self) -> int:
        return self._value.value
"""

UNCONTROLLED = """
import importlib

threading = importlib.import_module("threading")  # the real module: a lock no shim reaches


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._lock = threading.Lock()
        self._value = start

    def increment(self, n: int = 1) -> None:
        with self._lock:
            self._value += n

    @property
    def value(self) -> int:
        with self._lock:
            return self._value
"""


def _grade(tmp_path: Path, exercise_id: str, filename: str, source: str):
    exercise = load_exercise(ROOT / "exercises" / exercise_id)
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / filename).write_text(textwrap.dedent(source))
    return grade_exercise(Submission("student", {filename: folder / filename}, folder), exercise)


def _engine_tests(result):
    return [t for t in result.tests if "engine" in t.details]


@pytest.mark.parametrize("source", [MP_COUNTER, UNCONTROLLED], ids=["mp_lock_value", "uncontrolled_lock"])
def test_correct_counters_the_engine_may_not_switch_earn_full_marks(tmp_path, source):
    result = _grade(tmp_path, "race_counter", "counter.py", source)
    assert result.points == result.max_points, [
        (t.name, t.verdict, t.message, {k: t.details.get(k) for k in
                                        ("engine", "engine_reason", "found_at_schedule", "strategy", "seed")})
        for t in result.tests]
    judged = {t.name: t for t in _engine_tests(result)}
    threaded = ("test_two_threads_lose_no_increment", "test_many_threads_lose_no_count")
    assert set(threaded) <= set(judged), "the thread tests say which engine judged them"
    expected = "controlled" if source is MP_COUNTER else "stress"
    assert {judged[name].details["engine"] for name in threaded} == {expected}
    if expected == "stress":
        assert all("cannot switch" in judged[name].details["engine_reason"] for name in threaded)


def test_a_race_on_a_multiprocessing_value_is_found(tmp_path):
    result = _grade(tmp_path, "race_counter", "counter.py", MP_RACY)
    verdicts = {t.name: t.verdict for t in result.tests}
    assert verdicts["test_two_threads_lose_no_increment"] == "race", verdicts
    assert verdicts["test_many_threads_lose_no_count"] == "race", verdicts


def test_swap_and_retry_philosophers_fail_the_termination_test_as_a_livelock(tmp_path):
    source = (ROOT / "tests" / "mutants" / "dining_philosophers" / "swap_and_retry" /
              "philosophers.py").read_text()
    result = _grade(tmp_path, "dining_philosophers", "philosophers.py", source)
    verdicts = {t.name: t.verdict for t in result.tests}
    assert verdicts.pop("test_dinner_always_ends") == "livelock", verdicts
    # who ate and the neighbours count only for dinners that always end: not awarded here
    assert set(verdicts.values()) == {"livelock"}, verdicts
    assert result.points == 0, result.tests
    ending = next(t for t in result.tests if t.name == "test_dinner_always_ends")
    assert ending.details["strategy"] == "lockstep" and ending.details["livelock"]["repeats"] >= 3
