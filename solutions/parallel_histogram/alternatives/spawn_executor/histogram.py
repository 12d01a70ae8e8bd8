"""A correct alternative that starts its workers with spawn (the default on macOS and
Windows): fresh interpreters that import this module, slower to start than fork.

ProcessPoolExecutor.map over explicit chunks, partial histograms added up.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

from detector import reconstruct


def bin_index(value: float, bins: int, lo: float, hi: float) -> int | None:
    if not lo <= value < hi:
        return None
    width = (hi - lo) / bins
    k = min(int((value - lo) / width), bins - 1)
    while k > 0 and value < lo + k * width:
        k -= 1
    while k < bins - 1 and value >= lo + (k + 1) * width:
        k += 1
    return k


def count(events: list[tuple[float, ...]], bins: int, lo: float, hi: float) -> list[int]:
    counts = [0] * bins
    for event in events:
        k = bin_index(reconstruct(event), bins, lo, hi)
        if k is not None:
            counts[k] += 1
    return counts


def histogram(events: list[tuple[float, ...]], bins: int, lo: float, hi: float,
              workers: int) -> list[int]:
    if workers <= 1 or len(events) <= 1:
        return count(events, bins, lo, hi)
    size = -(-len(events) // (workers * 4))
    chunks = [events[i:i + size] for i in range(0, len(events), size)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        parts = list(executor.map(count, chunks, repeat(bins), repeat(lo), repeat(hi)))
    return [sum(column) for column in zip(*parts)]
