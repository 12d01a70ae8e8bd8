"""Mutant: a new process pool for every item: a process start per fit, one fit at a time."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed


def run_cpu_tasks(func, items, workers):
    results = []
    for item in items:
        with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
            results.append(pool.submit(func, item).result())
    return results



def run_io_tasks(func, items, workers):
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return list(pool.map(func, items))

