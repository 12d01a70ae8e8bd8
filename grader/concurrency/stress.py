"""The fallback for code the controlled scheduler cannot drive: real threads, pushed.

Some submissions block in places no shim reaches (a real socket, a C extension, a
`ProcessPoolExecutor` feeding threads). For them a test can `Engine.stress` a scenario:
the threads are real and run in parallel with the GIL's own switching, but

- the switch interval drops to a microsecond, and
- a tracer on the student's files yields the GIL (``time.sleep(0)``) before randomly
  chosen bytecodes, seeded, so a switch can fall inside ``self.value += n``;
- a hang is bounded by a timeout and reported with every thread's stack.

It is weaker than the controlled scheduler (no deadlock cycle, no exact replay: the OS
decides the rest of the interleaving), so hidden tests prefer `explore`; a verdict from
here says "found under stress", with the seed that found it.
"""
from __future__ import annotations

import random
import sys
import threading
import time
import traceback
from types import FrameType
from typing import Any, Callable

from grader.concurrency import tracing
from grader.concurrency.runtime import opcode_tracer
from grader.concurrency.tasks import ScheduleFailure


class _StressFailed(Exception):
    pass


class UnsoundRun(Exception):
    """A run that judged nothing: one of its threads could not get the engine's tracer
    (see tracing.py), so it never ran its part of the scenario."""


class ThreadHelpers:
    """Starting and joining a scenario's threads, over a `spawn` of the subclass."""

    _threads: list[Any]

    def spawn(self, fn: Callable[..., Any], *args: Any, name: str | None = None) -> Any:
        raise NotImplementedError

    def join(self, thread: Any) -> None:
        thread.join()

    def join_all(self) -> None:
        for thread in self._threads:
            thread.join()

    def threads(self, fn: Callable[..., Any], count: int, *args: Any) -> list[Any]:
        """Start `count` threads running fn(*args) and wait for all of them."""
        started = [self.spawn(fn, *args) for _ in range(count)]
        for thread in started:
            thread.join()
        return started


class StressRun(ThreadHelpers):
    """The `Run` interface on real threads (see explore.Run for each method)."""

    def __init__(self, files: frozenset[str], seed: int, p_yield: float) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self._files = files
        self._p_yield = p_yield
        self._threads: list[threading.Thread] = []
        self.failure: ScheduleFailure | None = None
        self._names = 0
        self._steps: dict[str, int] = {}  # bytecodes of the student's files, per thread
        # Why this run judged nothing, if a thread could not get the engine's tracer.
        self.unsound: str | None = None

    def _tracer(self) -> Callable:
        """A forced switch before randomly chosen bytecodes of the student's files."""
        rng, p = self._rng, self._p_yield
        steps = self._steps
        name = threading.current_thread().name

        def maybe_yield(frame: FrameType) -> None:
            steps[name] = steps.get(name, 0) + 1
            if rng.random() < p:
                time.sleep(0)

        return opcode_tracer(self._files, maybe_yield)

    def _body(self, fn: Callable[..., Any], args: tuple) -> None:
        try:
            tracing.install(self._tracer())
        except tracing.TracerUnavailable as exc:
            # This thread cannot run the student's code as the run needs: the run judges
            # nothing (its threads' work would look lost), and the engine runs another.
            self.unsound = f"{threading.current_thread().name}: {exc}"
            return
        try:
            fn(*args)
        except _StressFailed:
            pass
        except BaseException as exc:  # noqa: B036 - student code may raise anything
            if self.failure is None:
                name = threading.current_thread().name
                self.failure = ScheduleFailure("error", f"{name} raised {type(exc).__name__}: {exc}")
        finally:
            tracing.remove()

    def spawn(self, fn: Callable[..., Any], *args: Any, name: str | None = None) -> threading.Thread:
        self._names += 1
        thread = threading.Thread(target=self._body, args=(fn, args), daemon=True,
                                  name=name or f"Thread-{self._names}")
        self._threads.append(thread)
        thread.start()
        return thread

    def check(self, condition: object, message: str, verdict: str = "wrong", **details: Any) -> None:
        if not condition:
            if self.failure is None:
                self.failure = ScheduleFailure(verdict, message, details)
            raise _StressFailed()

    def label(self, lock: Any, text: str) -> None:
        pass  # real locks carry no names here

    def point(self) -> None:
        time.sleep(0)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def now(self) -> float:
        return time.monotonic()

    def alive(self) -> list[str]:
        return [t.name for t in self._threads if t.is_alive()]

    def progress(self, what: str = "progress") -> None:
        pass  # a hang ends at the timeout here

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        """Per thread: bytecodes run. Real locks do not say how often a thread waited or
        was overtaken, so those count 0 here: a test reading them cannot fail on figures
        this engine does not have."""
        names = [t.name for t in self._threads] + list(self._steps)
        return {name: {"steps": self._steps.get(name, 0), "waits": 0, "overtaken": 0}
                for name in dict.fromkeys(names)}

    def stacks(self) -> dict[str, str]:
        frames = sys._current_frames()
        return {t.name: "".join(traceback.format_stack(frames[t.ident])[-5:])
                for t in self._threads if t.ident in frames}


def stress_once(scenario: Callable[[StressRun], Any], files: frozenset[str], seed: int,
                timeout: float, p_yield: float) -> ScheduleFailure | None:
    run = StressRun(files, seed, p_yield)
    root = threading.Thread(target=run._body, args=(scenario, (run,)), daemon=True,
                            name="MainThread (stress)")
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        root.start()
        root.join(timeout)
    finally:
        sys.setswitchinterval(previous)
    if run.unsound is not None:
        # Checked before the verdicts: a thread that never ran makes counts look lost and
        # partners wait for it forever, neither of them the student's doing.
        raise UnsoundRun(run.unsound)
    if root.is_alive():
        alive = ", ".join(run.alive()) or "the test's thread"
        return ScheduleFailure(
            "timeout", f"the threads did not finish within {timeout:g} s under stress "
                       f"(still running: {alive}): a deadlock or a thread waiting forever",
            {"stacks": run.stacks()})
    return run.failure
