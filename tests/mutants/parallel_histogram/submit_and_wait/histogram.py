"""Mutant: each chunk's future is waited for right after it is submitted."""
from concurrent.futures import ProcessPoolExecutor

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
    with ProcessPoolExecutor(max_workers=workers) as executor:
        for i in range(0, len(events), size):
            part = executor.submit(count, events[i:i + size], bins, lo, hi).result()
            total = [a + b for a, b in zip(total, part)]
    return total
