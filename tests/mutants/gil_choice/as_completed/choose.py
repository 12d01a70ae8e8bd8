"""Mutant: the right executors, results collected with as_completed (completion order)."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed


def run_cpu_tasks(func, items, workers):
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(func, item) for item in items]
        return [f.result() for f in as_completed(futures)]


def run_io_tasks(func, items, workers):
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(func, item) for item in items]
        return [f.result() for f in as_completed(futures)]

