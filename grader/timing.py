"""Judging "parallelise the loop": evidence from inside the work, speedup as a report.

Wall-clock speedup cannot grade parallelism on a shared machine: with one core taken by
someone else's job, correct solutions measure 0.8-0.9x of serial, the same as serial
ones. What holds under load is evidence recorded inside the CPU-heavy kernel
(grader/kernels/evidence.py): when each process was computing. From it, for one call of
the student's function:

- in-kernel concurrency: each process's working time (intervals of consecutive kernel
  calls, pauses under GAP_NS included) summed over processes, divided by the span from
  the first call to the last. Processes working at once give close to the number of
  workers; workers taking turns (waiting on each future right after submitting it),
  threads (the GIL: one process) and serial code give about 1 or less. A preempted
  worker is still inside its work, so a neighbour's job hardly changes the figure.
- time inside the calls: the share of that working time spent inside the kernel's
  calls. One event per task keeps workers busy with messages, not with the kernel.
- worker processes: a pool created per batch shows as many PIDs.
- CPU overhead: CPU time of the call (the grader's process, every thread, plus each
  worker from its first to its last recorded moment) over the CPU time of the serial
  loop in the same round. Pickling the whole input for every task, or one task per
  event, shows here; CPU time, unlike wall time, hardly depends on the load.

The record is written by Python code in the student's processes, so the student's code
could write it too. Three checks rest on what it cannot write (issue 17):
- the CPU time the operating system counted in the worker processes during the call
  (grader/kernels/accounting.py: /proc and getrusage) must back the calls the workers'
  record claims (at least `backing` x their cost in the serial loop), or the parallelism,
  overhead and pool checks, which all read that record, fail;
- the kernel is called at most `calls_per_event` times per item: workers that each
  compute everything show concurrency and no gain;
- the staged kernel is calibrated per run (grader/kernels/detector.py), so values
  computed with a private copy of the given one differ: the hidden tests compare every
  timed run's result with the serial loop's.

Every threshold is a ratio measured on the same machine (concurrency / workers, CPU /
serial CPU, processes / workers; see Thresholds). Runs are interleaved in rounds
(serial on `serial_share` of the work scaled up, reference, student, a free-cores probe,
shuffled): two rounds when every figure is far from its threshold, three, more when a
median is close to its threshold, and a small pilot round first that alone judges a slow
submission already far over its CPU or process budget. The rounds stop at a hard
`budget` of seconds: a check they have not settled by then is "not judged" (reason
"budget", retried by the next run), never a verdict taken by chance.

A check that is not judged carries a reason (a key of grader.model.NOT_JUDGED): "busy"
(the grader's own parallel version showed no parallelism in the same rounds), "budget",
"one_core"; the hidden tests pass it on with grader.testing.not_judged, and the gradebook
regrades on that field, never on a phrase.

No worker process at all (serial code, threads) is a fact of the code and is judged on
any machine with two usable cores. Low concurrency with several processes is judged only
beside a reference that did show parallelism in the same rounds; otherwise "not judged".
Wall-clock speedup is measured and reported (median and spread, beside the reference's
in the same rounds) and counts only when every probe found the cores free and the
reference itself sped up; otherwise it is "not judged: the machine was busy", a note on
a verdict that the in-kernel evidence judged (final, not regraded).

Machine policy (grader/cores.py): workers = min(wish, usable cores); with one usable core
the parallelism checks are not judged and pass with that note.

This module is long because the rule (judge, on plain data, no clock) and the protocol
that feeds it (measure) are one design and are read together.
"""
from __future__ import annotations

import atexit
import json
import os
import random
import resource
import secrets
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from grader.cores import Cores, probe_free
from grader.kernels import accounting
from grader.kernels.evidence import CALIBRATION_ENV, EVIDENCE_ENV, GAP_NS, Trace, read_traces
from grader.kernels.evidence import flush as flush_own_recorders

# --------------------------------------------------------------------------- evidence

_created: dict[str, int] = {}  # evidence dir -> pid that made it (and may remove it)


def evidence_dir() -> Path:
    """The directory instrumented kernels record into, for this process and its children.

    Call it before the student's module is imported (hidden test modules call it at
    import): a pool started at import time must inherit the setting.
    """
    existing = os.environ.get(EVIDENCE_ENV)
    if existing and Path(existing).is_dir():
        return Path(existing)
    directory = tempfile.mkdtemp(prefix="grader-evidence-")
    os.environ[EVIDENCE_ENV] = directory
    # The run's calibration of the instrumented kernels (grader/kernels/detector.py): a
    # private copy of a given kernel then computes other values than the staged one.
    os.environ.setdefault(CALIBRATION_ENV, secrets.token_hex(8))
    _created[directory] = os.getpid()
    atexit.register(_remove, directory)
    return Path(directory)


