"""Wasted parallel work (issue 17, item 1): every worker computes the whole histogram and
the first answer is kept. Right counts, several processes busy at once, no gain at all
(speedup about 0.44 with 2 workers)."""
import multiprocessing

from detector import reconstruct


def bin_index(value, bins, lo, hi):
    if not lo <= value < hi:
        return None
    width = (hi - lo) / bins
    k = min(int((value - lo) / width), bins - 1)
    while k > 0 and value < lo + k * width:
        k -= 1
    while k < bins - 1 and value >= lo + (k + 1) * width:
        k += 1
    return k


def count_all(events, bins, lo, hi):
    counts = [0] * bins
    for event in events:
        k = bin_index(reconstruct(event), bins, lo, hi)
        if k is not None:
            counts[k] += 1
    return counts


def histogram(events, bins, lo, hi, workers):
    if workers <= 1:
        return count_all(events, bins, lo, hi)
    with multiprocessing.Pool(workers) as pool:
        results = pool.starmap(count_all, [(events, bins, lo, hi)] * workers)
    return results[0]
