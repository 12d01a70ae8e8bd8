"""Hidden tests of parallel_histogram: right counts, and the work really in parallel.

The counts are compared with the serial loop under the bin rule of the README. The
parallelism tests do not rest on wall-clock time, which a neighbour's job on the machine
changes: the grader's detector.py records, inside reconstruct(), which process computed
and when (grader/kernels/evidence.py), and grader/timing/ judges that evidence over
interleaved rounds of the serial loop, the reference solution and the submission.
"""
from __future__ import annotations

import importlib
import multiprocessing
import random
import sys
from typing import Any, Callable

from grader import timing
from grader.cores import usable_cores
from grader.testing import Failure, not_judged, plural

# Before the student's module is imported (pytest imports this file first): a pool the
# student starts at import time must record too.
timing.evidence_dir()


# ------------------------------------------------------------------ the README's rule

def bin_index(value: float, bins: int, lo: float, hi: float) -> int | None:
    """The largest k below `bins` with lo + k*w <= value, for lo <= value < hi."""
    if not lo <= value < hi:
        return None
    width = (hi - lo) / bins
    k = min(int((value - lo) / width), bins - 1)
    while k > 0 and value < lo + k * width:
        k -= 1
    while k < bins - 1 and value >= lo + (k + 1) * width:
        k += 1
    return k


def serial_histogram(events: list, bins: int, lo: float, hi: float) -> list[int]:
    reconstruct = _detector().reconstruct
    counts = [0] * bins
    for event in events:
        k = bin_index(reconstruct(event), bins, lo, hi)
        if k is not None:
            counts[k] += 1
    return counts


def make_events(n: int, cells: int, seed: int) -> list[tuple[float, ...]]:
    """Deposits of `cells` cells per event, most small, a few large: a falling spectrum."""
    rng = random.Random(seed)
    return [tuple(rng.expovariate(0.4) for _ in range(cells)) for _ in range(n)]


def _detector() -> Any:
    # The staged detector.py (the grader's instrumented one), as the student imports it.
    return sys.modules.get("detector") or importlib.import_module("detector")


def _histogram(student: Any) -> Callable[..., Any]:
    return student.module("histogram").histogram


def _compare(got: Any, expected: list[int], call: str) -> None:
    if not isinstance(got, (list, tuple)) or not all(isinstance(c, int) for c in got):
        raise Failure(f"{call} returned {type(got).__name__} {str(got)[:60]}; "
                      f"expected a list of {len(expected)} counts (ints)")
    if len(got) != len(expected):
        raise Failure(f"{call} returned {plural(len(got), 'count')}; expected one per bin: "
                      f"{len(expected)}")
    wrong = [k for k, (g, e) in enumerate(zip(got, expected)) if g != e]
    if wrong:
        shown = ", ".join(f"bin {k}: {got[k]} instead of {expected[k]}" for k in wrong[:3])
        more = f" (and {len(wrong) - 3} more bins)" if len(wrong) > 3 else ""
        raise Failure(f"{call} differs from the serial loop in "
                      f"{plural(len(wrong), 'bin')}: {shown}{more}; "
                      f"total counted {sum(got):,} instead of {sum(expected):,}",
                      expected=expected[:200], got=list(got)[:200])


# ------------------------------------------------------------------ correctness

def test_counts_match_serial(student, exercise):
    """Thousands of events, several numbers of workers: the very counts of the serial loop."""
    p = exercise.params["counts"]
    events = make_events(p["events"], exercise.params["cells"], p["seed"])
    histogram = _histogram(student)
    expected = serial_histogram(events, p["bins"], p["lo"], p["hi"])
    for workers in p["workers"]:
        call = (f"histogram({len(events):,} events, bins={p['bins']}, lo={p['lo']:g}, "
                f"hi={p['hi']:g}, workers={workers})")
        _compare(histogram(list(events), p["bins"], p["lo"], p["hi"], workers), expected, call)


