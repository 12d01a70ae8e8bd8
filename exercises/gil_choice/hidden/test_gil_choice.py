"""Hidden tests of gil_choice: the right results in order, and the right kind of worker.

The grader's workloads.py (grader/kernels/workloads.py, same results as the given one)
records from inside each call which process ran it and when (grader/kernels/evidence.py).
The verdicts rest on that evidence, not on the clock alone:

- CPU-bound fits: in-kernel concurrency over interleaved rounds of the serial loop, the
  reference and the submission (the rule of grader/timing/rule.py, as in parallel_histogram), and
  which processes ran the fits: threads show as one PID, a pool per item as many.
- Blocking fetches: how many fetches were in flight at once, on average over the call.
  Sleeping threads need no CPU, so a busy machine barely changes it. Processes do overlap
  their waits too; the rule for I/O is the contract's: threads of the calling process
  (evidence: the PIDs), since each process costs a start-up and pickling for work that
  only waits.
"""
from __future__ import annotations

import importlib
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

from grader import timing
from grader.cores import usable_cores
from grader.testing import Failure, not_judged, plural

# Before the student's module is imported (pytest imports this file first): a pool the
# student starts at import time must record too.
timing.evidence_dir()

FIT, FETCH = "fit_peak", "fetch_metadata"
NAMES = timing.Names(call="run_cpu_tasks()", kernel="fit_peak()", given="workloads.py",
                     items="fits")


def _workloads() -> Any:
    # The staged workloads.py (the grader's instrumented one), as the student imports it.
    return sys.modules.get("workloads") or importlib.import_module("workloads")


def _choose(student: Any) -> Any:
    return student.module("choose")


# ------------------------------------------------------------------ inputs

def heavy_first(n: int, start: int = 1000) -> list[int]:
    """Distinct seeds whose fits are slowest first and at every fourth place, quick between:
    a run that collects results as they complete puts a quick one before a slow one."""
    heavy = [s for s in range(start, start + 8 * n + 8) if s % 4 == 3]
    light = [s for s in range(start, start + 8 * n + 8) if s % 4 == 0]
    return [heavy.pop(0) if i % 4 == 0 else light.pop(0) for i in range(n)]


def slow_runs_first(n: int, start: int = 300) -> list[int]:
    """Distinct run numbers: an 80 ms answer first and at every fourth place, 20 ms between."""
    return heavy_first(n, start)


def _describe_order(got: list, expected: list, items: list) -> str:
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            if g in expected:
                j = expected.index(g)
                return (f"position {i} holds the result of item {j} ({items[j]!r}), not of "
                        f"item {i} ({items[i]!r})")
            return f"position {i} holds {str(g)[:60]}, not the result of item {i} ({items[i]!r})"
    return "the results differ"


def _compare(got: Any, expected: list, items: list, call: str) -> None:
    if not isinstance(got, list):
        raise Failure(f"{call} returned {type(got).__name__} {str(got)[:60]}; expected a list "
                      f"of {plural(len(expected), 'result')}")
    if len(got) != len(expected):
        raise Failure(f"{call} returned {plural(len(got), 'result')}; expected one per item: "
                      f"{len(expected)}")
    if got != expected:
        same = sorted(map(repr, got)) == sorted(map(repr, expected))
        what = ("the right results in another order: the results must follow the order of "
                "the items (Executor.map keeps it; as_completed gives them as they finish)"
                if same else "wrong results")
        raise Failure(f"{call} returned {what}: {_describe_order(got, expected, items)}")


def _check_order(run: Callable, func: Callable, items: list, sizes: list[int],
                 workers: list[int], name: str, what: str) -> None:
    expected_all = [func(x) for x in items[: max(sizes)]]
    for n in sizes:
        for w in workers:
            part = items[:n]
            call = f"{name}({func.__name__}, {plural(n, what)}, workers={w})"
            try:
                got = run(func, list(part), w)
            except Exception as exc:
                raise Failure(f"{call} raised {type(exc).__name__}: {exc}", "error") from None
            _compare(got, expected_all[:n], part, call)


def test_cpu_results_in_order(student, exercise):
    """run_cpu_tasks: [fit_peak(x) for x in items], for several sizes and workers."""
    p = exercise.params["order"]
    _check_order(_choose(student).run_cpu_tasks, _workloads().fit_peak,
                 heavy_first(max(p["cpu_sizes"])), p["cpu_sizes"], p["cpu_workers"],
                 "run_cpu_tasks", "spectrum")


def test_io_results_in_order(student, exercise):
    """run_io_tasks: [fetch_metadata(r) for r in runs], for several sizes and workers."""
    p = exercise.params["order"]
    _check_order(_choose(student).run_io_tasks, _workloads().fetch_metadata,
                 slow_runs_first(max(p["io_sizes"])), p["io_sizes"], p["io_workers"],
                 "run_io_tasks", "run")


