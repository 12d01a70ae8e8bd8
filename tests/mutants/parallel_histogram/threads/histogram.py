"""Mutant: threads for CPU-bound work. Correct counts; the GIL lets one thread run at a time."""
from concurrent.futures import ThreadPoolExecutor

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
    total = [0] * bins
    size = max(1, len(events) // (workers * 4))
    with ThreadPoolExecutor(max_workers=workers) as executor:
        parts = executor.map(count, [events[i:i + size] for i in range(0, len(events), size)],
                             [bins] * len(events), [lo] * len(events), [hi] * len(events))
        for part in parts:
            total = [a + b for a, b in zip(total, part)]
    return total
