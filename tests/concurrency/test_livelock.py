"""Livelocks found on purpose: the lockstep strategy (round-robin, one operation on a
primitive per turn) is among every exploration's schedules, and the progress rule names
threads that keep taking and releasing locks without any of them finishing, with the
repeating cycle of operations."""
from __future__ import annotations

import pytest

from grader.concurrency.explore import LOCKSTEP_SCHEDULE
from grader.concurrency.tasks import Task
from grader.concurrency.strategies import Lockstep, make_strategy
from tests.concurrency.conftest import engine

DINNERS = """
import threading

def swap_and_retry(n, meals, eat):
    forks = [threading.Lock() for _ in range(n)]
    def philosopher(i):
        first, second = forks[i], forks[(i + 1) % n]
        for _ in range(meals):
            while True:
                first.acquire()
                if second.acquire(blocking=False):
                    break
                first.release()
                first, second = second, first
            eat(i)
            second.release()
            first.release()
    _run(n, philosopher)

def ordered(n, meals, eat):
    forks = [threading.Lock() for _ in range(n)]
    def philosopher(i):
        low, high = sorted((i, (i + 1) % n))
        for _ in range(meals):
            with forks[low]:
                with forks[high]:
                    eat(i)
    _run(n, philosopher)

def waiter(n, meals, eat):
    forks = [threading.Lock() for _ in range(n)]
    seats = threading.Semaphore(n - 1)
    def philosopher(i):
        for _ in range(meals):
            with seats:
                with forks[i]:
                    with forks[(i + 1) % n]:
                        eat(i)
    _run(n, philosopher)

def try_lock_with_ordered_fallback(n, meals, eat):
    # Tries both forks without blocking, and after a failed try waits for them in the
    # global order: it backs off, yet always gets somewhere.
    forks = [threading.Lock() for _ in range(n)]
    def philosopher(i):
        low, high = sorted((i, (i + 1) % n))
        for _ in range(meals):
            if forks[low].acquire(blocking=False):
                if not forks[high].acquire(blocking=False):
                    forks[low].release()
                    forks[low].acquire()
                    forks[high].acquire()
            else:
                forks[low].acquire()
                forks[high].acquire()
            eat(i)
            forks[high].release()
            forks[low].release()
    _run(n, philosopher)

def flag_polling(n, meals, eat):
    # A correct, if wasteful, handshake: one thread polls a plain flag the other sets.
    done = [False]
    def setter():
        for i in range(n):
            for _ in range(meals):
                eat(i)
        done[0] = True
    t = threading.Thread(target=setter)
    t.start()
    while not done[0]:
        pass
    t.join()

def _run(n, philosopher):
    threads = [threading.Thread(target=philosopher, args=(i,), name=f"philosopher {i}")
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""


def dinner(dine, n=3, meals=2):
    def scenario(run):
        eaten = [0] * n

        def eat(i):
            eaten[i] += 1
            run.progress("a meal")
            run.point()

        dine(n, meals, eat)
        run.check(eaten == [meals] * n, f"meals eaten: {eaten}")

    return scenario


def test_swap_and_retry_philosophers_are_a_livelock_with_its_cycle(student_code):
    module = student_code("dinners_swap", DINNERS)
    result = engine(120, max_steps=3_000).explore(dinner(module.swap_and_retry))
    assert result.failures, "the lockstep schedule never kept the philosophers in step"
    failure = result.failures[0]
    assert failure.verdict == "livelock", failure.message
    assert failure.details["strategy"] == "lockstep"
    assert failure.details["found_at_schedule"] == LOCKSTEP_SCHEDULE + 1
    cycle = failure.details["livelock"]
    assert cycle["threads"] == ["philosopher 0", "philosopher 1", "philosopher 2"]
    assert cycle["repeats"] >= 3 and cycle["operations per cycle"] >= 6
    rows = failure.details["trace"]
    notes = [row["note"] for row in rows]
    assert any("is busy: not taken" in note for note in notes), notes
    assert any(note.startswith("release forks[") for note in notes), notes
    assert all(row["file"] == "dinners_swap.py" for row in rows), rows
    assert "put" in failure.message and "global order" in failure.message


def test_the_livelock_replays_from_its_seed(student_code, monkeypatch):
    module = student_code("dinners_replay", DINNERS)
    first = engine(120, max_steps=3_000).explore(dinner(module.swap_and_retry)).failures[0]
    monkeypatch.setenv("GRADER_REPLAY_SEED", str(first.seed))
    again = engine(120, max_steps=3_000).explore(dinner(module.swap_and_retry))
    assert again.schedules == 1 and again.failures[0].verdict == "livelock"
    assert again.failures[0].message == first.message


@pytest.mark.parametrize("name", ["ordered", "waiter", "try_lock_with_ordered_fallback"])
def test_correct_dinners_never_fail_on_any_schedule_lockstep_included(student_code, name):
    module = student_code("dinners_ok_" + name, DINNERS)
    result = engine(300, max_steps=3_000).explore(dinner(getattr(module, name)),
                                                  stop_at_first=False)
    assert result.schedules == 300 + 1 and not result.failures  # + lockstep, result.failures[:1]


def test_lockstep_lets_a_thread_polling_a_flag_see_it_set(student_code):
    """Busy polling is judged by the random schedules (PCT starves a poller, as it may);
    the lockstep schedule alone must not turn it into a livelock or a hang."""
    module = student_code("dinners_polling", DINNERS)
    result = engine(1, strategy="lockstep", max_steps=3_000).explore(dinner(module.flag_polling))
    assert not result.failures, result.failures[:1]


def test_one_thread_spinning_alone_is_still_busy_waiting(student_code):
    module = student_code("spin_alone", """
