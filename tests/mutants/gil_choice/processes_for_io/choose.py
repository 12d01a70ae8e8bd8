"""Mutant: processes for both kinds of work. The fetches overlap, at a process start each."""
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
    items = list(items)
    if not items:
        return []
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return list(pool.map(func, items))