def _remove(directory: str) -> None:
    # A student's forked child that exits normally runs our atexit hooks too: only the
    # process that made the directory removes it.
    if _created.get(directory) == os.getpid():
        shutil.rmtree(directory, ignore_errors=True)


# --------------------------------------------------------------------------- figures

@dataclass(frozen=True)
class Worker:
    """One process's share of one run."""

    pid: int
    main: bool  # the grader's own process (where a serial loop or threads run)
    calls: int
    working: float  # s inside intervals of consecutive calls (pauses < GAP_NS included)
    in_calls: float  # s inside the calls themselves
    first: float  # s since the run's kernel start
    last: float
    cpu: float  # s of CPU from its first to its last recorded moment in the run
    threads: int
    intervals: tuple[tuple[float, float], ...]  # s since the run's kernel start

    @property
    def duty(self) -> float:
        """Share of its working time spent inside the kernel's calls."""
        return min(1.0, self.in_calls / self.working) if self.working > 0 else 1.0


@dataclass(frozen=True)
class Run:
    """What one timed call showed: wall and CPU time, and the kernel's evidence."""

    name: str  # serial | reference | student
    wall: float  # s
    parent_cpu: float  # s, the grader's process (every thread) during the call
    workers: tuple[Worker, ...] = ()
    span: float = 0.0  # s from the first kernel call to the last, over all processes
    error: str = ""  # the call raised: its exception, in one line
    # s of CPU the kernel counted in every other process of this process's tree during the
    # call (/proc and getrusage: no Python code can write it); None where /proc is unread.
    others_cpu: float | None = None

    @property
    def calls(self) -> int:
        return sum(w.calls for w in self.workers)

    @property
    def worker_cpu(self) -> float:
        return sum(w.cpu for w in self.workers if not w.main)

    @property
    def cpu(self) -> float:
        return self.parent_cpu + self.worker_cpu

    @property
    def concurrency(self) -> float:
        """In-kernel concurrency: processes working at once, on average over the span."""
        return sum(w.working for w in self.workers) / self.span if self.span > 0 else 0.0

    @property
    def processes(self) -> int:
        """Processes that called the kernel at all."""
        return len(self.workers)

    def active(self, workers: int) -> int:
        """Processes that did a real share: at least a quarter of an even split."""
        fair = self.calls / max(1, workers)
        return sum(1 for w in self.workers if w.calls >= 0.25 * fair and w.calls > 0)

    @property
    def worker_calls(self) -> int:
        return sum(w.calls for w in self.workers if not w.main)

    @property
    def worker_share(self) -> float:
        """Share of the kernel calls made in processes other than the calling one."""
        return sum(w.calls for w in self.workers if not w.main) / self.calls if self.calls else 0.0

    @property
    def threads(self) -> int:
        return max((w.threads for w in self.workers), default=0)

    @property
    def duty(self) -> float:
        """Share of the working time spent inside the calls, over the worker processes
        (over the calling process when there are none)."""
        chosen = [w for w in self.workers if not w.main] or list(self.workers)
        working = sum(w.working for w in chosen)
        return min(1.0, sum(w.in_calls for w in chosen) / working) if working > 0 else 0.0


def run_figures(name: str, traces: Iterable[Trace], start_ns: int, end_ns: int,
                wall: float, parent_cpu: float, main_pid: int, error: str = "",
                others_cpu: float | None = None) -> Run:
    """The figures of one call from the evidence recorded between start_ns and end_ns."""
    clipped: list[tuple[Trace, list[tuple[int, int, float, float, int, int, int]]]] = []
    for trace in traces:
        parts = []
        for i in trace.intervals:
            lo, hi = max(i.start, start_ns), min(i.end, end_ns)
            if hi < lo or (hi == lo and not (i.start == i.end and start_ns <= i.start <= end_ns)):
                continue
            length = i.end - i.start
            share = (hi - lo) / length if length > 0 else 1.0
            parts.append((lo, hi, i.in_calls * share, i.calls * share,
                          i.cpu_start, i.cpu_end, i.threads))
        if parts:
            clipped.append((trace, parts))
    if not clipped:
        return Run(name, wall, parent_cpu, (), 0.0, error, others_cpu)
    t0 = min(p[0] for _, parts in clipped for p in parts)
    t1 = max(p[1] for _, parts in clipped for p in parts)
    workers = []
    for trace, parts in clipped:
        workers.append(Worker(
            pid=trace.pid, main=trace.pid == main_pid,
            calls=round(sum(p[3] for p in parts)),
            working=sum(p[1] - p[0] for p in parts) / 1e9,
            in_calls=sum(p[2] for p in parts) / 1e9,
            first=(parts[0][0] - t0) / 1e9, last=(parts[-1][1] - t0) / 1e9,
            cpu=max(0, parts[-1][5] - parts[0][4]) / 1e9,
            threads=max(p[6] for p in parts),
            intervals=tuple(((p[0] - t0) / 1e9, (p[1] - t0) / 1e9) for p in parts)))
    workers.sort(key=lambda w: (not w.main, w.first))
    return Run(name, wall, parent_cpu, tuple(workers), (t1 - t0) / 1e9, error, others_cpu)


