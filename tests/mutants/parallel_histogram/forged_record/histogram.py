"""Attack (issue 17, item 1): the main process computes serially with a private copy of
reconstruct() while pool workers call the staged kernel's recorder with fake timings, so
that the record shows workers computing at once."""
import multiprocessing
import time

import detector

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


SATURATION, GAIN, NEWTON_STEPS = 0.35, 1.0125, 3


def private_reconstruct(event):
    """A private copy of the given detector.reconstruct (same constants, no recording)."""
    total = 0.0
    for reported in event:
        x = reported
        for _ in range(NEWTON_STEPS):
            one_plus = 1.0 + x
            residual = x + SATURATION * x * x / one_plus - reported
            slope = 1.0 + SATURATION * x * (2.0 + x) / (one_plus * one_plus)
            x -= residual / slope
        total += x
    return round(total * GAIN, 2)


def fake_record(calls, spacing_ns=6_000):
    """Call the staged kernel's recorder with made-up timings: `calls` calls of 5 us,
    back to back, as if this worker had been reconstructing events; then wait that long."""
    note = detector._note
    t = time.perf_counter_ns()
    for i in range(calls):
        note(t + i * spacing_ns, t + i * spacing_ns + 5_000)
    time.sleep(max(0.0, (t + calls * spacing_ns - time.perf_counter_ns()) / 1e9))
    return calls


def histogram(events, bins, lo, hi, workers):
    counts = [0] * bins
    with multiprocessing.Pool(workers) as pool:
        pending = pool.map_async(fake_record, [len(events) // workers] * workers)
        for event in events:
            k = bin_index(private_reconstruct(event), bins, lo, hi)
            if k is not None:
                counts[k] += 1
        pending.get()
    return counts
