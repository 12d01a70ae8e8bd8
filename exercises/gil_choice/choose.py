"""Run the pipeline's tasks: the CPU-bound fits and the blocking metadata fetches.

Both functions are correct and serial: one task after another, whatever `workers` says.
Make each one use the kind of worker that speeds its kind of work up (see README.md),
and keep the results in the order of `items`.
"""
from __future__ import annotations

from typing import Callable, TypeVar

A = TypeVar("A")
R = TypeVar("R")


def run_cpu_tasks(func: Callable[[A], R], items: list[A], workers: int) -> list[R]:
    """[func(x) for x in items], for a CPU-bound pure-Python `func`, with `workers` workers."""
    return [func(item) for item in items]


def run_io_tasks(func: Callable[[A], R], items: list[A], workers: int) -> list[R]:
    """[func(x) for x in items], for a `func` that blocks on I/O, with `workers` workers."""
    return [func(item) for item in items]