# ------------------------------------------------------------------------ thresholds

@dataclass(frozen=True)
class Thresholds:
    """The rule's ratios. exercise.yaml `params.parallelism` may override any of them."""

    wish: int = 4  # workers a test asks for, before the usable-cores cap
    concurrency: float = 0.65  # in-kernel concurrency >= this x workers
    duty: float = 0.4  # share of the workers' working time inside the kernel's calls
    cpu_overhead: float = 1.5  # CPU of the call <= this x CPU of the serial loop
    processes: float = 2.0  # processes that did work <= this x workers (+1)
    free_share: float = 0.85  # a probe process getting less of a core: machine busy
    speedup: float = 0.6  # when counted: speedup >= this x the reference's ...
    min_speedup: float = 0.2  # ... and >= 1 + this x (workers - 1): spawn start-up allowed
    reference_speedup: float = 0.5  # counted only if the reference reached 1 + this x (w - 1)
    close: float = 0.1  # a median within this (relative) of its threshold: more rounds
    decisive: float = 0.2  # every figure this far (relative) from its threshold: sure
    rounds: int = 3
    max_rounds: int = 6
    pilot: float = 0.2  # share of the workload in the pilot round (0: no pilot)
    slow: float = 2.0  # a pilot run this many times the serial loop's wall time is slow
    pilot_margin: float = 2.0  # ... and its CPU or processes this many times their limit
    probe_seconds: float = 0.05
    # Evidence the kernel of the operating system must back (issue 17: the record is
    # written by Python code in the student's processes, so it alone proves nothing):
    calls_per_event: float = 1.5  # kernel calls per item at most: each item computed once
    backing: float = 0.5  # worker CPU counted by the OS >= this x the claimed calls' CPU
    # Seconds of rounds after the pilot: rounds stop there; what is not sure by then is
    # "not judged" (retried on the next run), never a verdict decided by chance.
    budget: float = 8.0
    # The serial loop of a full round does this share of the work, its figures scaled up
    # (its CPU time and calls grow in proportion to the work; its wall time on a quiet
    # machine too): the serial loop is the longest run of a round.
    serial_share: float = 0.5

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> "Thresholds":
        params = params or {}
        known = {f.name: f.type for f in fields(cls)}
        values = {k: v for k, v in params.items() if k in known}
        unknown = set(params) - set(known)
        if unknown:
            raise ValueError(f"unknown parallelism parameter(s): {', '.join(sorted(unknown))}")
        return replace(cls(), **values)


# ---------------------------------------------------------------------------- rounds

@dataclass(frozen=True)
class Round:
    serial: Run
    student: Run
    reference: Run | None = None
    probe: tuple[float, ...] = ()  # share of a core each probe process got


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def _spread(values: Sequence[float]) -> tuple[float, float]:
    return (min(values), max(values)) if values else (0.0, 0.0)


@dataclass(frozen=True)
class Check:
    """One criterion's conclusion. passed None: not judged (counts as passed)."""

    name: str
    passed: bool | None
    verdict: str  # a key of grader.model.VERDICTS
    message: str
    figure: float | None = None
    threshold: float | None = None
    reason: str = ""  # passed None: why, a key of grader.model.NOT_JUDGED

    @property
    def judged(self) -> bool:
        return self.passed is not None

    @property
    def ok(self) -> bool:
        return self.passed is not False

    def close_to_threshold(self, band: float) -> bool:
        if self.passed is None or self.figure is None or not self.threshold:
            return False
        return abs(self.figure / self.threshold - 1.0) < band

    def decisive(self, band: float) -> bool:
        if self.passed is None or self.figure is None or not self.threshold:
            return True
        return abs(self.figure / self.threshold - 1.0) >= band


@dataclass(frozen=True)
class Verdict:
    """The conclusion on parallelism from a set of rounds, with the data behind it."""

    workers: int
    cores: Cores
    rounds: tuple[Round, ...]
    checks: dict[str, Check]
    quiet: bool
    figures: dict[str, Any] = field(default_factory=dict)
    speedup: dict[str, Any] = field(default_factory=dict)
    pilot: bool = False  # decided on the pilot round alone

    def __getitem__(self, name: str) -> Check:
        return self.checks[name]

    def details(self) -> dict[str, Any]:
        """For Failure(**details) or a passing record: figures, speedup, the chart."""
        return {"figures": self.figures, "speedup": self.speedup}


PARALLEL, OVERHEAD, ONE_POOL, SPEEDUP = "parallel", "overhead", "one_pool", "speedup"


