"""The protocol that feeds the rule: where the kernels record, timed calls, interleaved
rounds of the serial loop, the reference and the submission, and their budget."""
from __future__ import annotations

import atexit
import json
import os
import random
import resource
import secrets
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from grader.cores import Cores, probe_free
from grader.kernels import accounting
from grader.kernels.evidence import CALIBRATION_ENV, EVIDENCE_ENV, GAP_NS, read_traces
from grader.kernels.evidence import flush as flush_own_recorders
from grader.timing.figures import Run, run_figures
from grader.timing.rule import (OVERHEAD, ONE_POOL, Names, Round, Thresholds, Verdict, judge,
                                _median)

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
            workloads = {"serial": serial, "student": student}
            if reference is not None:
                workloads["reference"] = reference  # a "reference" step only then
            work = workloads[step]
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
            pilot.figures["pilot_share"] = t.pilot  # decided on one pilot round of this share
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
    verdict.figures["budget_s"] = t.budget
    verdict.figures["stopped_after_rounds"] = len(verdict.rounds)
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