def spin():
    flag = [False]
    while not flag[0]:
        pass
""")
    # the three first schedules: a random walk, lockstep, a random walk
    result = engine(3, max_steps=5_000).explore(lambda run: run.spawn(module.spin),
                                                stop_at_first=False)
    assert {f.verdict for f in result.failures} == {"busy_wait"}


def _tasks(n: int) -> list[Task]:
    return [Task(None, tid, f"T{tid}", lambda: None) for tid in range(n)]  # type: ignore[arg-type]


def test_lockstep_is_round_robin_with_one_operation_per_turn():
    strategy = Lockstep()
    a, b, c = _tasks(3)
    assert strategy.choose([a, b, c], a) is b and strategy.choose([a, b, c], c) is a
    strategy.on_run(b)
    assert strategy.choose([a, c], None) is c, "after a thread blocks, the next one in order"
    assert strategy.switch_at_sync("acquire") and strategy.switch_before("release")
    assert not strategy.switch_at_sync("release"), "a release already ended the turn"
    assert not strategy.switch_at_sync("start"), "threads a loop starts set off together"
    assert not any(strategy.switch_at_step(s) for s in range(1, 51)), "no switch between bytecodes"
    assert strategy.switch_at_step(51), "but a thread polling a flag gives the turn up"


def test_every_strategy_answers_the_same_interface():
    import random

    for name in ("walk", "pct", "lockstep"):
        strategy = make_strategy(name, 7, random.Random(7))
        assert strategy.name == name
        tasks = _tasks(2)
        for task in tasks:
            strategy.on_spawn(task)
        strategy.on_run(tasks[0])
        assert strategy.choose(tasks, tasks[0]) in tasks
        assert isinstance(strategy.switch_at_step(1), bool)
        assert isinstance(strategy.switch_at_sync("acquire"), bool)
        assert isinstance(strategy.switch_before("release"), bool)


def test_the_lockstep_schedule_is_added_not_put_in_place_of_a_random_one():
    eng = engine()
    seeds = eng.seeds(2000)
    base = seeds[0]
    assert len(seeds) == 2001 and seeds[1] == eng.lockstep_seed() < 0
    assert [s for s in seeds if eng.strategy_for(s) != "lockstep"] == [base + i for i in range(2000)]
    assert [eng.strategy_for(s) for s in seeds].count("lockstep") == 1
    assert eng.seeds(1) == [base], "a single schedule stays a random one"