@dataclass(frozen=True)
class Names:
    """How messages name things, in the exercise's words."""

    call: str = "histogram()"  # the student's function
    kernel: str = "reconstruct()"  # the instrumented given function
    given: str = "detector.py"  # where it lives
    items: str = "events"  # what it is called on


def judge(rounds: Sequence[Round], workers: int, cores: Cores,
          thresholds: Thresholds = Thresholds(), names: Names = Names()) -> Verdict:
    """The rule, on evidence alone: no clock is read here (unit-tested on synthetic data)."""
    students = [r.student for r in rounds]
    serials = [r.serial for r in rounds]
    refs = [r.reference for r in rounds if r.reference is not None]
    t = thresholds
    probes = [s for r in rounds for s in r.probe]
    quiet = bool(probes) and min(probes) >= t.free_share

    errors = [s.error for s in students if s.error]
    conc = [s.concurrency for s in students]
    overheads = [s.cpu / se.cpu for s, se in zip(students, serials) if se.cpu > 0]
    procs = [s.processes - (1 if any(w.main for w in s.workers) else 0) for s in students]
    speedups = [se.wall / s.wall for s, se in zip(students, serials) if s.wall > 0]
    ref_speedups = [se.wall / r.reference.wall for r, se in zip(rounds, serials)
                    if r.reference is not None and r.reference.wall > 0]
    ref_conc = [r.concurrency for r in refs]
    typical = _typical(students, conc)
    events = _median([se.calls for se in serials])

    checks: dict[str, Check] = {}
    if errors:
        message = f"{names.call} raised during the timed runs: {errors[0]}"
        for name in (PARALLEL, OVERHEAD, ONE_POOL, SPEEDUP):
            checks[name] = Check(name, False, "error", message)
    else:
        duty = _median([s.duty for s in students])
        serial_cpu = _median([se.cpu for se in serials])
        cpu_per_call = serial_cpu / events if events else 0.0
        per_event = _median([s.calls / events for s in students]) if events else 0.0
        backed = [s.others_cpu / (s.worker_calls * cpu_per_call) for s in students
                  if s.others_cpu is not None and s.worker_calls and cpu_per_call > 0]
        checks[PARALLEL] = _check_parallel(typical, _median(conc), duty, workers, cores, t,
                                           ref_conc, events, cpu_per_call, names,
                                           per_event, _median(backed) if backed else None)
        checks[OVERHEAD] = _in_workers(typical, workers, OVERHEAD, names) or _check_overhead(
            typical, _median(overheads), serial_cpu, t, names)
        checks[ONE_POOL] = _in_workers(typical, workers, ONE_POOL, names) or _check_one_pool(
            _median(procs), max(procs, default=0), workers, t, names)
        checks[SPEEDUP] = _check_speedup(_median(speedups), _median(ref_speedups), workers,
                                         cores, quiet, bool(refs), t, names)
        if backed and _median(backed) < t.backing and checks[PARALLEL].passed is False:
            # The workers' record is not backed by the CPU time the OS counted in them:
            # the checks that read that record have nothing to stand on either.
            for name in (OVERHEAD, ONE_POOL):
                checks[name] = replace(checks[PARALLEL], name=name)

    lo, hi = _spread(conc)
    figures: dict[str, Any] = {
        "workers asked for": workers,
        "usable cores": cores.usable,
        "rounds": len(rounds),
        "in-kernel concurrency (median)": round(_median(conc), 2),
        "in-kernel concurrency (range)": f"{lo:.2f}-{hi:.2f}",
        "concurrency needed": round(t.concurrency * workers, 2),
        "processes that did work": typical.active(workers) if typical else 0,
        "worker processes started (median)": _median(procs),
        f"share of working time inside {names.kernel} (median)":
            f"{_median([s.duty for s in students]):.0%}",
        "CPU time / serial CPU time (median)": round(_median(overheads), 2),
        "CPU limit": f"{t.cpu_overhead:g}x",
        "serial CPU time (s)": round(_median([se.cpu for se in serials]), 3),
        "machine": "quiet" if quiet else "busy" if probes else "not probed",
        "free-core probe (lowest share)": round(min(probes), 2) if probes else "-",
    }
    if ref_conc:
        figures["reference in-kernel concurrency (median)"] = round(_median(ref_conc), 2)
    if typical:
        figures["busy_intervals"] = busy_chart(typical)
    slo, shi = _spread(speedups)
    speedup: dict[str, Any] = {
        "speedup (median)": round(_median(speedups), 2),
        "speedup (range)": f"{slo:.2f}-{shi:.2f}",
        "counted": checks[SPEEDUP].passed is not None,
        "note": checks[SPEEDUP].message if checks[SPEEDUP].passed is None else "",
        "series": [{"workers": 1, "speedup": 1.0},
                   {"workers": workers, "speedup": round(_median(speedups), 2)}],
    }
    if ref_speedups:
        rlo, rhi = _spread(ref_speedups)
        speedup["reference speedup (median)"] = round(_median(ref_speedups), 2)
        speedup["reference speedup (range)"] = f"{rlo:.2f}-{rhi:.2f}"
    return Verdict(workers, cores, tuple(rounds), checks, quiet, figures, speedup)


