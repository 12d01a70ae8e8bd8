"""Exploring schedules: what hidden tests call.

A hidden test writes a *scenario*, a function of a `Run`, which starts threads on the
student's code and checks an invariant. `Engine.explore` runs it under a fixed list of
seeds, one controlled schedule each, and collects every failing schedule with its
explanation. The list of seeds is derived from the test's name, so regrading the same
submission gives the same verdict; `GRADER_REPLAY_SEED` runs a single seed again.
"""
from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

from grader.concurrency import primitives as p
from grader.concurrency.runtime import Scheduler, ScenarioFailed, ScheduleFailure, current_task
from grader.concurrency.shim import student_files
from grader.concurrency.stress import ThreadHelpers
from grader.testing import Failure

REPLAY_ENV = "GRADER_REPLAY_SEED"


class Run(ThreadHelpers):
    """What a scenario sees: starting and joining controlled threads, checking."""

    def __init__(self, sched: Scheduler) -> None:
        self._sched = sched
        self._threads: list[p.Thread] = []

    @property
    def seed(self) -> int:
        return self._sched.seed

    def spawn(self, fn: Callable[..., Any], *args: Any, name: str | None = None) -> p.Thread:
        thread = p.Thread(target=fn, args=args, name=name)
        thread.start()
        self._threads.append(thread)
        return thread

    def check(self, condition: object, message: str, verdict: str = "wrong", **details: Any) -> None:
        """Fail this schedule with `message` unless `condition` holds."""
        if condition:
            return
        from grader.concurrency.explain import interleaving

        self._sched.explaining = True
        self._sched.fail(ScheduleFailure(verdict, message, {**details, "trace": interleaving(self._sched)}))
        raise ScenarioFailed()

    def label(self, lock: Any, text: str) -> None:
        """Name a lock in messages: run.label(account.lock, 'the lock of account 1')."""
        self._sched.annotations[id(lock)] = text
        self._sched._keep.append(lock)

    def point(self) -> None:
        """A scheduling point in the test's own code: the turn may go to another thread."""
        task = current_task()
        if task is not None:
            task.sched.sync_point(task, "point")

    def now(self) -> float:
        """Virtual time, in seconds since the schedule started."""
        return self._sched.clock

    def sleep(self, seconds: float) -> None:
        """Block the calling controlled thread for `seconds` of virtual time: a stand-in
        for blocking I/O in the test's own code (a fake `fetch`), costing no real time."""
        p.sleep(seconds)

    def alive(self) -> list[str]:
        """Names of the controlled threads started in this schedule and not finished,
        apart from the scenario's own."""
        return [t.name for t in self._sched.tasks if t.state != "done" and t is not self._sched.root]

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        """Per thread: steps run, times it blocked, times another took its lock first."""
        return {t.name: {"steps": t.steps, "waits": t.waits, "overtaken": t.overtaken}
                for t in self._sched.tasks}


@dataclass
class FailedSchedule:
    seed: int
    verdict: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Exploration:
    """The outcome of exploring one scenario over many schedules."""

    test: str
    failures: list[FailedSchedule] = field(default_factory=list)
    schedules: int = 0
    seconds: float = 0.0
    steps: int = 0
    max_lock_holders: int = 0
    lock_order_cycles: list[str] = field(default_factory=list)
    leftover_threads: list[str] = field(default_factory=list)
    cut_short: bool = False  # the seconds budget ended before the list of seeds
    stressed: bool = False  # real threads under forced preemption, not controlled schedules

    @property
    def ok(self) -> bool:
        return not self.failures

    def figures(self) -> dict[str, Any]:
        return {"schedules": self.schedules, "seconds": round(self.seconds, 3),
                "ms_per_schedule": round(1000 * self.seconds / max(1, self.schedules), 2)}

    def assert_ok(self) -> None:
        """Raise a Failure for the first failing schedule, with its explanation."""
        if not self.failures:
            return
        first = self.failures[0]
        details = dict(first.details)
        details["seed"] = first.seed
        details.setdefault("replay", f"python -m grader replay <your folder> <exercise> {self.test} --seed {first.seed}")
        details["schedules"] = f"{len(self.failures)} of {self.schedules} schedules failed"
        if self.cut_short:
            details["budget"] = "the time budget ended before every planned schedule ran"
        raise Failure(first.message, first.verdict, **details)