# ------------------------------------------------------------------ CPU: processes

_measured: dict[str, Any] = {}


def reference_run_cpu_tasks(func: Callable, items: list, workers: int) -> list:
    """The yardstick of the timed rounds: one process pool, a few chunks per worker.

    It lives here rather than being loaded from solutions/ because the sandbox stages no
    solution; it needs nothing of its own pickled (only `func` and the items), so it runs
    from a test module. Its concurrency in the same rounds tells the rule whether the
    machine let any parallel code show parallelism (grader/timing/)."""
    if workers <= 1 or len(items) <= 1:
        return [func(x) for x in items]
    workers = min(workers, len(items))
    chunksize = max(1, -(-len(items) // (workers * 4)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items, chunksize=chunksize))


def _cpu_verdict(student: Any, exercise: Any) -> timing.Verdict:
    """One measurement of the CPU side (it takes seconds), shared by the tests."""
    if "cpu" in _measured:
        return _measured["cpu"]
    p = exercise.params["timed"]
    thresholds = timing.Thresholds.from_params(exercise.params.get("parallelism"))
    cores = usable_cores()
    workers = cores.workers_for(thresholds.wish)
    run_cpu_tasks = _choose(student).run_cpu_tasks
    fit_peak = _workloads().fit_peak
    seeds = list(range(p["first_seed"], p["first_seed"] + p["fits_per_worker"] * workers))
    expected: dict[int, list] = {}
    results: list = []

    def part(share: float) -> list[int]:
        return seeds[: round(len(seeds) * share)]

    def serial(share: float) -> list:
        values = [fit_peak(s) for s in part(share)]
        expected[len(values)] = values
        return values

    def check_result(name: str, result: Any) -> None:
        if name == "student":
            results.append(result)

    def reference(share: float) -> list:
        # The serial loop runs on part of the work (timing.Thresholds.serial_share): the
        # results of the whole come from the grader's own parallel version.
        values = reference_run_cpu_tasks(fit_peak, part(share), workers)
        expected[len(values)] = values
        return values

    verdict = timing.measure(
        student=lambda share: run_cpu_tasks(fit_peak, part(share), workers),
        serial=serial,
        reference=reference,
        workers=workers, cores=cores, thresholds=thresholds, kernel=FIT,
        check_result=check_result, names=NAMES)
    right = sum(1 for r in results if isinstance(r, list) and r in expected.values())
    verdict.figures["fits"] = len(seeds)
    verdict.figures["timed_runs"] = len(results)
    verdict.figures["timed_runs_right"] = right
    _measured["cpu"] = verdict
    return verdict


def test_cpu_runs_in_parallel(student, exercise, record_property):
    """The fits run in `workers` processes at the same time (in-kernel concurrency)."""
    verdict = _cpu_verdict(student, exercise)
    check, details = verdict[timing.PARALLEL], verdict.details()
    excused = check.verdict == "serial" and _as_parallel_as_reference(verdict, details)
    if not check.ok and not excused:
        raise Failure(check.message, check.verdict, **details)
    if not check.ok:
        record_property("details", details)
        not_judged(record_property, "busy",
                   f"not judged: the machine was busy, and your fits ran as concurrently as "
                   f"the reference's in the same rounds "
                   f"({details['figures']['concurrency_vs_reference_median']:.2f}x)")
        return
    if not check.judged:
        record_property("details", details)
        not_judged(record_property, check.reason or "busy", check.message)
        return
    speed = verdict[timing.SPEEDUP]
    if not speed.ok:
        raise Failure(speed.message, speed.verdict, **details)
    record_property("details", details)
    record_property("note", check.message)
    record_property("speedup", speed.message)


SAME_AS_REFERENCE = 0.85  # student / reference in-kernel concurrency, round by round


def _as_parallel_as_reference(verdict: timing.Verdict, details: dict) -> bool:
    """On a busy machine, a run whose workers did the fits as concurrently as the
    reference's in the very same rounds is not failed for a low figure: the load lowered
    both. (Serial code, threads and workers taking turns stay far below the reference
    whenever the reference itself reached the threshold.)"""
    pairs = [(r.student, r.reference) for r in verdict.rounds if r.reference is not None]
    if verdict.quiet or not pairs or verdict.workers < 2:
        return False
    ratios = [s.concurrency / ref.concurrency for s, ref in pairs if ref.concurrency > 0]
    in_workers = all(s.worker_share >= 0.5 and s.active(verdict.workers) >= 2 for s, _ in pairs)
    if not ratios or not in_workers:
        return False
    median = sorted(ratios)[(len(ratios) - 1) // 2]
    details["figures"]["concurrency_vs_reference_median"] = round(median, 2)
    return median >= SAME_AS_REFERENCE


def _cpu_structure(student: Any, exercise: Any) -> timing.Run:
    """One call with 2 workers, on any machine: which processes and threads ran the fits.
    A fact of the code, not of the load, so it is judged even on a single core."""
    if "structure" not in _measured:
        p = exercise.params["structure"]
        seeds = list(range(p["first_seed"], p["first_seed"] + p["fits"]))
        run_cpu_tasks, fit_peak = _choose(student).run_cpu_tasks, _workloads().fit_peak
        run, _ = timing.timed_call("student", lambda: run_cpu_tasks(fit_peak, seeds, p["workers"]),
                                   timing.evidence_dir(), FIT)
        _measured["structure"] = (run, p["workers"], len(seeds))
    return _measured["structure"]


def test_cpu_in_processes(student, exercise, record_property):
    """The fits run in worker processes, not in threads of the calling process (the GIL)."""
    run, workers, fits = _cpu_structure(student, exercise)
    call = f"run_cpu_tasks(fit_peak, {fits} spectra, workers={workers})"
    if run.error:
        raise Failure(f"{call} raised {run.error}", "error")
    if run.calls < 0.5 * fits:
        raise Failure(f"only {run.calls} of {fits} fits went through fit_peak() during {call}: "
                      f"call the function you are given for every item", "wrong")
    others = [w for w in run.workers if not w.main]
    main = next((w for w in run.workers if w.main), None)
    figure = f"(in-kernel concurrency {run.concurrency:.2f}, expected close to {workers})"
    if run.worker_share >= 0.5:
        record_property("note", f"{plural(round(run.worker_share * run.calls), 'fit')} of "
                                f"{run.calls} ran in {plural(len(others), 'worker process', 'worker processes')}")
        return
    if main is not None and main.threads >= 2:
        raise Failure(f"your CPU tasks ran in 1 process, in {main.threads} threads: threads share "
                      f"one GIL, so only one ran Python at a time {figure}. Pure-Python CPU "
                      f"work needs processes (ProcessPoolExecutor)", "serial")
    raise Failure(f"all {run.calls} fits ran in the calling process, one after another "
                  f"{figure}: give them to {workers} worker processes", "serial")


def test_cpu_one_pool(student, exercise, record_property):
    """One pool of worker processes for the whole call, not a new one per item."""
    run, workers, fits = _cpu_structure(student, exercise)
    limit = timing.Thresholds.from_params(exercise.params.get("parallelism")).processes
    most = int(limit * workers + 1)
    pids = {w.pid for w in run.workers if not w.main}
    if run.error:
        raise Failure(f"run_cpu_tasks raised {run.error}", "error")
    if not pids:
        raise Failure(f"run_cpu_tasks(fit_peak, {fits} spectra, workers={workers}) started no "
                      f"worker process: this point is for one pool of processes that does "
                      f"all the fits", "serial")
    if len(pids) > most:
        raise Failure(f"your run_cpu_tasks started {len(pids)} worker processes for {fits} "
                      f"fits with workers={workers}: a new pool per item (or workers replaced "
                      f"after a few tasks, maxtasksperchild) pays a process start "
                      f"each time (more than the fit itself). Start one pool and give it all "
                      f"the items", "too_slow")
    record_property("note", f"{plural(len(pids), 'worker process', 'worker processes')} "
                            f"for workers={workers}")


# ------------------------------------------------------------------ I/O: threads

def _io_run(student: Any, exercise: Any) -> tuple[timing.Run, dict[str, Any]]:
    """One call of run_io_tasks on the timed runs, and what its evidence says."""
    p = exercise.params["io"]
    runs = list(range(p["first_run"], p["first_run"] + p["runs"]))
    workers = p["workers"]
    wl = _workloads()
    latency = sum(wl.LATENCY_S * (1 + r % 4) for r in runs)
    run, _ = timing.timed_call("student",
                               lambda: _choose(student).run_io_tasks(wl.fetch_metadata, runs,
                                                                     workers),
                               timing.evidence_dir(), FETCH)
    # Numbers under stable keys: grader/report/figures.py names and formats them.
    figures = {"fetches": len(runs), "workers": workers,
               "waiting_s": round(latency, 2), "wall_s": round(run.wall, 3),
               "in_flight_mean": round(run.concurrency, 2),
               "in_flight_max": _most_in_flight(run),
               "over_workers_share": round(_over(run, workers), 2),
               "processes": len({w.pid for w in run.workers})}
    return run, figures


def _sweep(run: timing.Run) -> list[tuple[float, int]]:
    """(time, fetches in flight from then on), over the call."""
    edges = sorted([(a, 1) for w in run.workers for a, _ in w.intervals]
                   + [(b, -1) for w in run.workers for _, b in w.intervals],
                   key=lambda e: (e[0], e[1]))
    out, level = [], 0
    for t, step in edges:
        level += step
        out.append((t, level))
    return out


def _most_in_flight(run: timing.Run) -> int:
    return max((level for _, level in _sweep(run)), default=0)


def _over(run: timing.Run, workers: int) -> float:
    """Share of the call's fetching span with more than `workers` fetches in flight."""
    points = _sweep(run)
    over = sum(t2 - t1 for (t1, level), (t2, _) in zip(points, points[1:]) if level > workers)
    return over / run.span if run.span > 0 else 0.0


def _io_verdict(student: Any, exercise: Any) -> tuple[timing.Run, dict[str, Any]]:
    """The best of two calls: a hiccup of the machine must not fail a good submission
    (a serial one stays at 1 fetch in flight however often it runs)."""
    if "io" not in _measured:
        need = exercise.params["io"]["concurrency"] * exercise.params["io"]["workers"]
        run, figures = _io_run(student, exercise)
        if not run.error and run.concurrency < need:
            again, more = _io_run(student, exercise)
            if again.concurrency > run.concurrency:
                run, figures = again, more
        _measured["io"] = (run, figures)
    return _measured["io"]


def test_io_overlaps(student, exercise, record_property):
    """The fetches wait at the same time, `workers` at once."""
    p = exercise.params["io"]
    run, figures = _io_verdict(student, exercise)
    workers, n = p["workers"], figures["fetches"]
    call = f"run_io_tasks(fetch_metadata, {n} runs, workers={workers})"
    if run.error:
        raise Failure(f"{call} raised {run.error}", "error", figures=figures)
    if run.calls < n:
        raise Failure(f"only {run.calls} of {n} fetches went through fetch_metadata() during "
                      f"{call}: call the function you are given for every item", "wrong",
                      figures=figures)
    need = p["concurrency"] * workers
    conc = run.concurrency
    if conc < need:
        raise Failure(
            f"your {n} fetches of 20-80 ms ({figures['waiting_s']:.2f} s of waiting) "
            f"took {run.wall:.2f} s with {workers} workers: they ran one after another "
            f"(fetches in flight at once: {conc:.2f} on average, expected close to {workers}). "
            f"A blocked fetch releases the GIL: {workers} threads can wait at the same time",
            "serial", figures=figures)
    over = _over(run, workers)
    if over > p["over_limit"]:
        raise Failure(
            f"up to {figures['in_flight_max']} fetches were in flight at once with "
            f"workers={workers} ({over:.0%} of the time more than {workers}): the service "
            f"takes at most `workers` connections from us; use a pool of `workers` threads",
            "wrong", figures=figures)
    record_property("details", {"figures": figures})
    record_property("note", f"{conc:.2f} fetches in flight on average with {workers} workers: "
                            f"{run.wall:.2f} s for {figures['waiting_s']:.2f} s of waiting")


def test_io_in_threads(student, exercise, record_property):
    """The fetches run in threads of the calling process, not in worker processes."""
    run, figures = _io_verdict(student, exercise)
    if run.error:
        raise Failure(f"run_io_tasks raised {run.error}", "error", figures=figures)
    elsewhere = [w for w in run.workers if not w.main]
    need = exercise.params["io"]["concurrency"] * exercise.params["io"]["workers"]
    if not elsewhere and run.concurrency < need:
        # One fetch after another in the calling process is the stub, not threads.
        raise Failure(f"the fetches ran one after another in the calling process "
                      f"({run.concurrency:.2f} in flight on average): this point is for "
                      f"threads of the calling process that wait at the same time", "serial",
                      figures=figures)
    if elsewhere:
        pids = {w.pid for w in elsewhere}
        calls = sum(w.calls for w in elsewhere)
        raise Failure(
            f"{plural(calls, 'fetch', 'fetches')} of {run.calls} ran in "
            f"{plural(len(pids), 'worker process', 'worker processes')}: they overlap, but "
            f"each process costs a start-up, and every run number and answer is pickled "
            f"across, for work that only waits ({run.wall:.2f} s in all). Waiting on I/O "
            f"releases the GIL: threads of your own process (ThreadPoolExecutor) overlap "
            f"the waits for free", "too_slow", figures=figures)
    record_property("details", {"figures": figures})
    record_property("note", f"every fetch ran in the calling process "
                            f"(pid {os.getpid()}, the grader's)")
