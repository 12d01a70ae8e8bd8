"""Mutant: one process pool, but each chunk waited for right after it is submitted."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed



def _fit_chunk(func, chunk):
    return [func(item) for item in chunk]


def run_cpu_tasks(func, items, workers):
    items = list(items)
    size = max(1, -(-len(items) // (max(1, workers) * 4)))
    results = []
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        for i in range(0, len(items), size):
            results += pool.submit(_fit_chunk, func, items[i:i + size]).result()
    return results



def run_io_tasks(func, items, workers):
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return list(pool.map(func, items))

