"""Which thread runs next: the scheduler's strategies, behind one interface.

The scheduler asks a strategy three questions and tells it one thing:

- ``switch_at_step(steps)``: at a bytecode of the student's files, switch threads?
- ``switch_at_sync(what)``: at an operation on a synchronisation primitive (`what`:
  acquire, release, start, join, ...), switch threads? Asked before an acquire acts,
  after a release acted (so that a thread it woke may run);
- ``switch_before(what)``: before a release acts, switch threads too?
- ``choose(runnable, current)``: which runnable thread gets the turn?
- ``on_spawn(task)`` and ``on_run(task)``: a thread was created; a thread got the turn.

Three strategies, each a way to make a class of bugs show up:

- `RandomWalk` switches at random (races need a switch inside a few bytecodes);
- `PCT` (probabilistic concurrency testing) runs the highest-priority thread and lowers
  it at a few random points (deadlocks and ordering bugs of small depth);
- `Lockstep` is round-robin with one synchronisation operation per turn: threads that
  take a lock, try another, put the first back and retry all move together, which is the
  schedule on which such a retry loop never gets anywhere (a livelock). No random
  schedule keeps them in step for long, so this one is tried on purpose.
"""
from __future__ import annotations

import random
from typing import Protocol

from grader.concurrency.tasks import Task


class Strategy(Protocol):
    name: str

    def on_spawn(self, task: Task) -> None: ...

    def on_run(self, task: Task) -> None: ...

    def switch_at_step(self, steps: int) -> bool: ...

    def switch_at_sync(self, what: str) -> bool: ...

    def switch_before(self, what: str) -> bool: ...

    def choose(self, runnable: list[Task], current: Task | None) -> Task: ...


class RandomWalk:
    """At each scheduling point, switch to another runnable thread with a probability."""

    name = "walk"

    def __init__(self, rng: random.Random, p_step: float, p_sync: float) -> None:
        self.rng, self.p_step, self.p_sync = rng, p_step, p_sync
        self._random = rng.random  # asked before every bytecode: looked up once

    def on_spawn(self, task: Task) -> None:
        pass

    def on_run(self, task: Task) -> None:
        pass

    def switch_at_step(self, steps: int) -> bool:
        return self._random() < self.p_step

    def switch_at_sync(self, what: str) -> bool:
        return self.rng.random() < self.p_sync

    def switch_before(self, what: str) -> bool:
        return False

    def choose(self, runnable: list[Task], current: Task | None) -> Task:
        others = [t for t in runnable if t is not current]
        if current is not None and current in runnable and (not others or self.rng.random() < 0.2):
            return current
        return self.rng.choice(others)


class PCT:
    """Probabilistic concurrency testing (Burckhardt et al.): random thread priorities,
    with `depth - 1` points in the run where the running thread's priority drops. Finds
    bugs of depth d with probability at least 1 / (n * k^(d-1))."""

    name = "pct"

    def __init__(self, rng: random.Random, depth: int, horizon: int) -> None:
        self.rng = rng
        self.change_points = {rng.randrange(1, max(2, horizon)) for _ in range(depth - 1)}
        self.low = 0.0
        self.current: Task | None = None

    def on_spawn(self, task: Task) -> None:
        task.priority = 1.0 + self.rng.random()

    def on_run(self, task: Task) -> None:
        self.current = task

    def switch_at_step(self, steps: int) -> bool:
        if steps in self.change_points and self.current is not None:
            self.low -= 1.0
            self.current.priority = self.low
            return True
        return False

    def switch_at_sync(self, what: str) -> bool:
        return True  # a wake-up may have made a higher-priority thread runnable

    def switch_before(self, what: str) -> bool:
        return False

    def choose(self, runnable: list[Task], current: Task | None) -> Task:
        return max(runnable, key=lambda t: t.priority)


class Lockstep:
    """Round-robin, one synchronisation operation per turn: a switch to the next thread
    (in order of creation) at every primitive operation. Between them, a thread keeps the
    turn for up to `quantum` bytecodes, so a thread polling a plain flag still lets the
    thread that sets it run as soon as a random walk would (about as often as its
    switch probabilities of 0.02 to 0.2 per bytecode)."""

    name = "lockstep"

    def __init__(self, quantum: int = 50) -> None:
        self.quantum = quantum
        self.turn_started = 0
        self.last: Task | None = None

    def on_spawn(self, task: Task) -> None:
        pass

    def on_run(self, task: Task) -> None:
        self.last = task
        self.turn_started = -1  # counted from the next step

    def switch_at_step(self, steps: int) -> bool:
        if self.turn_started < 0:
            self.turn_started = steps
        if steps - self.turn_started >= self.quantum:
            self.turn_started = steps
            return True
        return False

    def switch_at_sync(self, what: str) -> bool:
        # One operation per turn: the turn ends before an acquire (or a join, a wait ...)
        # acts and before a release acts, never right after it. Starting a thread is not
        # a turn: the threads a loop starts set off together.
        return what not in ("start", "release")

    def switch_before(self, what: str) -> bool:
        return True

    def choose(self, runnable: list[Task], current: Task | None) -> Task:
        previous = current or self.last
        if previous is None:
            return min(runnable, key=lambda t: t.tid)
        later = [t for t in runnable if t.tid > previous.tid]
        return min(later or runnable, key=lambda t: t.tid)


def make_strategy(name: str, seed: int, rng: random.Random) -> Strategy:
    """The strategy a schedule runs under. "mixed" draws one from the seed: a random walk
    for two seeds in three, PCT for the third (the Engine puts lockstep among the seeds of
    every exploration by naming it)."""
    if name == "mixed":
        name = ("walk", "walk", "pct")[seed % 3]
    if name == "lockstep":
        return Lockstep()
    if name == "pct":
        return PCT(rng, depth=rng.choice((2, 3)), horizon=rng.choice((200, 2000)))
    if name == "walk":
        return RandomWalk(rng, rng.choice((0.02, 0.05, 0.1, 0.2)), p_sync=0.5)
    raise ValueError(f"unknown scheduling strategy {name!r}")
