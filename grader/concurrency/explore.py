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

from grader.catalog import DEFAULT
from grader.channel import REPLAY_SEED
from grader.concurrency import primitives as p
from grader.concurrency.explain import EXPLAINER, interleaving
from grader.concurrency.runtime import Scheduler
from grader.concurrency.tasks import LockCycle, ScenarioFailed, ScheduleFailure, current_task
from grader.concurrency.shim import student_files
from grader.concurrency.stress import ThreadHelpers, UnsoundRun, stress_once
from grader.concurrency.tracing import TracerUnavailable
from grader.model import ENGINE, ENGINE_REASON, SEED, TRACE
from grader.testing import Failure

# The lockstep schedule is added to every exploration of two schedules or more, second
# in line (a livelock is found early), on a seed of its own (negative: no random
# schedule has one): every random schedule of the list still runs, in the same order, so
# no bug they find can be lost to it.
LOCKSTEP_SCHEDULE = 1
# Runs on real threads when a test falls back to the stress engine.
STRESS_RUNS = 20


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
        self._sched.explaining = True
        self._sched.fail(ScheduleFailure(verdict, message, {**details, TRACE: interleaving(self._sched)}))
        raise ScenarioFailed()

    def label(self, lock: Any, text: str) -> None:
        """Name a lock in messages: run.label(account.lock, 'the lock of account 1')."""
        self._sched.annotations[id(lock)] = text
        self._sched._keep.append(lock)

    def progress(self, what: str = "progress") -> None:
        """The test saw a unit of work done (a meal eaten, an item consumed): threads that
        keep taking and releasing locks with no progress are livelocked."""
        task = current_task()
        if task is not None:
            task.sched.progress(task, what)

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
    # Lock-order cycles seen, each with the creation sites of its locks, and the sites of
    # locks some thread released without having taken them (signals, not locks).
    cycles: list[LockCycle] = field(default_factory=list)
    handoff_sites: set[tuple[str, int]] = field(default_factory=set)
    edge_threads: dict[tuple, set[str]] = field(default_factory=dict)
    leftover_threads: list[str] = field(default_factory=list)
    cut_short: bool = False  # the seconds budget ended before the list of seeds
    # Which engine judged: "controlled" (the scheduler) or "stress" (real threads under
    # forced preemption), and why the fallback was taken when it was.
    engine: str = "controlled"
    engine_reason: str = ""
    # Runs under stress that judged nothing and were replaced (tracing.py says why).
    unsound_runs: list[str] = field(default_factory=list)

    @property
    def stressed(self) -> bool:
        return self.engine == "stress"

    @property
    def lock_order_cycles(self) -> list[str]:
        """Locks taken in a cycle of orders that can deadlock: not through a lock used as
        a signal between threads, not taken under a common gate lock."""
        return [c.text for c in self.cycles if c.can_deadlock(self.handoff_sites, self.edge_threads)]

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
        # The schedule to run again; the grader (runner.score) turns it into the replay
        # command, naming the folder and exercise only it knows.
        details[SEED] = first.seed
        details["schedules"] = f"{len(self.failures)} of {self.schedules} schedules failed"
        details[ENGINE] = self.engine
        if self.engine_reason:
            details[ENGINE_REASON] = self.engine_reason
        if self.cut_short:
            details["budget"] = "the time budget ended before every planned schedule ran"
        raise Failure(first.message, first.verdict, **details)


