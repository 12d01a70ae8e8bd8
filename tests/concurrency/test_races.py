"""Lost updates: found on racy counters, never on locked ones, the same on every run.

A false failure here would fail correct students, so correct code runs over thousands of
schedules; every known-wrong variant must be caught."""
from __future__ import annotations

import pytest

from tests.concurrency.conftest import engine
from tests.concurrency.programs import COUNTERS, counting, DEADLOCKS


@pytest.mark.parametrize("name", ["Racy", "TwoSections"])
def test_lost_updates_are_found_and_explained(student_code, name):
    module = student_code("counters_bad_" + name.lower(), COUNTERS)
    result = engine(200).explore(counting(getattr(module, name)))
    assert result.failures, f"{name}: no lost update in {result.schedules} schedules"
    failure = result.failures[0]
    assert failure.verdict == "race" and failure.message.startswith("lost")
    notes = [s.get("note", "") for s in failure.details["trace"]]
    assert any("update is lost" in n for n in notes), failure.details["trace"]


@pytest.mark.parametrize("name", ["Safe", "SafeRLock"])
def test_locked_counters_never_fail(student_code, name):
    module = student_code("counters_ok_" + name.lower(), COUNTERS)
    result = engine(1000).explore(counting(getattr(module, name)), stop_at_first=False)
    assert result.schedules == 1000 + 1 and not result.failures  # + lockstep, result.failures[:1]


def test_same_seeds_same_verdicts(student_code):
    module = student_code("determinism", COUNTERS)
    runs = [engine(30).explore(counting(module.Racy), stop_at_first=False) for _ in range(2)]
    assert [f.seed for f in runs[0].failures] == [f.seed for f in runs[1].failures]
    assert [f.message for f in runs[0].failures] == [f.message for f in runs[1].failures]


def test_exceptions_in_threads_are_reported_with_the_line(student_code):
    module = student_code("raises", "def boom():\n    return 1 / 0\n")
    result = engine(1).explore(lambda run: run.threads(module.boom, 1))
    assert result.failures[0].verdict == "error"
    assert "ZeroDivisionError" in result.failures[0].message and "raises.py line 2" in result.failures[0].message


def test_max_lock_holders_tells_disjoint_locking_from_a_global_lock(student_code):
    module = student_code("holders", DEADLOCKS + """
GLOBAL = threading.Lock()
def one_lock(first, second):
    with GLOBAL:
        pass
""")

    def scenario(fn):
        def body(run):
            accounts = [module.Account(i) for i in range(4)]
            run.spawn(fn, accounts[0], accounts[1])
            run.spawn(fn, accounts[2], accounts[3])
            run.join_all()
        return body

    assert engine(100).explore(scenario(module.both), stop_at_first=False).max_lock_holders == 2
    assert engine(100).explore(scenario(module.one_lock), stop_at_first=False).max_lock_holders == 1