def _typical(runs: Sequence[Run], key: Sequence[float]) -> Run | None:
    """The run whose concurrency is the median: the one the message describes."""
    if not runs:
        return None
    order = sorted(range(len(runs)), key=lambda i: key[i])
    return runs[order[(len(order) - 1) // 2]]


def _outside_share(workers: Sequence[Worker], cpu_per_call: float) -> float:
    """Share of the workers' CPU time not explained by their calls (at the serial cost)."""
    cpu = sum(w.cpu for w in workers)
    inside = cpu_per_call * sum(w.calls for w in workers)
    return max(0.0, 1 - inside / cpu) if cpu > 0 else 0.0


def _check_parallel(run: Run | None, conc: float, duty: float, workers: int, cores: Cores,
                    t: Thresholds, ref_conc: Sequence[float], events: float,
                    cpu_per_call: float, names: Names, per_event: float = 0.0,
                    backing: float | None = None) -> Check:
    need = t.concurrency * workers
    call, kernel = names.call, names.kernel
    if not cores.can_judge_parallelism or workers < 2:
        return Check(PARALLEL, None, "not_judged",
                     f"not judged: this machine has {cores.describe()}; parallelism needs "
                     "at least 2 free cores to show", conc, need, "one_core")
    if run is None or run.calls == 0:
        return Check(PARALLEL, False, "serial",
                     f"{kernel} from {names.given} was never called while {call} ran: "
                     f"compute every value with it (do not copy it), so that the grader can "
                     f"see which process computed what", 0.0, need)
    figure = f"(in-kernel concurrency {conc:.2f}, expected close to {workers})"
    # (A worker killed at the end loses the last SYNC_NS of its record: a few calls.
    # Far fewer calls than items means values computed some other way.)
    if events and run.calls < 0.5 * events:
        return Check(PARALLEL, False, "wrong",
                     f"only {run.calls:,} of {events:,.0f} {names.items} went through "
                     f"{kernel} during {call} {figure}", conc, need)
    # Each item once: workers that all compute everything show parallelism and no gain.
    if events and per_event > t.calls_per_event:
        return Check(PARALLEL, False, "serial",
                     f"{kernel} was called {per_event:.2f} times per item ({run.calls:,} calls "
                     f"for {events:,.0f} {names.items}): the work was not divided between "
                     f"the workers; each of the {names.items} must be computed once, by one "
                     f"worker {figure}", per_event,
                     t.calls_per_event)
    # What the record says the workers computed must show in the CPU time the operating
    # system counted in them: a record written by cheap fake calls does not.
    if backing is not None and backing < t.backing:
        return Check(PARALLEL, False, "serial",
                     f"the worker processes' record claims {run.worker_calls:,} calls of "
                     f"{kernel}, but the operating system counted only {backing:.0%} of the "
                     f"CPU time those calls take in them: the {names.items} were not "
                     f"computed there {figure}", backing, t.backing)
    others = [w for w in run.workers if not w.main]
    main = next((w for w in run.workers if w.main), None)
    # No worker process at all is a fact of the code, not of the machine: judged always.
    if not others and main is not None and main.threads >= 2:
        return Check(PARALLEL, False, "serial",
                     f"your {main.threads} threads took turns: threads share one Python "
                     f"interpreter and only one of them runs Python code at a time (the GIL) "
                     f"{figure}. CPU-bound work needs processes", conc, need)
    if not others:
        return Check(PARALLEL, False, "serial",
                     f"all {run.calls:,} {names.items} went through {kernel} in the calling "
                     f"process, one after another: no worker process did any of the work "
                     f"{figure}", conc, need)
    if ref_conc and _median(ref_conc) < need:
        return Check(PARALLEL, None, "not_judged",
                     f"not judged: even the grader's own parallel version reached only "
                     f"{_median(ref_conc):.2f} in-kernel concurrency on this machine "
                     f"({cores.describe()})", conc, need, "busy")
    # The binding figure (the one nearer its threshold) decides how sure the rule is.
    if conc / need <= duty / t.duty:
        value, limit = conc, need
    else:
        value, limit = duty, t.duty
    if conc >= need and duty >= t.duty:
        return Check(PARALLEL, True, "passed",
                     f"{run.active(workers)} processes computed at the same time {figure}, "
                     f"{duty:.0%} of their time inside {kernel}", value, limit)
    churn = len(others) > t.processes * workers + 1
    if duty < t.duty:
        message = (f"your workers spent only {duty:.0%} of their working time inside "
                   f"{kernel} (expected at least {t.duty:.0%}): the rest went to passing "
                   f"{names.items} between processes one at a time {figure}. Give each task "
                   f"a chunk of {names.items}")
    elif churn:
        message = (f"the work was spread over {len(others)} short-lived worker processes, "
                   f"and starting them took much of the time {figure}: a new pool for every "
                   f"batch? Start one pool and give it all the work")
    elif len(others) == 1 and (main is None or main.calls < 0.25 * run.calls):
        message = (f"a single worker process did all the work: the others had nothing to "
                   f"do {figure}")
    elif _outside_share(others, cpu_per_call) > 0.15:
        outside = _outside_share(others, cpu_per_call)
        message = (f"your workers spent {outside:.0%} of their CPU time outside {kernel}, "
                   f"between tasks: receiving and unpickling the data each task was sent "
                   f"{figure}. Give each task a chunk of {names.items}, and only the "
                   f"{names.items} it needs")
    else:
        message = (f"your {run.active(workers)} workers ran one after another {figure}: "
                   f"submit all the tasks before waiting for any result")
    return Check(PARALLEL, False, "serial", message, value, limit)


def _in_workers(run: Run | None, workers: int, name: str, names: Names) -> Check | None:
    """Overhead and pool checks judge how a parallel solution runs: none without one.

    CPU time and process counts need no free cores, so they are judged whenever the
    work did run in worker processes, even when a one-core machine asked for a single
    worker (a serial loop is then a fine answer, and is not judged)."""
    share = run.worker_share if run is not None else 0.0
    if share >= 0.5:
        return None
    if workers < 2:
        return Check(name, None, "not_judged",
                     "not judged: a single worker was asked for on this machine",
                     reason="one_core")
    what = {OVERHEAD: "keeps its overhead low", ONE_POOL: "keeps one pool of workers"}
    where = (f"all the {names.items} went through {names.kernel} in the calling process"
             if share == 0 else f"only {share:.0%} of the {names.items} went through "
             f"{names.kernel} in worker processes")
    return Check(name, False, "serial",
                 f"{where}: this point is for a parallel run that {what.get(name, 'works well')}",
                 share, 0.5)


def _check_overhead(run: Run | None, ratio: float, serial_cpu: float, t: Thresholds,
                    names: Names) -> Check:
    limit = t.cpu_overhead
    figure = f"(CPU time {ratio:.2f}x the serial loop's, limit {limit:g}x)"
    if run is None or ratio <= limit:
        return Check(OVERHEAD, True, "passed", f"little CPU spent outside the work {figure}",
                     ratio, limit)
    extra = max(0.0, run.cpu - serial_cpu)
    share = extra / run.cpu if run.cpu > 0 else 0.0
    where = (f"{run.parent_cpu:.2f} s in the calling process, "
             f"{run.worker_cpu:.2f} s in the workers")
    return Check(OVERHEAD, False, "too_slow",
                 f"{share:.0%} of the CPU time went to work the serial loop does not do: "
                 f"pickling, sending and unpickling data between processes ({where}) "
                 f"{figure}. Send each task only the {names.items} it needs, in chunks",
                 ratio, limit)


def _check_one_pool(procs: float, most: int, workers: int, t: Thresholds,
                    names: Names) -> Check:
    limit = t.processes * workers + 1
    if procs <= limit:
        return Check(ONE_POOL, True, "passed",
                     f"{procs:g} worker processes for {workers} workers", procs, limit)
    return Check(ONE_POOL, False, "too_slow",
                 f"your {names.call} started {most} worker processes to run {workers} "
                 f"workers: a new pool for every batch costs a process start each time. "
                 f"Start one pool and give it all the work", procs, limit)


def _check_speedup(speedup: float, ref: float, workers: int, cores: Cores, quiet: bool,
                   has_ref: bool, t: Thresholds, names: Names) -> Check:
    if not cores.can_judge_parallelism or workers < 2:
        return Check(SPEEDUP, None, "not_judged",
                     f"not judged: a single usable core ({cores.describe()})", speedup,
                     reason="one_core")
    if not quiet:
        return Check(SPEEDUP, None, "not_judged",
                     "not judged: the machine was busy (another job took part of the cores)",
                     speedup, reason="busy")
    floor = 1 + t.min_speedup * (workers - 1)
    if has_ref and ref < 1 + t.reference_speedup * (workers - 1):
        return Check(SPEEDUP, None, "not_judged",
                     f"not judged: the grader's own parallel version only reached {ref:.2f}x "
                     f"here", speedup, reason="busy")
    need = max(floor, t.speedup * ref) if has_ref else floor
    versus = f", the grader's own parallel version {ref:.2f}x" if has_ref else ""
    if speedup >= need:
        return Check(SPEEDUP, True, "passed",
                     f"{speedup:.2f}x faster than the serial loop{versus}", speedup, need)
    return Check(SPEEDUP, False, "too_slow",
                 f"{names.call} was only {speedup:.2f}x faster than the serial loop with "
                 f"{workers} workers on free cores{versus} (needed {need:.2f}x)", speedup, need)


def busy_chart(run: Run, limit: int = 200) -> dict[str, Any]:
    """When each process was inside the kernel, in ms, for a chart of busy intervals."""
    rows = []
    for n, w in enumerate(run.workers, 1):
        label = "calling process" if w.main else f"worker {n - (1 if run.workers[0].main else 0)}"
        rows.append({"label": f"{label} (pid {w.pid})", "calls": w.calls,
                     "intervals": _coarse(w.intervals, run.span, limit)})
    return {"unit": "ms", "span": round(run.span * 1e3, 1), "processes": rows}


def _coarse(intervals: Sequence[tuple[float, float]], span: float,
            limit: int) -> list[list[float]]:
    # Merge intervals separated by less than a chart pixel so that a chart stays small.
    merged: list[list[float]] = []
    gap = span / (limit * 2) if span > 0 else 0.0
    for a, b in intervals:
        if merged and a - merged[-1][1] <= gap:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [[round(a * 1e3, 2), round(b * 1e3, 2)] for a, b in merged[: limit]]


# ----------------------------------------------------------------------- measuring

def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_call(name: str, call: Callable[[], Any], directory: Path,
               kernel: str | None = None) -> tuple[Run, Any]:
    """Run `call` once and read what the kernel recorded meanwhile."""
    time.sleep(2 * GAP_NS / 1e9)  # never let one run's interval run into the next
    error, result = "", None
    os_before = accounting.snapshot()
    cpu0, start = _cpu_self(), time.perf_counter_ns()
    try:
        result = call()
    except Exception as exc:  # the student's code: report, do not crash the grader
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    end, cpu1 = time.perf_counter_ns(), _cpu_self()
    # Workers a pool leaves to end by themselves are counted if they ended meanwhile
    # (zombies and reaped children both count); the record is read after this too.
    others = accounting.others_cpu(os_before, accounting.snapshot())
    flush_own_recorders()
    traces = read_traces(directory, kernel)
    run = run_figures(name, traces, start, end, (end - start) / 1e9, cpu1 - cpu0,
                      os.getpid(), error, others)
    return run, result


Workload = Callable[[float], Any]  # called with the share of the full workload to do


def measure(student: Workload, serial: Workload, reference: Workload | None, workers: int,
            cores: Cores, thresholds: Thresholds = Thresholds(), kernel: str | None = None,
            rng: random.Random | None = None,
            check_result: Callable[[str, Any], None] | None = None,
            names: Names = Names()) -> Verdict:
    """Interleaved rounds of serial, reference and student runs until the rule is sure.

    Each callable does `share` of the workload (1.0: all of it). A pilot round on
    `thresholds.pilot` of it comes first, serial and student only: a submission that is
    slow and already far over its CPU or process budget there (one task per event, a
    pool per batch) is judged on it, so that grading it does not take ten times longer
    than grading a good one. The pilot is small and noisy under load, so the reference's
    figures there would calibrate nothing: it is judged on the plain thresholds, and
    only a submission failing them by far stops there. `check_result(name, result)` sees
    every result (and may raise to stop).
    """
    directory = evidence_dir()
    rng = rng or random.Random()
    t = thresholds

    def one_round(share: float, full: bool = True) -> Round:
        runs: dict[str, Run] = {}
        probe: tuple[float, ...] = ()
        steps = ["serial", "student"]
        steps += (["probe"] + (["reference"] if reference else [])) if full else []
        rng.shuffle(steps)
        for step in steps:
            if step == "probe":
                probe = tuple(probe_free(workers, t.probe_seconds))
                continue
            work = {"serial": serial, "student": student, "reference": reference}[step]
            part = share * (t.serial_share if step == "serial" and full else 1.0)
            runs[step], result = timed_call(step, lambda: work(part), directory, kernel)
            if part != share:
                runs[step] = scaled(runs[step], share / part)
            if check_result is not None and not runs[step].error:
                check_result(step, result)
        return Round(runs["serial"], runs["student"], runs.get("reference"), probe)

    if 0 < t.pilot < 1:
        pilot = judge([one_round(t.pilot, full=False)], workers, cores, t, names)
        if _pilot_decides(pilot, t):
            pilot = replace(pilot, pilot=True)
            pilot.figures["decided on"] = f"one pilot round with {t.pilot:.0%} of the events"
            _log(pilot)
            return pilot
    rounds: list[Round] = []
    verdict = None
    started = time.monotonic()
    while len(rounds) < t.max_rounds:
        rounds.append(one_round(1.0))
        verdict = judge(rounds, workers, cores, t, names)
        if _enough(verdict, rounds, t):
            break
        if time.monotonic() - started >= t.budget:
            verdict = over_budget(verdict, t)
            break
    assert verdict is not None
    _log(verdict)
    return verdict


def scaled(run: Run, factor: float) -> Run:
    """A serial run on part of the work, as the whole work: wall time, CPU time and calls
    times FACTOR (what the rule reads of a serial run)."""
    workers = tuple(replace(w, calls=round(w.calls * factor), cpu=w.cpu * factor,
                            working=w.working * factor, in_calls=w.in_calls * factor)
                    for w in run.workers)
    others = run.others_cpu * factor if run.others_cpu is not None else None
    return replace(run, wall=run.wall * factor, parent_cpu=run.parent_cpu * factor,
                   workers=workers, others_cpu=others)


def over_budget(verdict: Verdict, t: Thresholds) -> Verdict:
    """The rounds' budget ran out before the rule was sure: every check that the rounds
    so far do not settle becomes "not judged" (the next run tries again), never a verdict
    taken by chance. Settled: an error, a fact of the code (no worker process at all), or
    a figure far from its threshold after enough rounds."""
    few = len(verdict.rounds) < t.rounds
    seconds = f"{t.budget:g} s"
    checks = dict(verdict.checks)
    for name, check in verdict.checks.items():
        if check.passed is None or check.verdict == "error":
            continue
        settled = check.decisive(t.decisive) if few else not check.close_to_threshold(t.close)
        if settled:
            continue
        checks[name] = replace(
            check, passed=None, verdict="not_judged", reason="budget",
            message=(f"not judged: {len(verdict.rounds)} rounds in the {seconds} budget were "
                     f"not enough to be sure ({check.message})"))
    verdict.figures["stopped"] = f"at the {seconds} budget after {len(verdict.rounds)} rounds"
    return replace(verdict, checks=checks)


# bench/parallelism.py reads every verdict's figures, passing ones included, from here.
# (Not GRADER_*: the sandbox keeps the grader's own settings out of the test process.)
BENCH_LOG_ENV = "BENCH_PARALLELISM_LOG"


def _log(verdict: Verdict) -> None:
    path = os.environ.get(BENCH_LOG_ENV)
    if not path:
        return
    line = json.dumps(summary(verdict), default=str) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)


def _reference_healthy(verdict: Verdict, t: Thresholds) -> bool:
    """The reference showed parallelism in these rounds: the machine is not the cause."""
    refs = [r.reference for r in verdict.rounds if r.reference is not None]
    if not refs or verdict.workers < 2:
        return True
    return _median([r.concurrency for r in refs]) >= t.concurrency * verdict.workers


def _pilot_decides(verdict: Verdict, t: Thresholds) -> bool:
    """A slow submission whose CPU overhead or process churn is already far beyond its
    limit on the pilot, every other figure far from its own: more rounds change nothing.
    Concurrency alone never decides on a pilot (on a small workload process start-up
    weighs more, which is not the student's fault), and CPU time and process counts do
    not depend on the load, so the reference's own figures are not needed here."""
    (only,) = verdict.rounds
    checks = [c for c in verdict.checks.values() if c.passed is not None]
    if any(c.verdict == "error" for c in checks):
        return True
    slow = only.student.wall >= t.slow * only.serial.wall
    # Far over, not just over: on a fifth of the work, starting the pool weighs five
    # times more in the CPU ratio (submit-and-wait measured 1.8x there, 1.0-1.3x in full).
    costly = any(c.passed is False and c.verdict == "too_slow" and c.figure is not None
                 and c.threshold and c.figure >= t.pilot_margin * c.threshold
                 for n, c in verdict.checks.items() if n in (OVERHEAD, ONE_POOL))
    return slow and costly and all(c.decisive(t.decisive) for c in checks)


def _enough(verdict: Verdict, rounds: Sequence[Round], t: Thresholds) -> bool:
    checks = [c for c in verdict.checks.values() if c.passed is not None]
    if any(c.verdict == "error" for c in checks) or len(rounds) >= t.max_rounds:
        return True
    if len(rounds) >= t.rounds:
        return not any(c.close_to_threshold(t.close) for c in checks) and (
            _reference_healthy(verdict, t))
    # Every figure far from its threshold after two rounds (passing or failing), beside a
    # reference that did show parallelism: a third round would not change anything.
    return (len(rounds) >= 2 and _reference_healthy(verdict, t)
            and all(c.decisive(t.decisive) for c in checks))


def summary(verdict: Verdict) -> dict[str, Any]:
    """Plain data for bench/parallelism.py and logs: each check and the main figures."""
    return {
        "checks": {n: {"passed": c.passed, "figure": c.figure, "threshold": c.threshold}
                   for n, c in verdict.checks.items()},
        "quiet": verdict.quiet,
        "rounds": len(verdict.rounds),
        "figures": {k: v for k, v in verdict.figures.items() if k != "busy_intervals"},
        "speedup": {k: v for k, v in verdict.speedup.items() if k != "series"},
    }
