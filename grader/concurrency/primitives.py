"""Scheduler-aware versions of ``threading`` primitives, ``time.sleep`` and the clocks.

Student code sees these in place of the standard ones (see ``shim.py``). Each works in
two modes, decided at every call:

- from a controlled thread, an operation is a scheduling point and blocking goes through
  the scheduler (the thread is parked, never blocked for real), so a deadlock is seen at
  once instead of hanging the grader, and timeouts run on virtual time;
- from an ordinary thread (a plain sequential test, module import), they behave like the
  standard library's, on a real lock.

The algorithms of Condition, Semaphore and Event are the classic ones, written over
``Lock`` so that they inherit both modes.
"""
from __future__ import annotations

import _thread
import itertools
import os
import sys
import sysconfig
import threading as _rt
import time as _rtime
from collections import deque
from types import FrameType
from typing import Any, Callable

from grader.concurrency.tasks import Task, current_task

_GRADER_DIR = os.path.dirname(os.path.abspath(__file__))
_STDLIB_DIRS = tuple({os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")})


def _creation_site() -> tuple[str, int, bool]:
    """Where the primitive is being created: (file, line, made by user code?)."""
    frame = sys._getframe(2)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _GRADER_DIR:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return ("?", 0, False)
    filename = frame.f_code.co_filename
    internal = os.path.realpath(filename).startswith(_STDLIB_DIRS)
    return (filename, frame.f_lineno, not internal)


class Lock:
    """threading.Lock. `_user` locks (made by student or test code, not by the standard
    library) count in the lock-order graph and the lock-holder figures."""

    def __init__(self) -> None:
        self._real = _thread.allocate_lock()
        self._owner: Task | None = None
        self._site = _creation_site()
        self._user = self._site[2]
        self._outer: Any = None  # the RLock or Condition this lock serves, for messages
        self._waits_for: Any = None  # set on a Condition's waiter: the condition
        # The student's frame that took it, and the line it was on then.
        self._taken_in: tuple[FrameType, int] | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        task = current_task()
        if task is None:
            return self._real.acquire(blocking, timeout)
        sched = task.sched
        sched.sync_point(task, "acquire", self)
        deadline = None if timeout is None or timeout < 0 else sched.clock + timeout
        return self._controlled_acquire(task, blocking, deadline)

    def _controlled_acquire(self, task: Task, blocking: bool, deadline: float | None) -> bool:
        """Take the backing lock without blocking for real; park in the scheduler while
        another thread holds it. Shared with the multiprocessing shims (mp.py), whose
        backing lock is a real semaphore of multiprocessing."""
        sched = task.sched
        woken = False
        while not self._real.acquire(False):
            if woken:
                task.overtaken += 1  # woken, but another thread got the lock first
            if not blocking:
                sched.note(task, "busy", self)
                return False
            if not sched.block(task, self, deadline):
                sched.note(task, "timed out", self)
                return False
            woken = True
        # Only a blocking acquire without timeout can wait forever, so only it orders
        # locks in the lock-order graph (a try-lock backs off, as lockdep treats it).
        self._took(task, ordering=blocking and deadline is None)
        return True

    def _took(self, task: Task, ordering: bool = True) -> None:
        self._owner = task
        if self._user or self._outer is not None:
            frame = task.sched.student_frame(sys._getframe(2))
            self._taken_in = (frame, frame.f_lineno) if frame is not None else None
        if self._user:
            task.sched.on_acquire(task, self._outer or self, ordering)

    def release(self) -> None:
        task = current_task()
        if task is None:
            self._real.release()
            self._owner = None
            return
        task.sched.before(task, "release", self)
        self._real.release()  # RuntimeError on an unlocked lock, as the standard one
        owner, self._owner = self._owner, None
        self._taken_in = None  # a frame kept would keep its locals (and this lock) alive
        if self._user and owner is not None:
            task.sched.on_release(owner, self._outer or self, task)
        task.sched.wake(self)
        task.sched.sync_point(task, "release", self)

    def locked(self) -> bool:
        return self._real.locked()

    def _is_owned(self) -> bool:
        task = current_task()
        if task is None:
            return self._real.locked()
        return self._owner is task

    def _release_save(self) -> Any:
        self.release()

    def _acquire_restore(self, state: Any) -> None:
        self.acquire()

    def _at_fork_reinit(self) -> None:
        self._real = _thread.allocate_lock()
        self._owner = None

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<{'locked' if self.locked() else 'unlocked'} Lock created at {self._site[0]}:{self._site[1]}>"


class RLock:
    """threading.RLock: a lock its owner may take again, released as often as taken."""

    def __init__(self) -> None:
        self._block = Lock()
        self._block._user = False
        self._block._outer = self
        self._site = self._block._site = _creation_site()
        self._user = self._site[2]
        self._holder: Any = None  # a Task, or a real thread ident outside the scheduler
        self._count = 0

    @staticmethod
    def _me() -> Any:
        return current_task() or _thread.get_ident()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = self._me()
        if self._holder == me:  # == : outside the scheduler, `me` is an int thread ident
            if isinstance(me, Task):
                me.sched.sync_point(me, "acquire", self)
            self._count += 1
            return True
        if not self._block.acquire(blocking, timeout):
            return False
        self._holder, self._count = me, 1
        if isinstance(me, Task) and self._user:
            me.sched.on_acquire(me, self, blocking and (timeout is None or timeout < 0))
        return True

    def release(self) -> None:
        me = self._me()
        if self._holder != me:
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._holder = None
            if isinstance(me, Task) and self._user:
                me.sched.on_release(me, self, me)
            self._block.release()
        elif isinstance(me, Task):
            me.sched.sync_point(me, "release", self)

    def locked(self) -> bool:
        return self._block.locked()

    def _is_owned(self) -> bool:
        return self._holder == self._me()

    def _release_save(self) -> Any:
        if self._count == 0:
            raise RuntimeError("cannot release un-acquired lock")
        count, self._count = self._count, 1
        self.release()
        return count

    def _acquire_restore(self, count: Any) -> None:
        self.acquire()
        self._count = count

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<RLock held {self._count} times, created at {self._site[0]}:{self._site[1]}>"


def _internal_lock(outer: Any = None) -> Lock:
    lock = Lock()
    lock._user = False
    lock._outer = outer
    return lock


class Condition:
    """threading.Condition: each waiter parks on a fresh lock that notify releases."""

    def __init__(self, lock: Any = None) -> None:
        if lock is None:
            lock = RLock()
        self._lock = lock
        self.acquire = lock.acquire
        self.release = lock.release
        self._waiters: deque[Lock] = deque()
        self._site = _creation_site()

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)

    def _is_owned(self) -> bool:
        if hasattr(self._lock, "_is_owned"):
            return self._lock._is_owned()
        if self._lock.acquire(False):
            self._lock.release()
            return False
        return True

    def _release_save(self) -> Any:
        if hasattr(self._lock, "_release_save"):
            return self._lock._release_save()
        self._lock.release()
        return None

    def _acquire_restore(self, state: Any) -> None:
        if hasattr(self._lock, "_acquire_restore"):
            self._lock._acquire_restore(state)
        else:
            self._lock.acquire()

    def wait(self, timeout: float | None = None) -> bool:
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        waiter = _internal_lock()
        waiter._waits_for = self
        waiter.acquire()
        self._waiters.append(waiter)
        saved = self._release_save()
        notified = False
        try:
            if timeout is None:
                waiter.acquire()
                notified = True
            elif timeout > 0:
                notified = waiter.acquire(True, timeout)
            else:
                notified = waiter.acquire(False)
            return notified
        finally:
            self._acquire_restore(saved)
            if not notified:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        end = None
        result = predicate()
        while not result:
            if timeout is not None:
                if end is None:
                    end = monotonic() + timeout
                left = end - monotonic()
                if left <= 0:
                    break
                self.wait(left)
            else:
                self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        for _ in range(min(n, len(self._waiters))):
            waiter = self._waiters.popleft()
            waiter.release()

    def notify_all(self) -> None:
        self.notify(len(self._waiters))

    notifyAll = notify_all

    def __repr__(self) -> str:
        return f"<Condition with {len(self._waiters)} waiters>"


class Semaphore:
    """threading.Semaphore."""

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._cond = Condition(_internal_lock(self))
        self._cond._outer = self  # type: ignore[attr-defined]
        self._value = value
        self._site = _creation_site()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        end = None
        with self._cond:
            while self._value == 0:
                if not blocking:
                    return False
                if timeout is not None:
                    if end is None:
                        end = monotonic() + timeout
                    left = end - monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(left)
                else:
                    self._cond.wait()
            self._value -= 1
            return True

    __enter__ = acquire

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        with self._cond:
            self._value += n
            self._cond.notify(n)

    def __exit__(self, *exc: object) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    """threading.BoundedSemaphore: releasing more than acquired is a ValueError."""

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial = value

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        with self._cond:
            if self._value + n > self._initial:
                raise ValueError("Semaphore released too many times")
            self._value += n
            self._cond.notify(n)


class Event:
    """threading.Event."""

    def __init__(self) -> None:
        self._cond = Condition(_internal_lock(self))
        self._cond._outer = self  # type: ignore[attr-defined]
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set

    def set(self) -> None:
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        with self._cond:
            signaled = self._flag
            if not signaled:
                signaled = self._cond.wait(timeout)
            return signaled


class BrokenBarrierError(RuntimeError):
    pass


class Barrier:
    """threading.Barrier, without abort and reset (rare in the course's exercises)."""

    def __init__(self, parties: int, action: Callable[[], Any] | None = None,
                 timeout: float | None = None) -> None:
        if parties < 1:
            raise ValueError("parties must be > 0")
        self._cond = Condition(_internal_lock(self))
        self._cond._outer = self  # type: ignore[attr-defined]
        self.parties, self._action, self._timeout = parties, action, timeout
        self._count = 0
        self._generation = 0

    def wait(self, timeout: float | None = None) -> int:
        with self._cond:
            index = self._count
            self._count += 1
            generation = self._generation
            if self._count == self.parties:
                if self._action:
                    self._action()
                self._count = 0
                self._generation += 1
                self._cond.notify_all()
                return index
            if not self._cond.wait_for(lambda: self._generation != generation,
                                       timeout if timeout is not None else self._timeout):
                raise BrokenBarrierError("barrier timed out")
            return index

    @property
    def n_waiting(self) -> int:
        return self._count


_plain_names = itertools.count(1)


class Thread:
    """threading.Thread: under the scheduler, a controlled thread; otherwise a real one."""

    def __init__(self, group: None = None, target: Callable[..., Any] | None = None,
                 name: str | None = None, args: tuple = (), kwargs: dict | None = None, *,
                 daemon: bool | None = None) -> None:
        task = current_task()
        if name is None:
            number = task.sched.next_thread_name() if task else f"Thread-{next(_plain_names)}"
            name = number + (f" ({target.__name__})" if target is not None and hasattr(target, "__name__") else "")
        self._target, self._args, self._kwargs = target, args, kwargs or {}
        self._name = name
        self._daemon = bool(daemon) if daemon is not None else False
        self._task: Task | None = None
        self._real: _rt.Thread | None = None
        self._started = False

    def start(self) -> None:
        if self._started:
            raise RuntimeError("threads can only be started once")
        self._started = True
        task = current_task()
        if task is not None:
            self._task = task.sched.spawn(self.run, self._name, shim_thread=self)
            task.sched.sync_point(task, "start", self)
        else:
            self._real = _rt.Thread(target=self.run, name=self._name, daemon=self._daemon)
            self._real.start()

    def run(self) -> None:
        try:
            if self._target is not None:
                self._target(*self._args, **self._kwargs)
        finally:
            del self._target, self._args, self._kwargs

    def join(self, timeout: float | None = None) -> None:
        if not self._started:
            raise RuntimeError("cannot join thread before it is started")
        task = current_task()
        if self._task is None:
            assert self._real is not None
            self._real.join(timeout)
            return
        if task is None:
            if self._task.thread is not None:
                self._task.thread.join(timeout)
            return
        if self._task is task:
            raise RuntimeError("cannot join current thread")
        sched = task.sched
        sched.sync_point(task, "join", self)
        deadline = None if timeout is None else sched.clock + max(timeout, 0.0)
        while self._task.state != "done":
            if not sched.block(task, self._task, deadline):
                return

    def is_alive(self) -> bool:
        if self._task is not None:
            return self._task.state != "done"
        return self._real is not None and self._real.is_alive()

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value
        if self._task is not None:
            self._task.name = value

    @property
    def daemon(self) -> bool:
        return self._daemon

    @daemon.setter
    def daemon(self, value: bool) -> None:
        if self._started:
            raise RuntimeError("cannot set daemon status of active thread")
        self._daemon = bool(value)

    @property
    def ident(self) -> int | None:
        if self._task is not None:
            return self._task.ident
        return self._real.ident if self._real else None

    native_id = ident

    def getName(self) -> str:
        return self.name

    def setName(self, value: str) -> None:
        self.name = value

    def isDaemon(self) -> bool:
        return self.daemon

    def setDaemon(self, value: bool) -> None:
        self.daemon = value

    def __repr__(self) -> str:
        state = "started" if self._started else "initial"
        return f"<Thread({self._name}, {state})>"


class Timer(Thread):
    """threading.Timer: call a function after a delay, unless cancelled."""

    def __init__(self, interval: float, function: Callable[..., Any], args: tuple | None = None,
                 kwargs: dict | None = None) -> None:
        super().__init__()
        self.interval, self.function = interval, function
        self.args, self.kwargs = args or (), kwargs or {}
        self.finished = Event()

    def cancel(self) -> None:
        self.finished.set()

    def run(self) -> None:
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


class _ScenarioThread:
    """What current_thread() returns in the scenario's own thread."""

    def __init__(self, task: Task) -> None:
        self._task = task
        self.daemon = False

    @property
    def name(self) -> str:
        return self._task.name

    @property
    def ident(self) -> int | None:
        return self._task.ident

    def is_alive(self) -> bool:
        return self._task.state != "done"


def current_thread() -> Any:
    task = current_task()
    if task is None:
        return _rt.current_thread()
    if task.shim_thread is None:
        task.shim_thread = _ScenarioThread(task)
    return task.shim_thread


# ---- time: virtual under the scheduler ---------------------------------------------

_BASE_MONOTONIC = 1000.0
_BASE_EPOCH = 1.7e9


def sleep(seconds: float) -> None:
    task = current_task()
    if task is None:
        _rtime.sleep(seconds)
        return
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    sched = task.sched
    sched.sync_point(task, "sleep", seconds)
    if seconds == 0:
        sched.yield_turn(task)
        return
    deadline = sched.clock + seconds
    marker = ("sleep", seconds)
    while sched.clock < deadline:
        sched.block(task, marker, deadline)


def monotonic() -> float:
    task = current_task()
    return _rtime.monotonic() if task is None else _BASE_MONOTONIC + task.sched.clock


def perf_counter() -> float:
    task = current_task()
    return _rtime.perf_counter() if task is None else _BASE_MONOTONIC + task.sched.clock


def time() -> float:
    task = current_task()
    return _rtime.time() if task is None else _BASE_EPOCH + task.sched.clock


def monotonic_ns() -> int:
    return int(monotonic() * 1e9)


def perf_counter_ns() -> int:
    return int(perf_counter() * 1e9)


def time_ns() -> int:
    return int(time() * 1e9)
