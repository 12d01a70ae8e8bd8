"""The energy histogram, reconstructed in several processes at once."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

from detector import reconstruct


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


def _count_chunk(chunk: list[tuple[float, ...]], bins: int, lo: float, hi: float) -> list[int]:
    # Runs in a worker process: reconstruct there, send back only the bin counts.
    counts = [0] * bins
    for event in chunk:
        k = bin_index(reconstruct(event), bins, lo, hi)
        if k is not None:
            counts[k] += 1
    return counts


def histogram(events: list[tuple[float, ...]], bins: int, lo: float, hi: float,
              workers: int) -> list[int]:
    """Counts per bin of the reconstructed energies of `events`, using `workers` processes."""
    totals = [0] * bins
    if not events:
        return totals
    # A few chunks per worker: big enough to pay for pickling, enough to balance the load.
    size = -(-len(events) // (workers * 4))
    chunks = [events[i:i + size] for i in range(0, len(events), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for counts in pool.map(_count_chunk, chunks, repeat(bins), repeat(lo), repeat(hi)):
            for k, count in enumerate(counts):
                totals[k] += count
    return totals
