"""Another correct answer: the spawn start method and a Queue, polled in short steps.

Spawn starts a fresh interpreter for the child (the default on macOS and Windows): func
travels by module and name, so this also shows the fits reach a spawned child. The
parent never blocks for long: it alternates short waits on the queue with a look at
whether the child is still alive, until the deadline.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
from typing import Callable, TypeVar

R = TypeVar("R")
STEP = 0.02  # s: how often the parent looks at the child while it waits


def _child(results, func, args):
    os.setpgid(0, 0)  # a group of its own: the helpers it starts can be killed with it
    try:
        results.put(("result", func(*args)))
    except BaseException as exc:
        results.put(("error", exc))


def _signal_group(process, signum):
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        if process.exitcode is None:
            try:
                os.kill(process.pid, signum)
            except ProcessLookupError:
                pass


def _stop(process):
    if process.is_alive():
        _signal_group(process, signal.SIGTERM)
        process.join(0.1)
    _signal_group(process, signal.SIGKILL)
    process.join()


def run_with_timeout(func: Callable[..., R], args: tuple, timeout: float) -> R:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    process = ctx.Process(target=_child, args=(results, func, tuple(args)))
    deadline = time.monotonic() + timeout
    try:
        process.start()
        while True:
            try:
                kind, value = results.get(timeout=max(0.0, min(STEP, deadline - time.monotonic())))
                break
            except queue.Empty:
                pass
            if not process.is_alive():  # ended: its message, if any, is already in the pipe
                try:
                    kind, value = results.get(timeout=STEP)
                    break
                except queue.Empty:
                    raise ChildProcessError(f"the child running {func.__name__} died without a "
                                            f"result (exit code {process.exitcode})") from None
            if time.monotonic() >= deadline:
                _stop(process)
                raise TimeoutError(f"{func.__name__} did not finish within {timeout:g} s")
        process.join(1.0)
    finally:
        if process.pid is not None:
            _stop(process)
        results.close()
        results.join_thread()
    if kind == "error":
        raise value
    return value