class Engine:
    """Explores scenarios for one hidden test, with its seeds and budget."""

    def __init__(self, test: str, *, schedules: int = 200, seconds: float = 2.0,
                 strategy: str = "mixed", max_steps: int = 200_000, schedule_timeout: float = 5.0,
                 exercise: str = "<exercise>") -> None:
        self.test = test
        self.exercise = exercise
        self.schedules = schedules
        self.seconds = seconds
        self.strategy = strategy
        self.max_steps = max_steps
        self.schedule_timeout = schedule_timeout
        self.explorations: list[Exploration] = []  # every explore/stress call, in order

    @classmethod
    def for_test(cls, test: str, exercise: Any) -> "Engine":
        return cls(test, schedules=exercise.schedules, seconds=exercise.schedule_seconds,
                   exercise=exercise.id)

    def seeds(self, count: int) -> list[int]:
        replay = os.environ.get(REPLAY_ENV)
        if replay:
            return [int(replay)]
        base = (zlib.crc32(self.test.encode()) % 10_000) * 1_000
        return [base + i for i in range(count)]

    def explore(self, scenario: Callable[[Run], Any], *, schedules: int | None = None,
                seconds: float | None = None, stop_at_first: bool = True,
                max_steps: int | None = None) -> Exploration:
        result = Exploration(self.test)
        files = student_files()
        budget = seconds if seconds is not None else self.seconds
        start = time.perf_counter()
        for seed in self.seeds(schedules if schedules is not None else self.schedules):
            if time.perf_counter() - start > budget and result.schedules:
                result.cut_short = True
                break
            sched = Scheduler(seed, files=files, strategy=self.strategy,
                              max_steps=max_steps or self.max_steps)
            sched.describe_inversions = not result.lock_order_cycles
            run = Run(sched)
            failure = sched.run(lambda: scenario(run), self.schedule_timeout)
            result.schedules += 1
            result.steps += sched.steps
            result.max_lock_holders = max(result.max_lock_holders, sched.max_holders)
            if not result.lock_order_cycles:
                result.lock_order_cycles = list(sched.inversions)
            if sched.leftover and not result.leftover_threads:
                result.leftover_threads = list(sched.leftover)
            if failure is not None:
                failure.details["found_at_schedule"] = result.schedules
                result.failures.append(FailedSchedule(seed, failure.verdict, failure.message, failure.details))
                if stop_at_first:
                    break
        result.seconds = time.perf_counter() - start
        self._replay_commands(result)
        self.explorations.append(result)
        return result

    def stress(self, scenario: Callable[[Any], Any], *, runs: int = 20, timeout: float = 5.0,
               p_yield: float = 0.05, stop_at_first: bool = True) -> Exploration:
        """The fallback for code the scheduler cannot control: the scenario on real
        threads with forced preemption (see stress.py). Same seeds, weaker guarantees."""
        from grader.concurrency.stress import stress_once

        result = Exploration(self.test)
        files = student_files()
        start = time.perf_counter()
        for seed in self.seeds(runs):
            failure = stress_once(scenario, files, seed, timeout, p_yield)
            result.schedules += 1
            if failure is not None:
                failure.details["found_at_schedule"] = result.schedules
                failure.details["mode"] = "real threads under stress (not a controlled schedule)"
                result.failures.append(FailedSchedule(seed, failure.verdict, failure.message, failure.details))
                if stop_at_first or failure.verdict == "timeout":
                    break  # a hung run leaves threads behind: do not pile up more
        result.seconds = time.perf_counter() - start
        result.stressed = True
        self.explorations.append(result)
        return result

    def summary(self) -> tuple[str, dict[str, Any]] | None:
        """For a test that passed: what was explored (a note and figures for the report),
        and the first lock-order inversion seen, a hint (ordering locks one way everywhere
        cannot deadlock; taking them in both orders can, even if no run here did)."""
        if not self.explorations:
            return None
        schedules = sum(e.schedules for e in self.explorations)
        cycles = [c for e in self.explorations for c in e.lock_order_cycles]
        if schedules == 1 and not cycles and not os.environ.get(REPLAY_ENV):
            return None  # one schedule of one thread: nothing worth telling
        seconds = sum(e.seconds for e in self.explorations)
        stressed = any(e.stressed for e in self.explorations)
        one = schedules == 1
        kind = (f"run{'' if one else 's'} on real threads under forced preemption" if stressed
                else f"interleaving{'' if one else 's'} (schedule{'' if one else 's'}) of your threads")
        note = f"no failure in {schedules:,} {kind}"
        details: dict[str, Any] = {"figures": {
            "schedules": schedules, "seconds": round(seconds, 3),
            "ms per schedule": round(1000 * seconds / max(1, schedules), 2),
            "steps (bytecodes and lock operations)": sum(e.steps for e in self.explorations)}}
        if any(e.cut_short for e in self.explorations):
            details["figures"]["budget"] = "the time budget ended before every planned schedule ran"
        if cycles:
            note += "; but locks were taken in opposite orders, which can deadlock (see below)"
            details["potential deadlock (a hint, not graded here)"] = cycles[0]
        return note, details

    def _replay_commands(self, result: Exploration) -> None:
        for failed in result.failures:
            failed.details["replay"] = (f"python -m grader replay <your folder> {self.exercise} "
                                        f"{self.test} --seed {failed.seed}")
