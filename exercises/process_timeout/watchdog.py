"""Run one fit, and give up on it if it runs over its time.

This version runs the fit right here, in the caller's process, and simply waits: a fit
that never converges never returns, and the whole analysis farm waits with it. Nothing
inside this process can stop it: Python cannot kill a thread, and a call cannot be
abandoned half-way. Make it run the fit in a child process that can be killed (see
README.md).
"""
from __future__ import annotations

from typing import Callable, TypeVar

R = TypeVar("R")


def run_with_timeout(func: Callable[..., R], args: tuple, timeout: float) -> R:
    """func(*args) in a child process: its result, its exception, or TimeoutError after `timeout` s.

    Right now: func(*args) in this very process, and `timeout` is ignored.
    """
    return func(*args)
