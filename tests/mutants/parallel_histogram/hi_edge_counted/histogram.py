"""Mutant: a value equal to hi lands in the last bin (<= hi instead of < hi). Parallel and fast."""
import multiprocessing

from detector import reconstruct


def count_chunk(events, bins, lo, hi):
    counts = [0] * bins
    width = (hi - lo) / bins
    for event in events:
        value = reconstruct(event)
        if lo <= value <= hi:
            counts[min(int((value - lo) / width), bins - 1)] += 1
    return counts


def histogram(events, bins, lo, hi, workers):
    if workers <= 1 or len(events) <= 1:
        return count_chunk(events, bins, lo, hi)
    size = -(-len(events) // (workers * 4))
    tasks = [(events[i:i + size], bins, lo, hi) for i in range(0, len(events), size)]
    with multiprocessing.Pool(min(workers, len(tasks))) as pool:
        partials = pool.starmap(count_chunk, tasks)
    return [sum(column) for column in zip(*partials)]
