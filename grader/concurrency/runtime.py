"""The controlled scheduler: student threads run one at a time, switched by a seed.

Every controlled thread is a real OS thread, but only the one holding "the turn" runs;
the others are parked on their own baton lock. The turn changes hands only at
scheduling points:

- before every bytecode of the student's own files (``f_trace_opcodes``), so a switch can
  fall between the load and the store of ``self.value += n``;
- at every operation on a synchronisation primitive of ``grader.concurrency.primitives``.

C-level operations (``list.append``) run inside one bytecode and stay atomic, as they are
under the GIL. Which thread runs next is drawn from a seeded strategy, so a schedule is
reproducible from its seed. When no thread can run and none waits with a timeout, that
is a deadlock, detected at once; time is virtual, so ``sleep`` and timeouts cost nothing.
"""
from __future__ import annotations

import _thread
import ctypes
import os
import random
import sys
import threading as _real_threading
from collections import deque
from dataclasses import dataclass
from types import FrameType
from typing import Any, Callable

from grader.concurrency import tracing
from grader.concurrency.strategies import make_strategy
from grader.concurrency.tasks import (RUNNING, Abort, LockCycle, ScenarioFailed, ScheduleFailure,
                                      Task, current_task, is_student_file)
from grader.guard import STUDENT_CODES

__all__ = ["Abort", "Explainer", "LockCycle", "ScenarioFailed", "ScheduleFailure", "Scheduler",
           "Task", "current_task", "is_student_file", "opcode_tracer"]

# Virtual time advances this much per bytecode, so that a loop polling the clock ends.
TICK = 1e-6


def enable_opcode_events() -> None:
    """Make `sys.settrace` able to deliver opcode events on every CPython version.

    Since 3.12 `sys.settrace` is built on `sys.monitoring`, and on 3.12 it subscribes to
    instruction events only if some frame has already set ``f_trace_opcodes`` in this
    interpreter (the flag is interpreter-wide and never lowered). Raising it once on a
    frame of ours, before the first `settrace`, keeps a student function's first call in a
    fresh process from running without switch points. Harmless on 3.11 and 3.13+.
    """
    frame = sys._getframe()
    frame.f_trace_opcodes = True
    frame.f_trace_opcodes = False


def is_student_code(code: Any, files: frozenset[str]) -> bool:
    """The student's file, or code the student compiled or built at run time under any
    name (registered by the audit hook, grader/guard.py): both get switch points."""
    return code.co_filename in files or id(code) in STUDENT_CODES


def opcode_tracer(files: frozenset[str], on_opcode: Callable[[FrameType], None] | None = None, *,
                  local: Callable | None = None) -> Callable:
    """A sys.settrace function calling `on_opcode` before every bytecode of `files`;
    frames of other files are not traced at all, so they run at full speed.

    Or, instead of `on_opcode`, the frames' own trace function `local` (called as
    `local(frame, event, arg)` for every event of a traced frame, returning itself): one
    Python call per bytecode instead of two, for a caller that does its own work inline
    (the Scheduler, whose per-bytecode cost is most of a controlled test's time)."""
    enable_opcode_events()

    if local is None:
        if on_opcode is None:
            raise TypeError("opcode_tracer needs on_opcode or local")
        hook = on_opcode

        def local(frame: FrameType, event: str, arg: Any) -> Callable:
            if event == "opcode":
                hook(frame)
            return local

    student_codes = STUDENT_CODES  # is_student_code, inline: this runs at every call of a traced thread

    def on_call(frame: FrameType, event: str, arg: Any) -> Callable | None:
        code = frame.f_code
        if event == "call" and (code.co_filename in files or id(code) in student_codes):
            # The order matters from 3.13 on: setting f_trace_opcodes turns the frame's
            # instruction events on only when f_trace is already set, and the tracer's
            # return value is stored after this call, too late for this very call.
            frame.f_trace = local
            frame.f_trace_lines = False
            frame.f_trace_opcodes = True
            return local
        return None

    return on_call


