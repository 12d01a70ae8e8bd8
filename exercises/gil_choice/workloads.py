"""The pipeline's two kinds of work: given, do not edit.

`fit_peak(seed)` fits one peak of the calibration spectra: it builds the spectrum from
the seed (a Gaussian line on a flat background, with deterministic noise) and fits the
line's centre with a few iterations of weighted moments. Pure Python from start to end:
a few milliseconds of CPU per call (spectra with more channels take longer), holding
the GIL all the while.

`fetch_metadata(run)` asks the run-conditions web service for one run's metadata. It
spends its time waiting for the answer (20 to 80 ms, depending on the run), during which
it holds no lock and needs no CPU: blocking I/O releases the GIL.

Both are pure: the same argument gives the same result, in any thread or process.
"""
from __future__ import annotations

import math
import time

CHANNELS = (400, 600, 800, 1000)  # channels per spectrum: the fit's cost grows with them
ITERATIONS = 10  # weighted-moment iterations per fit
LATENCY_S = 0.02  # the web service answers run r in LATENCY_S * (1 + r % 4) seconds


def _noise(state: int) -> tuple[int, float]:
    """One step of a 32-bit linear congruential generator: the new state, a value in [0, 1)."""
    state = (1664525 * state + 1013904223) & 0xFFFFFFFF
    return state, state / 4294967296.0


def fit_peak(seed: int) -> float:
    """The fitted centre (keV) of the line in calibration spectrum `seed`."""
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
    return round(mean * 0.5, 9)  # 0.5 keV per channel


def fetch_metadata(run: int) -> dict:
    """Run `run`'s conditions, as the web service answers them (after 20 to 80 ms)."""
    time.sleep(LATENCY_S * (1 + run % 4))
    state, u = _noise(run * 40503 & 0xFFFFFFFF)
    state, v = _noise(state)
    return {
        "run": run,
        "beam_energy_gev": (120, 180, 250)[run % 3],
        "magnet_current_a": round(800.0 + 400.0 * u, 1),
        "events": 10_000 + int(90_000 * v),
        "good": run % 7 != 3,
    }
