"""What the engine tells a student, on the cases that used to mislead: a doubled verdict
prefix, a lock left held by an exception explained as re-entry, a lock-order hint on a
pattern that cannot deadlock, a lost update without its marker, one line shown as two."""
from __future__ import annotations

from grader.model import TestOutcome as Outcome
from grader.report.text import outcome_text, trace_text
from tests.concurrency.conftest import engine
from tests.concurrency.programs import COUNTERS, DEADLOCKS, counting


def _outcome(failure) -> str:
    return outcome_text(Outcome("t", "t", 1, 0, failure.verdict, failure.message, failure.details))


def test_the_verdict_is_not_repeated_in_the_message(student_code):
    module = student_code("prefix", DEADLOCKS)

    def scenario(run):
        a, b = module.Account(1), module.Account(2)
        run.spawn(module.both, a, b)
        run.spawn(module.both, b, a)
        run.join_all()

    deadlocks = [f for f in engine(60).explore(scenario, stop_at_first=False).failures
                 if f.verdict == "deadlock"]
    assert deadlocks
    for failure in deadlocks:
        assert not failure.message.lower().startswith("deadlock"), failure.message
        assert _outcome(failure).lower().count("deadlock:") == 1


BANK = """
import threading

class Account:
    def __init__(self, balance):
        self.balance = balance
        self.lock = threading.Lock()

    def withdraw(self, amount):
        self.lock.acquire()
        if amount > self.balance:
            raise ValueError("insufficient funds")  # leaves with the lock held
        self.balance -= amount
        self.lock.release()

    def deposit(self, amount):
        with self.lock:
            self.balance += amount

    def twice(self):
        with self.lock:
            self.deposit(1)
"""


def test_a_lock_left_held_by_an_exception_is_named_as_such(student_code):
    module = student_code("left_held", BANK)

    def scenario(run):
        account = module.Account(5)

        def client():
            try:
                account.withdraw(10)
            except ValueError:
                pass
            account.deposit(1)

        run.spawn(client)
        run.join_all()

    failure = engine(3).explore(scenario).failures[0]
    assert failure.verdict == "deadlock"
    assert "never released" in failure.message and "exception" in failure.message
    assert "left_held.py line 10: self.lock.acquire()" in failure.message
    assert "takes it twice" not in failure.message and "reentrant" not in failure.message


def test_a_lock_left_held_by_a_finished_thread_names_the_thread_and_the_exception(student_code):
    module = student_code("left_held_other", BANK)

    def scenario(run):
        account = module.Account(5)

        def failing():
            try:
                account.withdraw(10)
            except ValueError:
                pass

        run.spawn(failing).join()
        run.spawn(account.deposit, 1)
        run.join_all()

    failure = engine(3).explore(scenario).failures[0]
    assert failure.verdict == "deadlock"
    assert "ended with an exception without releasing it" in failure.message
    assert "has finished, so nobody will release it" in failure.message


def test_taking_a_lock_twice_is_still_explained_as_re_entry(student_code):
    module = student_code("reentry", BANK)
    failure = engine(3).explore(lambda run: run.spawn(module.Account(1).twice)).failures[0]
    assert "which it already holds" in failure.message and "not reentrant" in failure.message
    assert "exception" not in failure.message


READERS_WRITERS = """
import threading

class RWLock:
    # The classic first readers-writers lock: the first reader in takes the room for
    # the readers, the last one out gives it back (maybe not the same thread).
    def __init__(self):
        self.readers = 0
        self.readers_lock = threading.Lock()
        self.room = threading.Lock()
    def acquire_read(self):
        with self.readers_lock:
            self.readers += 1
            if self.readers == 1:
                self.room.acquire()
    def release_read(self):
        with self.readers_lock:
            self.readers -= 1
            if self.readers == 0:
                self.room.release()
    def acquire_write(self):
        self.room.acquire()
    def release_write(self):
        self.room.release()

GATE = threading.Lock()

def gated(first, second):
    with GATE:
        with first:
            with second:
                pass
"""