class Engine:
    """Explores scenarios for one hidden test, with its seeds and budget."""

    def __init__(self, test: str, *, schedules: int = DEFAULT["schedules.count"],
                 seconds: float = DEFAULT["schedules.seconds"], strategy: str = "mixed",
                 max_steps: int = 200_000, schedule_timeout: float = 5.0,
                 stress_timeout: float = 10.0) -> None:
        # The budget's defaults are the catalogue's (exercise.yaml's `schedules`), declared
        # once in catalog.FIELDS; a hidden test's engine takes its exercise's (`for_test`).
        self.test = test
        self.schedules = schedules
        self.seconds = seconds
        self.strategy = strategy
        self.max_steps = max_steps
        self.schedule_timeout = schedule_timeout
        # A run on real threads after a fallback: generous, since a loaded machine must
        # not turn a correct program's slow run into a failure.
        self.stress_timeout = stress_timeout
        self.explorations: list[Exploration] = []  # every explore/stress call, in order

    @classmethod
    def for_test(cls, test: str, exercise: Any) -> "Engine":
        return cls(test, schedules=exercise.schedules, seconds=exercise.schedule_seconds)

    def _base_seed(self) -> int:
        return (zlib.crc32(self.test.encode()) % 10_000) * 1_000

    def seeds(self, count: int) -> list[int]:
        replay = os.environ.get(REPLAY_SEED)
        if replay:
            return [int(replay)]
        base = self._base_seed()
        seeds = [base + i for i in range(count)]
        if self.strategy == "mixed" and count >= 2:
            seeds.insert(LOCKSTEP_SCHEDULE, self.lockstep_seed())
        return seeds

    def lockstep_seed(self) -> int:
        return -1 - self._base_seed()

    def strategy_for(self, seed: int) -> str:
        """The strategy of one schedule, from its seed alone (so a replay runs the same):
        the lockstep seed's schedule is lockstep, on which threads retrying in step show a
        livelock; the others are random walks and PCT, drawn from the seed."""
        if self.strategy == "mixed" and seed == self.lockstep_seed():
            return "lockstep"
        return self.strategy

    def explore(self, scenario: Callable[[Run], Any], *, schedules: int | None = None,
                seconds: float | None = None, stop_at_first: bool = True,
                max_steps: int | None = None) -> Exploration:
        result = Exploration(self.test)
        files = student_files()
        budget = seconds if seconds is not None else self.seconds
        planned = schedules if schedules is not None else self.schedules
        described: set[frozenset] = set()  # lock cycles described once per exploration
        start = time.perf_counter()
        for seed in self.seeds(planned):
            if time.perf_counter() - start > budget and result.schedules:
                result.cut_short = True
                break
            sched = Scheduler(seed, files=files, explainer=EXPLAINER, strategy=self.strategy_for(seed),
                              max_steps=max_steps or self.max_steps)
            sched.described_cycles = described
            run = Run(sched)
            failure = sched.run(lambda: scenario(run), self.schedule_timeout)
            if failure is not None and failure.details.get("uncontrolled"):
                # Not a verdict on the student's code: the engine met something it cannot
                # switch. Correct code must not lose points for that, so real threads
                # under stress judge this test instead.
                return self._fall_back(scenario, result, failure, planned, stop_at_first, start)
            result.schedules += 1
            result.steps += sched.steps
            result.max_lock_holders = max(result.max_lock_holders, sched.max_holders)
            result.cycles.extend(sched.cycles)
            result.handoff_sites |= sched.handoff_sites
            for edge, threads in sched.edge_threads.items():
                result.edge_threads.setdefault(edge, set()).update(threads)
            if sched.leftover and not result.leftover_threads:
                result.leftover_threads = list(sched.leftover)
            if failure is not None:
                failure.details["found_at_schedule"] = result.schedules
                failure.details["strategy"] = sched.strategy.name
                result.failures.append(FailedSchedule(seed, failure.verdict, failure.message, failure.details))
                if stop_at_first:
                    break
        result.seconds = time.perf_counter() - start
        self.explorations.append(result)
        return result

    def _fall_back(self, scenario: Callable[[Any], Any], explored: Exploration,
                   stuck: ScheduleFailure, planned: int, stop_at_first: bool,
                   start: float) -> Exploration:
        """The scenario again on real threads under forced preemption (`stress`), after a
        controlled schedule got stuck in code the scheduler does not control."""
        where = stuck.details.get("stuck_at", "?")
        why = stuck.details.get("fallback_reason") or (
            f"stopped at {where}, in code it cannot switch (a primitive it does not control, "
            f"I/O or a long C call)")
        reason = (f"schedule {explored.schedules + 1} of the controlled scheduler {why}, so "
                  f"real threads under forced preemption judged this test")
        result = self.stress(scenario, runs=min(STRESS_RUNS, max(1, planned)),
                             timeout=self.stress_timeout, stop_at_first=stop_at_first)
        result.engine_reason = reason
        result.seconds = time.perf_counter() - start
        return result

    def stress(self, scenario: Callable[[Any], Any], *, runs: int = 20, timeout: float = 5.0,
               p_yield: float = 0.05, stop_at_first: bool = True) -> Exploration:
        """The fallback for code the scheduler cannot control: the scenario on real
        threads with forced preemption (see stress.py). Same seeds, weaker guarantees."""
        result = Exploration(self.test)
        files = student_files()
        start = time.perf_counter()
        wanted = len(self.seeds(runs))
        # A run that judged nothing (UnsoundRun) is replaced by the next seed of a list
        # twice as long: at most as many replacements as there are runs.
        for seed in self.seeds(2 * runs):
            if result.schedules == wanted:
                break
            try:
                failure = stress_once(scenario, files, seed, timeout, p_yield)
            except UnsoundRun as exc:
                result.unsound_runs.append(f"seed {seed}: {exc}")
                continue
            result.schedules += 1
            if failure is not None:
                failure.details["found_at_schedule"] = result.schedules
                failure.details["mode"] = "real threads under stress (not a controlled schedule)"
                result.failures.append(FailedSchedule(seed, failure.verdict, failure.message, failure.details))
                if stop_at_first or failure.verdict == "timeout":
                    break  # a hung run leaves threads behind: do not pile up more
        if not result.schedules and result.unsound_runs:
            raise TracerUnavailable(
                f"no run under stress could install the engine's tracer "
                f"({len(result.unsound_runs)} tried; the last: {result.unsound_runs[-1]})")
        result.seconds = time.perf_counter() - start
        result.engine = "stress"
        self.explorations.append(result)
        return result

    def judged_by(self) -> dict[str, Any] | None:
        """Which engine judged this test (a field of its result, pass or fail), and why it
        fell back to stress if it did; None when the test explored nothing."""
        if not self.explorations:
            return None
        stressed = [e for e in self.explorations if e.stressed]
        judged: dict[str, Any] = {ENGINE: "stress" if stressed else "controlled"}
        reasons = [e.engine_reason for e in stressed if e.engine_reason]
        if reasons:
            judged[ENGINE_REASON] = reasons[0]
        return judged

    def summary(self) -> tuple[str, dict[str, Any]] | None:
        """For a test that passed: what was explored (a note and figures for the report),
        and the first lock-order inversion seen, a hint (ordering locks one way everywhere
        cannot deadlock; taking them in both orders can, even if no run here did)."""
        if not self.explorations:
            return None
        schedules = sum(e.schedules for e in self.explorations)
        cycles = [c for e in self.explorations for c in e.lock_order_cycles]
        if schedules == 1 and not cycles and not os.environ.get(REPLAY_SEED):
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
        details.update(self.judged_by() or {})
        if cycles:
            note += "; but locks were taken in opposite orders, which can deadlock (see below)"
            details["potential deadlock (a hint, not graded here)"] = cycles[0]
        return note, details