def _events_with_values(targets: list[float], cells: int) -> dict[float, tuple[float, ...]]:
    """An event whose reconstructed energy is exactly each target (values are 0.01 GeV steps).

    Built, not searched for: a random event scaled until the staged reconstruct() (with
    this run's calibration) gives the target. The energy grows with the scale, and every
    0.01 step of the rounded value is crossed, so a bisection on the scale finds it."""
    reconstruct = _detector().reconstruct
    rng = random.Random(2024)
    found: dict[float, tuple[float, ...]] = {}
    for target in targets:
        base = tuple(0.2 + rng.expovariate(0.4) for _ in range(cells))
        lo, hi = 0.0, 1.0
        while reconstruct(tuple(c * hi for c in base)) < target:
            hi *= 2.0
        for _ in range(200):
            mid = (lo + hi) / 2.0
            event = tuple(c * mid for c in base)
            value = reconstruct(event)
            if value == target:
                found[target] = event
                break
            lo, hi = (mid, hi) if value < target else (lo, mid)
    missing = set(targets) - set(found)
    assert not missing, f"the test found no event for {sorted(missing)}"  # the test's own fault
    return found


def test_edge_cases(student, exercise):
    """Bin edges exactly, values outside [lo, hi), one bin, no events, few events."""
    histogram = _histogram(student)
    cells = exercise.params["cells"]
    lo, hi, bins = 10.0, 20.0, 4  # w = 2.5: edges 10, 12.5, 15, 17.5, 20 are exact floats
    values = [9.99, 10.0, 10.01, 12.49, 12.5, 15.0, 17.5, 19.99, 20.0, 20.01, 3.0, 28.0]
    fine = [10.1, 10.2, 10.7, 11.1]
    by_value = _events_with_values(values + fine, cells)
    events = [by_value[v] for v in values] * 3

    cases = [
        ("values on the edges and just inside and outside [10, 20) (bins of 2.5)",
         events, bins, lo, hi, 2),
        ("the same with one bin", events, 1, lo, hi, 2),
        ("bins of 0.1 over [10, 11.2): in floating point, 10.1 is not 10 + 1 * 0.1",
         [by_value[v] for v in [10.0, 10.01, *fine, 12.49]] * 2, 12, 10.0, 11.2, 2),
        ("no events at all", [], bins, lo, hi, 2),
        ("one event", [by_value[12.5]], bins, lo, hi, 2),
        ("3 events and 4 workers", [by_value[v] for v in (10.0, 15.0, 19.99)], bins, lo, hi, 4),
        ("workers=1", events, bins, lo, hi, 1),
    ]
    for what, evts, b, a, z, workers in cases:
        expected = serial_histogram(evts, b, a, z)
        call = f"histogram with {what} (bins={b}, lo={a:g}, hi={z:g}, workers={workers})"
        _compare(histogram(list(evts), b, a, z, workers), expected, call)


# ------------------------------------------------------------------ parallelism

_measured: dict[str, Any] = {}


# The grader's own parallel version, run in the same rounds as the submission: the
# yardstick that shows whether this machine, right now, lets processes work at once. (The
# reference solution is not reachable from the sandbox: no path into the repository is.)
YARDSTICK_CHUNKS_PER_WORKER = 4


def _yardstick_chunk(events: list, bins: int, lo: float, hi: float) -> list[int]:
    return serial_histogram(events, bins, lo, hi)


