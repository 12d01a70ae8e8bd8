"""Fill the energy histogram of a run of the detector.

This loop is correct but serial: one core reconstructs every event while the others
idle. Make `histogram` use `workers` processes at once (see README.md); keep
`bin_index`: it is the rule the counts are checked against.
"""
from __future__ import annotations

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


def histogram(events: list[tuple[float, ...]], bins: int, lo: float, hi: float,
              workers: int) -> list[int]:
    """Counts per bin of the reconstructed energies of `events`, using `workers` processes."""
    counts = [0] * bins
    for event in events:
        k = bin_index(reconstruct(event), bins, lo, hi)
        if k is not None:
            counts[k] += 1
    return counts
