"""Mutant: the fits in processes, the fetches still one after another."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed



def run_cpu_tasks(func, items, workers):
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    workers = min(workers, len(items))
    chunksize = max(1, -(-len(items) // (workers * 4)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items, chunksize=chunksize))


def run_io_tasks(func, items, workers):
    return [func(item) for item in items]

