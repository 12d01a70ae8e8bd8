"""Locks are named in the student's words: the list a closure shares them through, with
the index, and never a list of the grader's own (a lock-order cycle is described while
the grader holds the locks in lists and tuples of its own)."""
from __future__ import annotations

import threading

from grader.concurrency.explain import EXPLAINER, name_lock
from grader.concurrency.runtime import Scheduler


def test_a_closures_list_of_locks_is_named_by_its_variable() -> None:
    def table(n: int):
        forks = [threading.Lock() for _ in range(n)]

        def philosopher(i: int) -> object:
            return forks[i]
        return philosopher

    philosopher = table(3)
    sched = Scheduler(0, files=frozenset(), explainer=EXPLAINER)
    grader_list = [philosopher(2), philosopher(1)]  # the grader's own temporary list
    sched._keep.extend(grader_list)
    assert name_lock(sched, philosopher(2)) == "forks[2]"
    assert name_lock(sched, philosopher(1)) == "forks[1]"


SHARED = [threading.Lock(), threading.Lock()]


def test_a_module_level_list_is_named_by_its_global() -> None:
    assert name_lock(Scheduler(0, files=frozenset(), explainer=EXPLAINER), SHARED[1]) == "SHARED[1]"
