"""Deadlocks: cycles found and explained, lock orders that could close one flagged.

A false failure here would fail correct students, so correct code runs over thousands of
schedules; every known-wrong variant must be caught."""
from __future__ import annotations


from tests.concurrency.conftest import engine
from tests.concurrency.programs import DEADLOCKS


def test_deadlock_cycle_is_explained_and_lock_order_inversion_flagged(student_code):
    module = student_code("deadlocks", DEADLOCKS)

    def scenario(run):
        a, b = module.Account(1), module.Account(2)
        run.spawn(module.both, a, b)
        run.spawn(module.both, b, a)
        run.join_all()

    result = engine(60).explore(scenario, stop_at_first=False)
    deadlocks = [f for f in result.failures if f.verdict == "deadlock"]
    assert deadlocks, "opposite lock orders never deadlocked"
    message = deadlocks[0].message
    assert "Account(number=2).lock" in message and "Account(number=1).lock" in message
    assert "deadlocks.py line 11: with second.lock:" in message
    assert result.lock_order_cycles and "while holding" in result.lock_order_cycles[0]
    assert len(result.failures) < result.schedules, "a run that did not hang is also explored"


def test_a_ring_of_three_lock_orders_is_a_potential_deadlock_even_without_a_hang(student_code):
    module = student_code("ring", DEADLOCKS)

    def scenario(run):
        a, b, c = module.Account(1), module.Account(2), module.Account(3)
        for pair in ((a, b), (b, c), (c, a)):
            run.spawn(module.both, *pair)
            run.join_all()  # one after another: it cannot hang, but the order is a cycle

    result = engine(3).explore(scenario, stop_at_first=False)
    assert not result.failures
    assert result.lock_order_cycles and "number=3" in result.lock_order_cycles[0]


def test_try_locks_are_not_lock_order_edges(student_code):
    module = student_code("trylock", DEADLOCKS + """
def backoff(first, second):
    while True:
        with first.lock:
            if second.lock.acquire(blocking=False):
                second.lock.release()
                return
""")

    def scenario(run):
        a, b = module.Account(1), module.Account(2)
        run.spawn(module.backoff, a, b)
        run.spawn(module.backoff, b, a)
        run.join_all()

    # Two backing-off threads can livelock; a small step bound ends such schedules quickly.
    result = engine(60, max_steps=5_000).explore(scenario, stop_at_first=False)
    assert not result.lock_order_cycles, result.lock_order_cycles


def test_reentering_a_plain_lock_is_a_self_deadlock(student_code):
    module = student_code("selflock", DEADLOCKS)
    result = engine(3).explore(lambda run: run.spawn(module.both, *(2 * [module.Account(7)])))
    assert result.failures and "which it already holds" in result.failures[0].message
