"""The rule: parallelism judged on evidence alone (no clock is read here)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field, fields, replace
from typing import Any, Sequence

from grader.cores import Cores
from grader.timing.figures import Run, Worker, busy_chart

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

    # Numbers under stable keys, never display strings: grader/report/figures.py names
    # and formats them (labels, units, ranges); the gradebook and bench/ read the numbers.
    lo, hi = _spread(conc)
    figures: dict[str, Any] = {
        "workers": workers,
        "usable_cores": cores.usable,
        "rounds": len(rounds),
        "concurrency_median": round(_median(conc), 2),
        "concurrency_min": round(lo, 2),
        "concurrency_max": round(hi, 2),
        "concurrency_needed": round(t.concurrency * workers, 2),
        "processes_active": typical.active(workers) if typical else 0,
        "worker_processes_median": _median(procs),
        "kernel": names.kernel,
        "duty_median": round(_median([s.duty for s in students]), 2),
        "cpu_overhead_median": round(_median(overheads), 2),
        "cpu_overhead_limit": t.cpu_overhead,
        "serial_cpu_s": round(_median([se.cpu for se in serials]), 3),
        "machine": "quiet" if quiet else "busy" if probes else "not_probed",
        "probe_share_min": round(min(probes), 2) if probes else None,
    }
    if ref_conc:
        figures["reference_concurrency_median"] = round(_median(ref_conc), 2)
    if typical:
        figures["busy_intervals"] = busy_chart(typical)
    slo, shi = _spread(speedups)
    speedup: dict[str, Any] = {
        "speedup_median": round(_median(speedups), 2),
        "speedup_min": round(slo, 2),
        "speedup_max": round(shi, 2),
        "counted": checks[SPEEDUP].passed is not None,
        "note": checks[SPEEDUP].message if checks[SPEEDUP].passed is None else "",
        "series": [{"workers": 1, "speedup": 1.0},
                   {"workers": workers, "speedup": round(_median(speedups), 2)}],
    }
    if ref_speedups:
        rlo, rhi = _spread(ref_speedups)
        speedup["reference_speedup_median"] = round(_median(ref_speedups), 2)
        speedup["reference_speedup_min"] = round(rlo, 2)
        speedup["reference_speedup_max"] = round(rhi, 2)
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
                   f"batch, or workers replaced after a few tasks (maxtasksperchild)? Start "
                   f"one pool whose workers live for the whole run, and give it all the work")
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
                 f"workers: each new worker costs a process start. A new pool for every "
                 f"batch, or workers replaced after a few tasks (maxtasksperchild), do that "
                 f"again and again: start one pool whose workers live for the whole run, "
                 f"and give it all the work", procs, limit)


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


