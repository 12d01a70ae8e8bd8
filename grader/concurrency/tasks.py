"""What a schedule is made of and how it ends: tasks and failures, the engine's leaf.

A `Task` is one controlled thread; `current_task` finds the one calling. A schedule ends
by `Abort` (every controlled thread unwinds), a scenario's failed check
(`ScenarioFailed`), or a `ScheduleFailure` (verdict, message, details); `LockCycle` is a
lock-order cycle seen on the way. The scheduler (runtime.py), its strategies
(strategies.py), its explanations (explain.py) and the primitives all use these, and this
module imports none of them, so the arrows between them go one way.
"""
from __future__ import annotations

import _thread
import os
import threading as _real_threading
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Callable, Protocol


class Abort(BaseException):
    """Unwinds a controlled thread once its schedule is over (deadlock, failure, end)."""


class ScenarioFailed(BaseException):
    """Raised in the scenario's thread by a failed ``run.check``; ends the schedule."""


@dataclass
class ScheduleFailure:
    verdict: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class Controller(Protocol):
    """What the primitives of a controlled thread ask of the scheduler running it
    (runtime.Scheduler is the one): declared here so that this module needs none."""

    clock: float  # virtual time, in seconds

    def sync_point(self, task: Task, what: str, obj: Any = None) -> None: ...

    def before(self, task: Task, what: str, obj: Any = None) -> None: ...

    def note(self, task: Task, what: str, obj: Any = None) -> None: ...

    def yield_turn(self, task: Task) -> None: ...

    def progress(self, task: Task, what: str = "progress") -> None: ...

    def block(self, task: Task, blocker: Any, deadline: float | None) -> bool: ...

    def wake(self, blocker: Any, count: int | None = None) -> int: ...

    def on_acquire(self, task: Task, lock: Any, ordering: bool = True) -> None: ...

    def on_release(self, owner: Task, lock: Any, releaser: Task | None = None) -> None: ...

    def student_frame(self, frame: FrameType | None) -> FrameType | None: ...

    def next_thread_name(self) -> str: ...

    def spawn(self, fn: Callable[[], Any], name: str, shim_thread: Any = None) -> Task: ...


class Task:
    """One controlled thread."""

    def __init__(self, sched: Controller, tid: int, name: str, fn: Callable[[], Any]) -> None:
        self.sched = sched
        self.tid = tid
        self.name = name
        self.fn = fn
        self.baton = _thread.allocate_lock()
        self.baton.acquire()
        self.state = "runnable"  # runnable | blocked | done
        self.blocker: Any = None  # what it waits for, while blocked
        self.deadline: float | None = None
        self.timed_out = False
        self.held: list[Any] = []  # user-visible locks held, in acquisition order
        self.ident: int | None = None
        self.thread: _real_threading.Thread | None = None
        self.steps = 0
        self.waits = 0  # times it blocked
        self.overtaken = 0  # times another thread took a lock it was waiting for
        self.priority = 0.0  # PCT
        self.shim_thread: Any = None  # the student-visible Thread object

    def __repr__(self) -> str:
        return f"<Task {self.name} {self.state}>"


# real thread ident -> the controlled task running on it (the scheduler fills it in)
RUNNING: dict[int, Task] = {}


# A process forked by a controlled thread inherits the table, not the scheduler: its
# threads are ordinary ones there (a forked copy of this thread keeps its ident).
os.register_at_fork(after_in_child=RUNNING.clear)


def current_task() -> Task | None:
    """The controlled task calling, or None when called from an ordinary thread."""
    return RUNNING.get(_thread.get_ident())


def is_student_file(filename: str, files: frozenset[str]) -> bool:
    """Whether code compiled under `filename` is the student's: the one test deciding
    which frames get switch points and which lines messages show."""
    return filename in files




@dataclass(frozen=True)
class LockCycle:
    """Locks seen taken in a cycle of orders: the creation sites of its locks, its edges
    (site of the lock held, site of the lock taken), and the cycle in words."""

    sites: frozenset
    edges: tuple
    text: str

    def can_deadlock(self, handoff_sites: set, edge_threads: dict) -> bool:
        """Not through a lock some thread released without having taken it (a signal
        between threads, as a semaphore is), and with edges taken by two threads or more:
        a deadlock needs each of two threads to hold one lock and want the next; one
        thread taking every order in turn (a sequential test) shows no such pair."""
        if self.sites & handoff_sites:
            return False
        takers = set().union(*(edge_threads.get(edge, set()) for edge in self.edges))
        return len(takers) >= 2


