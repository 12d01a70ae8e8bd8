"""The grader's detector.py: the given kernel, instrumented and calibrated for this run.

Staged in place of exercises/parallel_histogram/detector.py when grading. `reconstruct`
computes what the given one computes, operation for operation, with one difference: the
calibration gain of the run. Without CALIBRATION_ENV (outside grading) the gain is the
given one and the values are exactly the given ones (tests/test_timing.py compares them).
When grading, the hidden tests set CALIBRATION_ENV before any student code runs
(grader.timing.evidence_dir), and every process of the run (forked or spawned: the
environment is inherited) multiplies the gain by the same factor, 1.05 to 1.2: a private
copy of the given reconstruct() then gives other energies, so computing the values
anywhere but through the staged kernel (which records who computed what: see
grader/kernels/evidence.py) gives wrong counts.
"""
from __future__ import annotations

import os

from grader.kernels.evidence import CALIBRATION_ENV, Recorder, clock

SATURATION = 0.35
GAIN = 1.0125
NEWTON_STEPS = 3


def calibration(secret: str | None) -> float:
    """The run's factor on the gain: 1.0 without a secret, else 1.05 to 1.2."""
    if not secret:
        return 1.0
    try:
        value = int(secret, 16)
    except ValueError:
        value = sum(secret.encode())
    return 1.05 + (value % 1501) / 10_000


_note = Recorder("reconstruct").note


def _make(gain: float):  # a closure: the run's gain is no module attribute to copy
    def reconstruct(event: tuple[float, ...]) -> float:
        """The calibrated energy of one event (GeV), a multiple of 0.01."""
        t0 = clock()
        # Keep identical to the given detector.py, operation for operation: floating point
        # results depend on the order of the operations. (Inlined: a nested call would add
        # to the recording's cost.)
        total = 0.0
        for reported in event:
            x = reported
            for _ in range(NEWTON_STEPS):
                one_plus = 1.0 + x
                residual = x + SATURATION * x * x / one_plus - reported
                slope = 1.0 + SATURATION * x * (2.0 + x) / (one_plus * one_plus)
                x -= residual / slope
            total += x
        value = round(total * gain, 2)
        _note(t0, clock())
        return value
    reconstruct.__qualname__ = "reconstruct"  # pickled by name, as the given one is
    return reconstruct


reconstruct = _make(GAIN * calibration(os.environ.get(CALIBRATION_ENV)))