def yardstick_histogram(events: list, bins: int, lo: float, hi: float,
                        workers: int) -> list[int]:
    size = max(1, -(-len(events) // (workers * YARDSTICK_CHUNKS_PER_WORKER)))
    tasks = [(events[i:i + size], bins, lo, hi) for i in range(0, len(events), size)]
    # fork: the workers find this module's functions without importing it again.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        partials = pool.starmap(_yardstick_chunk, tasks)
    return [sum(column) for column in zip(*partials)]


def _verdict(student: Any, exercise: Any) -> timing.Verdict:
    """One measurement shared by the three parallelism tests (it takes seconds)."""
    if "verdict" in _measured:
        return _measured["verdict"]
    p = exercise.params["timed"]
    thresholds = timing.Thresholds.from_params(exercise.params.get("parallelism"))
    cores = usable_cores()
    workers = cores.workers_for(thresholds.wish)
    histogram = _histogram(student)
    # The same work per worker whatever their number: a quarter of a second or so.
    events = make_events(p["events_per_worker"] * workers, exercise.params["cells"], p["seed"])
    args = (p["bins"], p["lo"], p["hi"])
    parts: dict[float, list] = {}
    expected: dict[int, list[int]] = {}
    mismatches: list[int] = []

    def part(share: float) -> list:
        if share not in parts:
            parts[share] = events[: round(len(events) * share)]
        return parts[share]

    def serial(share: float) -> list[int]:
        counts = serial_histogram(part(share), *args)
        expected[len(part(share))] = counts
        return counts

    def check_result(name: str, result: Any) -> None:
        if name == "student":
            mismatches.append(result)

    def reference(share: float) -> list[int]:
        # The serial loop runs on part of the work (timing.Thresholds.serial_share): the
        # counts of the whole come from the grader's own parallel version, chunk by chunk
        # the serial loop's.
        counts = yardstick_histogram(part(share), *args, workers)
        expected[len(part(share))] = counts
        return counts

    verdict = timing.measure(
        student=lambda share: histogram(part(share), *args, workers),
        serial=serial,
        reference=reference,
        workers=workers, cores=cores, thresholds=thresholds, kernel="reconstruct",
        check_result=check_result)
    wrong = sum(1 for r in mismatches if not isinstance(r, list) or r not in expected.values())
    _measured["wrong runs"] = (wrong, len(mismatches))
    verdict.figures["events"] = len(events)
    verdict.figures["timed_runs"] = len(mismatches)
    verdict.figures["timed_runs_right"] = len(mismatches) - wrong
    _measured["verdict"] = verdict
    return verdict


def _judge(name: str, student: Any, exercise: Any, record_property: Any) -> None:
    verdict = _verdict(student, exercise)
    check = verdict[name]
    details = verdict.details()
    wrong, runs = _measured["wrong runs"]
    if wrong:
        # Parallel work that does not give the serial loop's counts is not the work (the
        # staged reconstruct() is calibrated for this run, a private copy of it is not),
        # and its figures, read from a record the student's code may have written, no
        # evidence of anything: every parallelism test fails.
        raise Failure(f"{wrong} of {runs} timed runs of histogram() did not give the serial "
                      f"loop's counts: compute every value with reconstruct() from "
                      f"detector.py (do not copy it)", "wrong", **details)
    if not check.ok:
        raise Failure(check.message, check.verdict, **details)
    # Passing (or not judged): the figures still go to the report.
    record_property("details", details)
    if not check.judged:
        not_judged(record_property, check.reason or "busy", check.message)
        return
    record_property("note", check.message)
    if name == timing.PARALLEL:
        speed = verdict[timing.SPEEDUP]
        if not speed.ok:
            raise Failure(speed.message, speed.verdict, **details)
        record_property("speedup", speed.message)


def test_work_runs_in_parallel(student, exercise, record_property):
    """Several processes inside reconstruct() at once, close to the number of workers."""
    _judge(timing.PARALLEL, student, exercise, record_property)


def test_little_overhead(student, exercise, record_property):
    """The CPU time of the parallel run stays close to the serial loop's."""
    _judge(timing.OVERHEAD, student, exercise, record_property)


def test_one_pool(student, exercise, record_property):
    """No churn of worker processes: one pool, reused for all the events."""
    _judge(timing.ONE_POOL, student, exercise, record_property)
