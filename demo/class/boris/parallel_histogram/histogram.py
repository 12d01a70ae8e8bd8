from __future__ import annotations

from multiprocessing import Pool

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


def _partial(job: tuple[list[tuple[float, ...]], int, float, float]) -> list[int]:
    chunk, bins, lo, hi = job
    out = [0] * bins
    for e in chunk:
        k = bin_index(reconstruct(e), bins, lo, hi)
        if k is not None:
            out[k] += 1
    return out


def histogram(events: list[tuple[float, ...]], bins: int, lo: float, hi: float,
              workers: int) -> list[int]:
    if not events:
        return [0] * bins
    step = -(-len(events) // (workers * 4))  # about 4 chunks per worker
    jobs = [(events[i:i + step], bins, lo, hi) for i in range(0, len(events), step)]
    with Pool(processes=workers) as pool:
        parts = pool.map(_partial, jobs)
    return [sum(column) for column in zip(*parts)]