def test_the_readers_writers_pattern_draws_no_potential_deadlock(student_code):
    module = student_code("rw_hint", READERS_WRITERS)

    def scenario(run):
        lock = module.RWLock()

        def reader():
            lock.acquire_read()
            run.point()
            lock.release_read()

        def writer():
            lock.acquire_write()
            lock.release_write()

        for _ in range(3):
            run.spawn(reader)
        run.spawn(writer)
        run.join_all()

    eng = engine(100)
    result = eng.explore(scenario, stop_at_first=False)
    assert not result.failures, result.failures[:1]
    assert result.cycles, "both orders of the two locks were taken"
    assert result.handoff_sites, "the room was given back by a reader that did not take it"
    assert not result.lock_order_cycles, result.lock_order_cycles
    note, details = eng.summary()
    assert "opposite orders" not in note and not any("potential deadlock" in k for k in details)


def test_both_orders_under_a_common_gate_lock_draw_no_hint(student_code):
    module = student_code("gate_hint", READERS_WRITERS + DEADLOCKS)

    def scenario(run):
        a, b = module.Account(1), module.Account(2)
        run.spawn(module.gated, a.lock, b.lock)
        run.spawn(module.gated, b.lock, a.lock)
        run.join_all()

    result = engine(50).explore(scenario, stop_at_first=False)
    assert not result.failures and not result.lock_order_cycles, result.lock_order_cycles


BORIS = """
class Counter:
    def __init__(self):
        self.value = 0
    def increment(self):
        current = self.value
        self.value = current + 1
"""


def test_every_lost_update_found_is_marked_in_its_interleaving(student_code):
    """The write-back was recorded before a switch that delayed it, so the table showed
    it in the wrong place and often had no marker at all."""
    module = student_code("boris_like", BORIS)
    result = engine(150).explore(counting(module.Counter, threads=2, each=3), stop_at_first=False)
    assert len(result.failures) >= 10
    for failure in result.failures:
        notes = [step.get("note", "") for step in failure.details["trace"]]
        assert any("an update is lost" in note for note in notes), trace_text(failure.details["trace"])
        assert len(failure.details["trace"]) <= 24


def test_a_line_interrupted_by_a_switch_is_shown_as_the_rest_of_that_line(student_code):
    module = student_code("resumed_line", COUNTERS)
    result = engine(200).explore(counting(module.Racy, threads=2, each=3), stop_at_first=False)
    rows = [row for f in result.failures for row in f.details["trace"] if row.get("continues")]
    assert rows, "no line was cut by a switch in 200 schedules"
    for failure in result.failures:
        steps = failure.details["trace"]
        for i, row in enumerate(steps, 1):
            if isinstance(row.get("continues"), int) and not isinstance(row["continues"], bool):
                first = steps[row["continues"] - 1]
                assert row["continues"] < i and first["line"] == row["line"]
                assert first["thread"] == row["thread"] and row["source"].startswith("… ")
                assert any(s["thread"] != row["thread"] for s in steps[row["continues"]:i - 1])
                assert f"(the rest of step {row['continues']})" in trace_text(steps)


def test_one_thread_taking_both_orders_in_turn_draws_no_hint(student_code):
    """The readers_writers stub's sequential test: one thread reads (readers_lock, then
    room) and leaves (room, then readers_lock). No second thread, no deadlock pair."""
    module = student_code("rw_alone", READERS_WRITERS)

    def scenario(run):
        lock = module.RWLock()
        lock.acquire_read()
        lock.release_read()

    result = engine(1).explore(scenario)
    assert result.cycles and not result.lock_order_cycles, result.lock_order_cycles


def test_the_report_says_which_engine_judged():
    details = {"engine": "stress", "engine_reason": "schedule 1 stopped in code it cannot switch"}
    text = outcome_text(Outcome("t", "t", 1, 1, "passed", "no failure in 20 runs", details))
    assert "Judged by: real threads under forced preemption" in text
    assert "why: schedule 1 stopped in code it cannot switch" in text
    assert "engine: stress" not in text, "said once, in words"
    controlled = outcome_text(Outcome("t", "t", 1, 0, "race", "lost 1", {"engine": "controlled"}))
    assert "Judged by: the controlled scheduler" in controlled