class OneCpu:
    """Keeps the threads of one controlled schedule on one CPU, the one already running it.

    Only one controlled thread runs at a time, so a second CPU adds nothing but cost: each
    hand-over wakes the next thread on the other CPU while the one handing over still
    holds the GIL, so the woken thread sleeps again on the GIL before it can run. On one
    CPU the next thread runs once the previous one parks. Measured on readers_writers'
    hidden tests: about a third less CPU time and wall time. Which thread runs, and when,
    is the strategy's decision alone (seeded), so the schedules are the same.

    The pin is set by the thread that runs the schedule (the controlled threads it starts,
    and theirs, inherit it: Linux gives a new thread its creator's CPU mask) and undone as
    the schedule ends; a process forked meanwhile gets the mask back. Between schedules
    the thread is free, so the kernel may move it, and the next schedule pins it to
    wherever it then runs: two test processes graded at once are not both held on one
    CPU for long. The student's code does not see the pin: while one is set,
    `os.sched_getaffinity` and `os.process_cpu_count` (which size thread and process
    pools by default from Python 3.13 on) answer as they would without it (`_unpinned`).
    Where the system does not allow it (not Linux, a refused mask), nothing is pinned."""

    free: set[int] | None = None  # the mask before the pins, while at least one is set
    active = 0
    _getcpu: Any = None
    _lock = _thread.allocate_lock()

    def __init__(self) -> None:
        self.pinned: set[int] | None = None

    @classmethod
    def _current_cpu(cls) -> int:
        if cls._getcpu is None:
            cls._getcpu = ctypes.CDLL(None, use_errno=True).sched_getcpu
        cpu = int(cls._getcpu())
        if cpu < 0:
            raise OSError(ctypes.get_errno(), "sched_getcpu failed")
        return cpu

    def pin(self) -> None:
        if _real_getaffinity is None:
            return
        try:
            allowed = _real_getaffinity(0)
            if len(allowed) < 2:
                return
            cpu = self._current_cpu()
            if cpu not in allowed:
                return
            with OneCpu._lock:
                OneCpu.free = OneCpu.free or set(allowed)
                OneCpu.active += 1
            self.pinned = allowed
            os.sched_setaffinity(0, {cpu})
        except (OSError, AttributeError, ValueError):
            if self.pinned is not None:
                self.unpin()

    def unpin(self) -> None:
        if self.pinned is None:
            return
        _set_mask(self.pinned)
        self.pinned = None
        with OneCpu._lock:
            OneCpu.active -= 1
            if not OneCpu.active:
                OneCpu.free = None


def _set_mask(mask: set[int]) -> None:
    try:
        os.sched_setaffinity(0, mask)
    except OSError:
        pass


_real_getaffinity = getattr(os, "sched_getaffinity", None)
_real_process_cpu_count = getattr(os, "process_cpu_count", None)


def _unpinned(pid: int) -> set[int] | None:
    """The mask the thread or process PID would have without a schedule's pin, when one
    is set and PID is this thread or process; else None (the kernel's answer stands)."""
    free = OneCpu.free
    if free is None or pid not in (0, os.getpid()):
        return None
    return set(free)


def _sched_getaffinity(pid: int) -> set[int]:
    assert _real_getaffinity is not None
    mask = _real_getaffinity(pid)
    free = _unpinned(pid)
    return free if free is not None and len(mask) == 1 and mask <= free else mask


def _process_cpu_count() -> int | None:
    assert _real_process_cpu_count is not None
    free = _unpinned(0)
    return len(free) if free is not None else _real_process_cpu_count()


if _real_getaffinity is not None and hasattr(os, "register_at_fork"):
    # Installed when the engine is imported, before any student code (the plugin imports
    # it in pytest_configure): code that took the function early sees the same answer.
    os.sched_getaffinity = _sched_getaffinity
    if _real_process_cpu_count is not None:
        setattr(os, "process_cpu_count", _process_cpu_count)  # from 3.13 on
    os.register_at_fork(after_in_child=lambda: _free_after_fork())


def _free_after_fork() -> None:
    """A child forked during a pinned schedule starts free, as it would have without it."""
    free = OneCpu.free
    OneCpu.free, OneCpu.active, OneCpu._lock = None, 0, _thread.allocate_lock()
    if free is not None:
        _set_mask(free)


def _site_of(lock: Any) -> tuple[str, int]:
    """Where a lock was created: the same for its copies in every schedule."""
    site = getattr(lock, "_site", None)
    return (site[0], site[1]) if site else ("?", id(lock))


