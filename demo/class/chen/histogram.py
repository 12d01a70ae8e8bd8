"""The energy histogram, reconstructed in several processes at once."""
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

from detector import reconstruct


def _count_chunk(chunk: list[tuple[float, ...]], bins: int, lo: float, hi: float) -> list[int]:
    # Runs in a worker process: reconstruct there, send back only the bin counts.
    width = (hi - lo) / bins
    counts = [0] * bins
    for event in chunk:
        value = reconstruct(event)
        if lo <= value < hi:
            counts[min(int((value - lo) / width), bins - 1)] += 1
    return counts


def histogram(events: list[tuple[float, ...]], bins: int, lo: float, hi: float,
              workers: int) -> list[int]:
    totals = [0] * bins
    if not events:
        return totals
    # A few chunks per worker: big enough to pay for pickling, enough to balance the load.
    size = -(-len(events) // (workers * 4))
    chunks = [events[i:i + size] for i in range(0, len(events), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for counts in pool.map(_count_chunk, chunks, repeat(bins), repeat(lo), repeat(hi)):
            for k, c in enumerate(counts):
                totals[k] += c
    return totals
