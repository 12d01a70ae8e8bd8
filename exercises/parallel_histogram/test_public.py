"""Tests you can run yourself: `python -m pytest test_public.py`.

They check the counts against the serial loop on small inputs. They do not check that
your code runs in parallel: the grader does (see "How it is graded" in README.md).
"""
import random

import pytest

from detector import reconstruct
from histogram import bin_index, histogram


def serial(events, bins, lo, hi):
    counts = [0] * bins
    for event in events:
        k = bin_index(reconstruct(event), bins, lo, hi)
        if k is not None:
            counts[k] += 1
    return counts


def make_events(n, seed=1):
    rng = random.Random(seed)
    return [tuple(rng.expovariate(0.4) for _ in range(5)) for _ in range(n)]


def find_event(value, tries=100_000):
    """An event whose reconstructed energy is exactly `value` (energies are 0.01 steps)."""
    rng = random.Random(7)
    for _ in range(tries):
        event = tuple(rng.expovariate(0.4) for _ in range(5))
        if reconstruct(event) == value:
            return event
    raise LookupError(value)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_counts_match_the_serial_loop(workers):
    events = make_events(2000)
    assert histogram(events, 40, 2.0, 22.0, workers) == serial(events, 40, 2.0, 22.0)


def test_bin_edges_belong_to_the_bin_above_and_hi_is_outside():
    lo, hi = 10.0, 20.0
    events = [find_event(v) for v in (10.0, 12.5, 19.99, 20.0, 9.99)]
    # bins of 2.5: 10.0 -> bin 0, 12.5 -> bin 1, 19.99 -> bin 3; 20.0 and 9.99 are outside
    assert histogram(events, 4, lo, hi, 2) == [1, 1, 0, 1]


def test_values_outside_the_range_are_not_counted():
    events = make_events(500)
    counts = histogram(events, 10, 5.0, 6.0, 2)
    inside = sum(1 for e in events if 5.0 <= reconstruct(e) < 6.0)
    assert sum(counts) == inside


def test_one_bin():
    events = make_events(300)
    assert histogram(events, 1, 0.0, 100.0, 2) == [300]


def test_no_events():
    assert histogram([], 5, 0.0, 10.0, 2) == [0, 0, 0, 0, 0]


def test_more_workers_than_events():
    events = make_events(3)
    assert histogram(events, 8, 0.0, 40.0, 4) == serial(events, 8, 0.0, 40.0)
