from multiprocessing import Pool

from detector import reconstruct


def _partial(args: tuple[list[tuple[float, ...]], int, float, float]) -> list[int]:
    chunk, bins, lo, hi = args
    w = (hi - lo) / bins
    out = [0] * bins
    for e in chunk:
        v = reconstruct(e)
        if lo <= v < hi:
            out[min(int((v - lo) / w), bins - 1)] += 1
    return out


def histogram(events: list[tuple[float, ...]], bins: int, lo: float, hi: float,
              workers: int) -> list[int]:
    if not events:
        return [0] * bins
    n_chunks = workers * 4
    step = -(-len(events) // n_chunks)
    jobs = [(events[i:i + step], bins, lo, hi) for i in range(0, len(events), step)]
    with Pool(processes=workers) as pool:
        parts = pool.map(_partial, jobs)
    return [sum(column) for column in zip(*parts)]
