"""A correct alternative: ProcessPoolExecutor, explicit chunks, partial histograms.

All the chunks are submitted first, then the partial counts are added up as they
complete. Slices of the list are pickled once each, so the data shipped is the events
once plus a few short lists of counts.
"""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed

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
    total = [0] * bins
    if not events:
        return total
    size = max(1, len(events) // (workers * 6))
    with ProcessPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(count, events[i:i + size], bins, lo, hi)
                   for i in range(0, len(events), size)]
        for future in as_completed(futures):
            for k, c in enumerate(future.result()):
                total[k] += c
    return total
