"""``multiprocessing``'s locks, semaphores, conditions, events and shared values, switched
by the scheduler when threads use them.

Course code often shares a ``multiprocessing.Lock`` or ``multiprocessing.Value`` between
*threads*. Such a primitive blocks in the kernel, where the scheduler cannot switch it,
so a schedule would stop answering and correct code would fail. The student's module
gets these instead (see shim.py): each holds the real multiprocessing object, so that

- from an ordinary thread, or in a process it was handed to (fork or pickle), it *is*
  the real primitive: every call goes to it unchanged;
- from a controlled thread, an operation is a scheduling point and blocking goes
  through the scheduler: the real semaphore is only ever tried without blocking, and a
  thread that would block is parked until a release wakes it, as with ``threading``'s.

``Value`` and ``Array`` are the standard ones built over such a lock, so ``v.value += 1``
takes and releases it twice (a race the engine finds) and ``with v.get_lock():`` is a
critical section it respects. Primitives reached another way (a manager's proxies, a
``multiprocessing.Queue``) stay real: a schedule that blocks in one falls back to the
stress engine (Engine.explore).
"""
from __future__ import annotations

import multiprocessing as _mp
import sys
import types
from multiprocessing import sharedctypes as _sharedctypes
from typing import Any

from grader.concurrency import primitives as p
from grader.concurrency.tasks import Task, current_task


def _unwrapped(real: Any) -> Any:
    """Unpickling a shim gives the real primitive: a child process is not scheduled."""
    return real


class Lock(p.Lock):
    """multiprocessing.Lock: acquire(block=True, timeout=None)."""

    _real: Any  # multiprocessing's own primitive (a SemLock), not a _thread lock

    def __init__(self, real: Any = None, ctx: Any = None) -> None:
        super().__init__()
        self._real = real if real is not None else (ctx or _mp).Lock()

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        task = current_task()
        if task is None:
            return self._real.acquire(block, timeout)
        sched = task.sched
        sched.sync_point(task, "acquire", self)
        # multiprocessing ignores the timeout of a non-blocking call and reads a negative
        # one as zero.
        deadline = None if timeout is None or not block else sched.clock + max(timeout, 0.0)
        return self._controlled_acquire(task, block, deadline)

    # The with-statement passes no argument: multiprocessing's own is acquire() too.
    def __enter__(self) -> bool:  # type: ignore[override]
        return self.acquire()

    def locked(self) -> bool:
        return self._real._semlock._get_value() == 0

    def _is_owned(self) -> bool:
        if current_task() is None:
            return self._real._semlock._is_mine()
        return super()._is_owned()

    def __reduce__(self) -> tuple:
        return (_unwrapped, (self._real,))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_real":
            raise AttributeError(name)
        return getattr(self._real, name)

    def __repr__(self) -> str:
        return f"<multiprocessing {super().__repr__()[1:]}"


class RLock(Lock):
    """multiprocessing.RLock: the real semaphore counts the owner's re-entries itself;
    the shim counts them too, to know when the lock is given back."""

    def __init__(self, real: Any = None, ctx: Any = None) -> None:
        super().__init__(real if real is not None else (ctx or _mp).RLock())
        self._depth = 0

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        task = current_task()
        if task is None or self._owner is not task:
            got = super().acquire(block, timeout)
            if got and task is not None:
                self._depth = 1
            return got
        task.sched.sync_point(task, "acquire", self)
        self._real.acquire(False)  # its owner: never blocks
        self._depth += 1
        return True

    def release(self) -> None:
        task = current_task()
        if task is None:
            self._real.release()
            return
        if self._owner is not task:
            self._real.release()  # raises as multiprocessing does (not owned)
            return
        if self._depth > 1:
            self._real.release()
            self._depth -= 1
            task.sched.sync_point(task, "release", self)
            return
        self._depth = 0
        super().release()

    def _release_save(self) -> Any:
        depth = self._depth
        for _ in range(depth - 1):
            self._real.release()
        self._depth = 1
        self.release()
        return depth

    def _acquire_restore(self, depth: Any) -> None:
        self.acquire()
        for _ in range(depth - 1):
            self._real.acquire(False)
        self._depth = depth


class Semaphore(Lock):
    """multiprocessing.Semaphore (and BoundedSemaphore): a count, not a lock, so it has
    no owner and no place in the lock-order graph."""

    _blocker_kind = "semaphore"

    def __init__(self, value: int = 1, *, ctx: Any = None, real: Any = None) -> None:
        super().__init__(real if real is not None else (ctx or _mp).Semaphore(value))
        self._user = False

    def _took(self, task: Task, ordering: bool = True) -> None:
        pass  # nobody owns a semaphore

    def release(self) -> None:
        task = current_task()
        if task is None:
            self._real.release()
            return
        task.sched.before(task, "release", self)
        self._real.release()  # a BoundedSemaphore raises ValueError past its value
        task.sched.wake(self)
        task.sched.sync_point(task, "release", self)

    def get_value(self) -> int:
        return self._real.get_value()


class BoundedSemaphore(Semaphore):
    def __init__(self, value: int = 1, *, ctx: Any = None) -> None:
        super().__init__(value, real=(ctx or _mp).BoundedSemaphore(value))