@dataclass(frozen=True)
class Explainer:
    """What the scheduler needs of whoever puts a failure in the student's words: handed
    to it by whoever builds it (explore.py passes explain.EXPLAINER), so the scheduler
    imports no explanation and the arrow goes one way, explain.py -> runtime.py."""

    site: Callable[[Scheduler, FrameType | None], str]  # where the student's code is
    lock_cycle: Callable[[Scheduler, tuple[Any, ...]], str]  # a lock-order cycle in words
    deadlock: Callable[[Scheduler, list[Task]], ScheduleFailure]
    exception: Callable[[Scheduler, Task, BaseException], ScheduleFailure]
    livelock: Callable[[Scheduler, Task], ScheduleFailure]  # out of steps
    stuck: Callable[[Scheduler, float], ScheduleFailure]  # no progress for that long


class Scheduler:
    """Runs one schedule of a scenario: its threads, one at a time, under one seed."""

    def __init__(self, seed: int, *, files: frozenset[str], explainer: Explainer,
                 strategy: str = "mixed", max_steps: int = 200_000,
                 trace_len: int = 6000) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.files = files
        self.explainer = explainer
        self.strategy = make_strategy(strategy, self.seed, self.rng)
        self.max_steps = max_steps
        self.tasks: list[Task] = []
        self.current: Task | None = None
        self.root: Task | None = None
        self.clock = 0.0
        self.steps = 0
        self.over = False  # once set, every controlled thread unwinds with Abort
        self.failure: ScheduleFailure | None = None
        self.trace: deque[tuple] = deque(maxlen=trace_len)
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.thread_names = 0
        # lock-order graph: (lock a, lock b) -> (thread name, where, ids of the other locks
        # held then) for "b taken holding a"
        self.lock_order: dict[tuple[Any, Any], tuple[str, str, frozenset[int]]] = {}
        self.max_holders = 0
        self.describe_inversions = True  # off in the exploration's replays of a failure
        self.names: dict[int, str] = {}  # id(lock) -> its name, found once per schedule
        self.beat = 0  # grows while the schedule makes progress (the watchdog reads it)
        self.explaining = False  # set while a failure is being described
        self.leftover: list[str] = []  # threads still blocked when the scenario ended
        self.annotations: dict[int, str] = {}  # id(lock) -> label given by the test
        # Creation sites of locks released by a thread that did not take them: such a lock
        # is a signal between threads (a semaphore), and lock-order rules do not apply.
        self.handoff_sites: set[tuple[str, int]] = set()
        # Lock-order cycles found, as (creation sites of their locks, description).
        self.cycles: list[LockCycle] = []
        # Which threads took a lock created at one site while holding one from another.
        self.edge_threads: dict[tuple[tuple[str, int], tuple[str, int]], set[str]] = {}
        self.described_cycles: set[frozenset] = set()  # site sets already described
        self.progress_count = 0  # threads finished and units of work the test reported
        self._keep: list[Any] = []  # objects named in annotations, kept alive for their ids

    # ---- threads ---------------------------------------------------------------

    def next_thread_name(self) -> str:
        self.thread_names += 1
        return f"Thread-{self.thread_names}"

    def spawn(self, fn: Callable[[], Any], name: str, shim_thread: Any = None) -> Task:
        if self.over:
            raise Abort()
        task = Task(self, len(self.tasks), name, fn)
        task.shim_thread = shim_thread
        self.tasks.append(task)
        self.strategy.on_spawn(task)
        real = _real_threading.Thread(target=self._bootstrap, args=(task,), name=f"controlled-{name}",
                                      daemon=True)
        task.thread = real
        real.start()
        return task

    def _bootstrap(self, task: Task) -> None:
        task.ident = _thread.get_ident()
        RUNNING[task.ident] = task
        task.baton.acquire()  # park until first scheduled
        try:
            if self.over:
                return
            try:
                tracing.install(self._global_tracer(task))
            except tracing.TracerUnavailable as exc:
                # Not the student's doing: this schedule cannot be controlled, so the test
                # falls back to real threads, as for a primitive the engine cannot switch.
                self.fail(ScheduleFailure("error", str(exc), {
                    "uncontrolled": True, "stuck_at": f"the start of {task.name}",
                    "fallback_reason": f"could not install its tracer in {task.name} ({exc})"}))
                return
            task.fn()
        except Abort:
            pass
        except ScenarioFailed:
            pass  # the failure is already recorded
        except BaseException as exc:  # noqa: B036 - a student thread may raise anything
            # Once the schedule is over, threads unwind with Abort, and what they raise on
            # the way out (a `with` releasing a lock it could not take back) is not theirs.
            if not self.over:
                self.fail_with_exception(task, exc)
        finally:
            tracing.remove()
            RUNNING.pop(task.ident, None)
            self._finish(task)

    def _finish(self, task: Task) -> None:
        task.state = "done"
        if self.over:
            return
        self.progress(task, "finished")
        for other in self.tasks:
            if other.state == "blocked" and other.blocker is task:
                self._make_runnable(other)
        nxt = self._pick(task)
        if nxt is None:
            self._end_or_deadlock(task)
            return
        self.current = nxt
        nxt.baton.release()

    # ---- tracing: a scheduling point before every bytecode of the student's files -

    def _global_tracer(self, task: Task) -> Callable:
        return opcode_tracer(self.files, local=self._opcode_hook(task))

    def _opcode_hook(self, task: Task) -> Callable:
        """TASK's per-frame trace function: a scheduling point before every bytecode.

        It runs for every bytecode of the student's code, so it does its work inline, with
        what never changes during a schedule (the strategy's decision, the trace's append,
        the step limit) looked up once, here; what does change (over, steps, beat, clock,
        task.steps) is read and written on the objects, in the same order as ever, so the
        same seed gives the same schedule."""
        sched = self
        switch_at_step = self.strategy.switch_at_step
        append = self.trace.append
        max_steps = self.max_steps
        tid = task.tid

        def local(frame: FrameType, event: str, arg: Any) -> Callable:
            if event == "opcode":
                if sched.over:
                    raise Abort()
                sched.steps = steps = sched.steps + 1
                sched.beat += 1
                task.steps += 1
                sched.clock += TICK
                if steps > max_steps:
                    sched.fail_livelock(task)
                    raise Abort()
                if switch_at_step(steps):
                    sched.yield_turn(task)
                # Recorded once the thread has the turn back: the instruction runs now, after
                # any switch, so a write-back lands in the trace after the other thread's writes.
                append((tid, frame.f_code, frame.f_lasti, frame.f_lineno))
            return local

        return local

    # ---- scheduling points of primitives ------------------------------------------

    def sync_point(self, task: Task, what: str, obj: Any = None) -> None:
        """Called by a primitive before it acts: the turn may go to another thread."""
        if self.over:
            raise Abort()
        self.beat += 1
        self.clock += TICK
        self._wake_expired()
        self.trace.append((task.tid, "sync", what, obj))
        if self.strategy.switch_at_sync(what):
            self.yield_turn(task)

    def before(self, task: Task, what: str, obj: Any = None) -> None:
        """Called by a primitive before an operation whose scheduling point comes after
        it (a release): the strategy may end the turn here (lockstep does)."""
        if self.over:
            raise Abort()
        if self.strategy.switch_before(what):
            self.yield_turn(task)

    def note(self, task: Task, what: str, obj: Any = None) -> None:
        """Record what a primitive did (a try-lock found the lock busy) in the trace."""
        self.trace.append((task.tid, "sync", what, obj))

    def progress(self, task: Task, what: str = "progress") -> None:
        """A unit of work done (a thread finished, or the test said so): the livelock
        rule looks for threads busy with locks and no progress."""
        self.progress_count += 1
        self.trace.append((task.tid, "progress", what, None))

    def student_frame(self, frame: FrameType | None) -> FrameType | None:
        """The innermost frame of the student's files from `frame` outwards."""
        while frame is not None and not is_student_file(frame.f_code.co_filename, self.files):
            frame = frame.f_back
        return frame

    def block(self, task: Task, blocker: Any, deadline: float | None) -> bool:
        """Park `task` until `wake(blocker)` or the virtual deadline; False on timeout."""
        if self.over:
            raise Abort()
        task.state = "blocked"
        task.blocker = blocker
        task.deadline = deadline
        task.timed_out = False
        task.waits += 1
        self.trace.append((task.tid, "sync", "blocks on", blocker))
        nxt = self._pick(task)
        if nxt is None:
            self._end_or_deadlock(task)
            raise Abort()  # the schedule is over
        if nxt is not task:
            self._hand_over(task, nxt)
        return not task.timed_out

    def wake(self, blocker: Any, count: int | None = None) -> int:
        """Make the threads blocked on `blocker` runnable (at most `count` of them)."""
        woken = 0
        for task in self.tasks:
            if task.state == "blocked" and task.blocker is blocker:
                self._make_runnable(task)
                woken += 1
                if count is not None and woken >= count:
                    break
        return woken

    def now(self) -> float:
        return self.clock

    # ---- locks held: the lock-order graph (lockdep) and concurrency figures ----------

    def on_acquire(self, task: Task, lock: Any, ordering: bool = True) -> None:
        """`task` took `lock`: record "lock after each held lock" in the lock-order graph
        and report a cycle there (a potential deadlock) as soon as one closes."""
        if ordering:
            for held in task.held:
                if held is not lock:
                    edge = (_site_of(held), _site_of(lock))
                    self.edge_threads.setdefault(edge, set()).add(task.name)
                if held is not lock and (held, lock) not in self.lock_order:
                    where = self.explainer.site(self, sys._getframe())
                    # Other locks held at the same time: a gate lock common to every
                    # edge of a cycle keeps it from ever closing.
                    gates = frozenset(id(h) for h in task.held if h is not held)
                    self.lock_order[(held, lock)] = (task.name, where, gates)
                    path = self._lock_path(lock, held)
                    if path is None or not self.describe_inversions:
                        continue
                    ring = (held, *path[:-1])
                    sites = frozenset(_site_of(x) for x in ring)
                    if sites in self.described_cycles or self._gated(ring):
                        continue
                    self.described_cycles.add(sites)
                    edges = tuple((_site_of(x), _site_of(ring[(i + 1) % len(ring)]))
                                  for i, x in enumerate(ring))
                    # Named while alive. A tuple: a list holding the locks would be a
                    # candidate name for them ("lock [0] of a list") while they are named.
                    self.cycles.append(LockCycle(sites, edges, self.explainer.lock_cycle(self, ring)))
        task.held.append(lock)
        holders = sum(1 for t in self.tasks if t.held)
        if holders > self.max_holders:
            self.max_holders = holders

    def _lock_path(self, start: Any, goal: Any) -> tuple[Any, ...] | None:
        """Locks start .. goal following lock-order edges, if goal is reachable."""
        successors: dict[int, list[Any]] = {}
        for a, b in self.lock_order:
            successors.setdefault(id(a), []).append(b)
        stack, seen = [[start]], {id(start)}
        while stack:
            path = stack.pop()
            if path[-1] is goal:
                return tuple(path)
            for nxt in successors.get(id(path[-1]), ()):
                if id(nxt) not in seen:
                    seen.add(id(nxt))
                    stack.append([*path, nxt])
        return None

    def _gated(self, ring: tuple[Any, ...]) -> bool:
        """Every edge of the cycle taken while holding one same other lock: the gate lets
        one thread at a time into the cycle, so it cannot close."""
        common: frozenset | None = None
        for i, lock in enumerate(ring):
            gates = self.lock_order[(lock, ring[(i + 1) % len(ring)])][2]
            common = gates if common is None else common & gates
        return bool(common)


    def on_release(self, owner: Task, lock: Any, releaser: Task | None = None) -> None:
        if releaser is not None and releaser is not owner:
            self.handoff_sites.add(_site_of(lock))
        for i in range(len(owner.held) - 1, -1, -1):
            if owner.held[i] is lock:
                del owner.held[i]
                return

    # ---- the hand-over ----------------------------------------------------------

    def yield_turn(self, task: Task) -> None:
        """A scheduling point: the strategy may give the turn to another runnable thread."""
        runnable = [t for t in self.tasks if t.state == "runnable"]
        if len(runnable) < 2:
            return
        nxt = self.strategy.choose(runnable, task)
        if nxt is not task:
            self._hand_over(task, nxt)

    def _hand_over(self, task: Task, nxt: Task) -> None:
        self.current = nxt
        self.strategy.on_run(nxt)
        self.trace.append((nxt.tid, "switch", None, None))
        nxt.baton.release()
        self._park(task)

    def _park(self, task: Task) -> None:
        task.baton.acquire()
        if self.over:
            raise Abort()

    def _make_runnable(self, task: Task, timed_out: bool = False) -> None:
        task.state = "runnable"
        task.blocker = None
        task.deadline = None
        task.timed_out = timed_out

    def _wake_expired(self) -> None:
        for task in self.tasks:
            if task.state == "blocked" and task.deadline is not None and task.deadline <= self.clock:
                self._make_runnable(task, timed_out=True)

    def _pick(self, current: Task) -> Task | None:
        """The next thread to run after `current` blocked or ended; advances virtual
        time to the earliest timeout when every live thread waits."""
        self._wake_expired()
        runnable = [t for t in self.tasks if t.state == "runnable"]
        if not runnable:
            timed = [t for t in self.tasks if t.state == "blocked" and t.deadline is not None]
            if not timed:
                return None
            self.clock = max(self.clock, min(t.deadline for t in timed if t.deadline is not None))
            self._wake_expired()
            runnable = [t for t in self.tasks if t.state == "runnable"]
        choice = self.strategy.choose(runnable, current if current.state == "runnable" else None)
        self.strategy.on_run(choice)
        return choice

    # ---- how a schedule ends ----------------------------------------------------

    def _end_or_deadlock(self, task: Task) -> None:
        """No thread can run. While the scenario's own thread waits, that is a deadlock.
        Once it has returned, threads still waiting are left over (an idle pool worker is
        fine), unless they wait for each other's locks: that is a deadlock too."""
        blocked = [t for t in self.tasks if t.state == "blocked"]
        if blocked and self.failure is None:
            self.explaining = True
            failure = self.explainer.deadlock(self, blocked)
            if self.root is not None and self.root.state != "done" or failure.details.get("cyclic"):
                self.failure = failure
        self.leftover = [t.name for t in blocked]
        self.end()

    def end(self) -> None:
        """Over: wake every parked thread so that it unwinds, and tell the runner."""
        if self.over:
            return
        self.over = True
        for task in self.tasks:
            if task.state != "done" and task.ident != _thread.get_ident():
                try:
                    task.baton.release()
                except RuntimeError:
                    pass  # it was not parked
        self.done.release()

    def fail(self, failure: ScheduleFailure) -> None:
        if self.failure is None:
            self.failure = failure
        self.end()

    def fail_with_exception(self, task: Task, exc: BaseException) -> None:
        self.explaining = True
        self.fail(self.explainer.exception(self, task, exc))

    def fail_livelock(self, task: Task) -> None:
        self.explaining = True
        self.fail(self.explainer.livelock(self, task))

    # ---- running a schedule -----------------------------------------------------

    def run(self, fn: Callable[[], Any], wall_timeout: float) -> ScheduleFailure | None:
        """Run `fn` as the root thread of this schedule, from an ordinary thread."""
        one_cpu = OneCpu()
        one_cpu.pin()  # before the root thread starts: every controlled thread inherits it
        try:
            return self._run(fn, wall_timeout)
        finally:
            one_cpu.unpin()

    def _run(self, fn: Callable[[], Any], wall_timeout: float) -> ScheduleFailure | None:
        self.root = self.spawn(fn, "MainThread")
        self.current = self.root
        self.strategy.on_run(self.root)
        self.root.baton.release()
        # Stuck means no progress for `wall_timeout`, not a slow schedule: on a loaded
        # machine, explaining a deadlock may take a while and must not become a timeout.
        last_beat, quiet = -1, 0.0
        while not self.done.acquire(timeout=0.25):
            if self.beat != last_beat or self.explaining:
                last_beat, quiet = self.beat, 0.0
                continue
            quiet += 0.25
            if quiet >= wall_timeout:
                if self.failure is None:
                    self.failure = self.explainer.stuck(self, wall_timeout)
                self.end()
                break
        for task in self.tasks:
            if task.thread is not None:
                task.thread.join(timeout=1.0)
        return self.failure
