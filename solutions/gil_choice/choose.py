"""Run the pipeline's tasks, each kind on the workers that speed it up.

CPU-bound pure Python holds the GIL while it runs: threads of one process would take
turns, so the fits go to a pool of processes, in a few chunks per worker (each task is
a pickled message each way). Blocking I/O releases the GIL while it waits: threads of
this process overlap their waits at no start-up or pickling cost, so the fetches go to
a pool of threads. Executor.map gives the results in the order of the items.
"""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Callable, TypeVar

A = TypeVar("A")
R = TypeVar("R")

# Several chunks per worker: a worker that finishes early takes the next one, so a slow
# chunk (or a busy core) does not leave the others idle at the end.
CHUNKS_PER_WORKER = 4


def run_cpu_tasks(func: Callable[[A], R], items: list[A], workers: int) -> list[R]:
    """[func(x) for x in items], in `workers` processes at once."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [func(item) for item in items]  # a process would only add its start-up
    workers = min(workers, len(items))
    chunksize = max(1, -(-len(items) // (workers * CHUNKS_PER_WORKER)))  # ceiling
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items, chunksize=chunksize))


def run_io_tasks(func: Callable[[A], R], items: list[A], workers: int) -> list[R]:
    """[func(x) for x in items], `workers` of them waiting at once, in threads."""
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return list(pool.map(func, items))