class Condition:
    """multiprocessing.Condition: the real one for ordinary threads and processes; under
    the scheduler, the lock is the shim's and waiting goes through the scheduler."""

    def __init__(self, lock: Any = None, *, ctx: Any = None) -> None:
        if lock is None:
            lock = RLock(ctx=ctx)
        elif not isinstance(lock, Lock):
            raise TypeError(f"a multiprocessing.Condition needs a multiprocessing lock, not {lock!r}")
        self._lock = lock
        self._real = (ctx or _mp).Condition(lock._real)
        self._ctl = p.Condition(lock)  # waiting and notifying under the scheduler
        self._ctl._outer = self  # type: ignore[attr-defined]
        self._site = p._creation_site()

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        return self._lock.acquire(block, timeout)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)

    def _side(self) -> Any:
        return self._real if current_task() is None else self._ctl

    def wait(self, timeout: float | None = None) -> bool:
        return self._side().wait(timeout)

    def wait_for(self, predicate: Any, timeout: float | None = None) -> Any:
        return self._side().wait_for(predicate, timeout)

    def notify(self, n: int = 1) -> None:
        self._side().notify(n)

    def notify_all(self) -> None:
        self._side().notify_all()

    def __reduce__(self) -> tuple:
        return (_unwrapped, (self._real,))

    def __repr__(self) -> str:
        return f"<multiprocessing Condition({self._lock!r})>"


class Event:
    """multiprocessing.Event: its flag is the real one; under the scheduler, waiting for
    it parks the thread until `set` wakes it."""

    _blocker_kind = "event"

    def __init__(self, *, ctx: Any = None) -> None:
        self._real = (ctx or _mp).Event()
        self._site = p._creation_site()

    def is_set(self) -> bool:
        return self._real.is_set()

    def set(self) -> None:
        self._real.set()  # never blocks: no thread of this process sleeps on it
        task = current_task()
        if task is not None:
            task.sched.wake(self)
            task.sched.sync_point(task, "set", self)

    def clear(self) -> None:
        task = current_task()
        if task is not None:
            task.sched.sync_point(task, "clear", self)
        self._real.clear()

    def wait(self, timeout: float | None = None) -> bool:
        task = current_task()
        if task is None:
            return self._real.wait(timeout)
        sched = task.sched
        sched.sync_point(task, "wait", self)
        deadline = None if timeout is None else sched.clock + max(timeout, 0.0)
        while not self._real.is_set():
            if not sched.block(task, self, deadline):
                break
        return self._real.is_set()

    def __reduce__(self) -> tuple:
        return (_unwrapped, (self._real,))


def Value(typecode_or_type: Any, *args: Any, lock: Any = True, ctx: Any = None) -> Any:
    """multiprocessing.Value over a shim RLock (or the lock given)."""
    if lock is True:
        lock = RLock(ctx=ctx)
    return _sharedctypes.Value(typecode_or_type, *args, lock=lock, ctx=ctx or _mp.get_context())


def Array(typecode_or_type: Any, size_or_initializer: Any, *, lock: Any = True, ctx: Any = None) -> Any:
    """multiprocessing.Array over a shim RLock (or the lock given)."""
    if lock is True:
        lock = RLock(ctx=ctx)
    return _sharedctypes.Array(typecode_or_type, size_or_initializer, lock=lock,
                               ctx=ctx or _mp.get_context())


class Context:
    """What get_context() returns: the real context, with the primitives above."""

    def __init__(self, real: Any) -> None:
        self._ctx = real

    def Lock(self) -> Lock:  # noqa: N802 - multiprocessing's names
        return Lock(ctx=self._ctx)

    def RLock(self) -> RLock:  # noqa: N802
        return RLock(ctx=self._ctx)

    def Semaphore(self, value: int = 1) -> Semaphore:  # noqa: N802
        return Semaphore(value, ctx=self._ctx)

    def BoundedSemaphore(self, value: int = 1) -> BoundedSemaphore:  # noqa: N802
        return BoundedSemaphore(value, ctx=self._ctx)

    def Condition(self, lock: Any = None) -> Condition:  # noqa: N802
        return Condition(lock, ctx=self._ctx)

    def Event(self) -> Event:  # noqa: N802
        return Event(ctx=self._ctx)

    def Value(self, typecode_or_type: Any, *args: Any, lock: Any = True) -> Any:  # noqa: N802
        return Value(typecode_or_type, *args, lock=lock, ctx=self._ctx)

    def Array(self, typecode_or_type: Any, size_or_initializer: Any, *, lock: Any = True) -> Any:  # noqa: N802
        return Array(typecode_or_type, size_or_initializer, lock=lock, ctx=self._ctx)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


def _factories(ctx: Any = None) -> dict[str, Any]:
    context = Context(ctx or _mp.get_context())
    return {name: getattr(context, name) for name in
            ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event", "Value", "Array")}


def build_multiprocessing() -> types.ModuleType:
    """The student's ``multiprocessing``: the real package with the primitives above."""
    module = types.ModuleType("multiprocessing", _mp.__doc__)
    module.__dict__.update({k: v for k, v in vars(_mp).items() if not k.startswith("__")})
    module.__dict__.update(_factories())
    module.get_context = lambda method=None: Context(_mp.get_context(method))  # type: ignore[attr-defined]
    module.__path__ = list(_mp.__path__)
    module.__package__ = "multiprocessing"
    for name, sub in list(sys.modules.items()):  # submodules already imported
        if name.startswith("multiprocessing.") and name.count(".") == 1:
            setattr(module, name.partition(".")[2], sub)
    module.synchronize = build_synchronize()  # type: ignore[attr-defined]
    return module


def build_synchronize() -> types.ModuleType:
    """``multiprocessing.synchronize`` with the shim classes (they take ctx= as the real)."""
    from multiprocessing import synchronize as real

    module = types.ModuleType("multiprocessing.synchronize", real.__doc__)
    module.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
    module.__dict__.update({"Lock": Lock, "RLock": RLock, "Semaphore": Semaphore,
                            "BoundedSemaphore": BoundedSemaphore, "Condition": Condition,
                            "Event": Event})
    return module
