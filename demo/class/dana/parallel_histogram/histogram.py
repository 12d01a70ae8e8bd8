from detector import reconstruct


def histogram(events: list[tuple[float, ...]], bins: int, lo: float, hi: float,
              workers: int) -> list[int]:
    # TODO use the workers (the counts are right, it is just slow)
    width = (hi - lo) / bins
    counts = [0] * bins
    for event in events:
        value = reconstruct(event)
        if lo <= value < hi:
            counts[min(int((value - lo) / width), bins - 1)] += 1
    return counts
