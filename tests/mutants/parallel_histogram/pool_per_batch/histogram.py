"""Mutant: a new pool for every batch of 1,000 events (process start-up each time)."""
from multiprocessing import Pool

from detector import reconstruct

BATCH = 1000


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
    total = [0] * bins
    for start in range(0, len(events), BATCH):
        batch = events[start:start + BATCH]
        size = max(1, -(-len(batch) // workers))
        with Pool(workers) as pool:
            parts = pool.starmap(count, [(batch[i:i + size], bins, lo, hi)
                                         for i in range(0, len(batch), size)])
        for part in parts:
            total = [a + b for a, b in zip(total, part)]
    return total
