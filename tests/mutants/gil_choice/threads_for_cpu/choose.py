"""Mutant: threads for both kinds of work. The fits take turns on the GIL."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed


def run_cpu_tasks(func, items, workers):
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(func, items))



def run_io_tasks(func, items, workers):
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return list(pool.map(func, items))

