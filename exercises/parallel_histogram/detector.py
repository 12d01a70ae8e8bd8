"""The detector's event reconstruction: given, do not edit.

An event is the energy (GeV) deposited in each cell of one calorimeter tower. The cells
respond non-linearly: a cell that really received energy x reports
e = x + SATURATION * x**2 / (1 + x). `reconstruct` inverts that response cell by cell
with a few Newton steps, applies the calibration gain, and returns the event's energy
rounded to the calorimeter's 10 MeV resolution.

It is pure (same event, same value, in any process) and deliberately CPU-heavy: a few
microseconds of pure Python per call, so a million events keep one core busy for seconds.
"""
from __future__ import annotations

SATURATION = 0.35  # how strongly a cell's reported energy bends below the true one
GAIN = 1.0125  # calibration of the tower's energy scale
NEWTON_STEPS = 3


def reconstruct(event: tuple[float, ...]) -> float:
    """The calibrated energy of one event (GeV), a multiple of 0.01."""
    total = 0.0
    for reported in event:
        x = reported
        for _ in range(NEWTON_STEPS):
            one_plus = 1.0 + x
            residual = x + SATURATION * x * x / one_plus - reported
            slope = 1.0 + SATURATION * x * (2.0 + x) / (one_plus * one_plus)
            x -= residual / slope
        total += x
    return round(total * GAIN, 2)
