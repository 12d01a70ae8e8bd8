"""Fill the energy histogram of a run of the detector, in `workers` processes at once.

The events are cut into a few chunks per worker; one pool reconstructs and counts each
chunk in a worker process, and only the chunk goes there and only its counts come back.
Processes, not threads: reconstruct() is pure Python, and the threads of one process
take turns holding the GIL.
"""
from __future__ import annotations

import multiprocessing

from detector import reconstruct

# Several chunks per worker: a worker that finishes early takes the next one, so a slow
# chunk (or a busy core) does not leave the others idle at the end.
CHUNKS_PER_WORKER = 4


def bin_index(value: float, bins: int, lo: float, hi: float) -> int | None:
    """The bin of `value`, or None when it is outside [lo, hi).

    Bin k holds the values with lo + k*w <= value < lo + (k+1)*w, where
    w = (hi - lo) / bins: the largest k below `bins` with lo + k*w <= value.
    """
    if not lo <= value < hi:
        return None
    width = (hi - lo) / bins
    k = min(int((value - lo) / width), bins - 1)
    # (value - lo) / width can round across an edge: settle it with the rule itself.
    while k > 0 and value < lo + k * width:
        k -= 1
    while k < bins - 1 and value >= lo + (k + 1) * width:
        k += 1
    return k


def count_chunk(events: list[tuple[float, ...]], bins: int, lo: float, hi: float) -> list[int]:
    """The serial loop, on one chunk: runs in a worker process."""
    counts = [0] * bins
    for event in events:
        k = bin_index(reconstruct(event), bins, lo, hi)
        if k is not None:
            counts[k] += 1
    return counts


def histogram(events: list[tuple[float, ...]], bins: int, lo: float, hi: float,
              workers: int) -> list[int]:
    """Counts per bin of the reconstructed energies of `events`, using `workers` processes."""
    if workers <= 1 or len(events) <= 1:
        return count_chunk(events, bins, lo, hi)
    size = -(-len(events) // (workers * CHUNKS_PER_WORKER))  # ceiling division
    tasks = [(events[i:i + size], bins, lo, hi) for i in range(0, len(events), size)]
    with multiprocessing.Pool(min(workers, len(tasks))) as pool:
        partials = pool.starmap(count_chunk, tasks)
    return [sum(column) for column in zip(*partials)]
