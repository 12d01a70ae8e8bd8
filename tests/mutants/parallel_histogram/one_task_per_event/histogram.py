"""Mutant: Pool.map with chunksize=1, one task (two messages) per event."""
from multiprocessing import Pool

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


def count(events, bins, lo, hi):
    counts = [0] * bins
    for event in events:
        k = bin_index(reconstruct(event), bins, lo, hi)
        if k is not None:
            counts[k] += 1
    return counts


def histogram(events, bins, lo, hi, workers):
    counts = [0] * bins
    with Pool(workers) as pool:
        for value in pool.map(reconstruct, events, chunksize=1):
            k = bin_index(value, bins, lo, hi)
            if k is not None:
                counts[k] += 1
    return counts
