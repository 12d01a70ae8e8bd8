"""The grader's workloads.py: the given kernels of gil_choice, instrumented.

Staged in place of exercises/gil_choice/workloads.py when grading. Both functions return
exactly what the given ones return (bench/bench_gil_choice.py compares them, bit for bit)
and note when they ran (grader/kernels/evidence.py):

- `fit_peak` (CPU-bound) records like detector.reconstruct: one Recorder per process,
  intervals of consecutive calls. Threads of one process calling it show as one PID.
- `fetch_metadata` (blocking I/O) is called by several threads of one process at once,
  and a Recorder is only exact for calls that follow one another. So each call borrows a
  Recorder of its own from a free list for its duration: a Recorder never holds two
  calls at once, and the fetches in flight at a moment are the Recorders whose intervals
  cover it. The list grows to the most fetches ever in flight at once in the process,
  never more (each Recorder maps a file: one per thread would grow with every pool).
"""
from __future__ import annotations

import math
import time

from grader.kernels.evidence import Recorder, clock

CHANNELS = (400, 600, 800, 1000)
ITERATIONS = 10
LATENCY_S = 0.02

FIT_KERNEL = "fit_peak"
FETCH_KERNEL = "fetch_metadata"

_note_fit = Recorder(FIT_KERNEL).note
_free: list[Recorder] = []  # fetch recorders not in a call now (pop/append: atomic)


def _noise(state: int) -> tuple[int, float]:
    state = (1664525 * state + 1013904223) & 0xFFFFFFFF
    return state, state / 4294967296.0


def fit_peak(seed: int) -> float:
    """The fitted centre (keV) of the line in calibration spectrum `seed`."""
    t0 = clock()
    # Keep identical to the given workloads.py, operation for operation.
    channels = CHANNELS[seed % len(CHANNELS)]
    state = seed * 2654435761 & 0xFFFFFFFF
    state, u = _noise(state)
    centre = channels * (0.3 + 0.4 * u)
    width = 4.0 + 6.0 * ((seed * 7) % 11) / 11.0
    counts = []
    for i in range(channels):
        state, u = _noise(state)
        expected = 20.0 + 500.0 * math.exp(-0.5 * ((i - centre) / width) ** 2)
        counts.append(expected + (u - 0.5) * 2.0 * math.sqrt(expected))
    background = sum(counts[:20]) / 20.0
    mean, sigma = channels / 2.0, channels / 4.0
    for _ in range(ITERATIONS):
        total = first = second = 0.0
        for i, c in enumerate(counts):
            window = math.exp(-0.5 * ((i - mean) / (2.0 * sigma)) ** 2)
            w = max(c - background, 0.0) * window
            total += w
            first += w * i
            second += w * i * i
        mean = first / total
        sigma = max(1.0, math.sqrt(max(second / total - mean * mean, 1.0)))
    value = round(mean * 0.5, 9)
    _note_fit(t0, clock())
    return value


def fetch_metadata(run: int) -> dict:
    """Run `run`'s conditions, as the web service answers them (after 20 to 80 ms)."""
    try:
        recorder = _free.pop()
    except IndexError:
        recorder = Recorder(FETCH_KERNEL)
    try:
        t0 = clock()
        time.sleep(LATENCY_S * (1 + run % 4))
        state, u = _noise(run * 40503 & 0xFFFFFFFF)
        state, v = _noise(state)
        value = {
            "run": run,
            "beam_energy_gev": (120, 180, 250)[run % 3],
            "magnet_current_a": round(800.0 + 400.0 * u, 1),
            "events": 10_000 + int(90_000 * v),
            "good": run % 7 != 3,
        }
        recorder.note(t0, clock())
    finally:
        _free.append(recorder)
    return value
