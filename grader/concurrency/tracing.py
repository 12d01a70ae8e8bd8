"""Installing a trace function in a thread, safely while other threads do the same.

Every controlled task and every stress thread installs the engine's tracer with
`sys.settrace` as it starts and removes it as it ends, so several threads of one test
process install and remove trace functions at about the same moment. On CPython 3.11 and
earlier, `sys.settrace` guards itself with one process-wide flag (`_PyEval_SetTrace`'s
static ``reentrant``, python/cpython#98257): while any thread is inside it, a second
thread's call fails with ``RuntimeError: Cannot install a trace function while another
trace function is being installed``. The window is wide in a test process: the call runs
the grader's audit hook (Python code, where the GIL changes hands, every microsecond under
stress), and the interpreter makes the same call when it drops a tracer that raised (every
controlled thread unwinding at the end of a schedule). A thread that lost this race used
to die before running the student's code, and its share of the work was reported as lost
by the student: a false "race" on correct code.

`install` takes the engine's own calls one at a time (a real lock) and retries a call that
collided with one it does not control; a tracer that still cannot be installed raises
`TracerUnavailable`, which the engines turn into "not judged by this run", never into a
verdict on the student's code. From 3.12 on, `sys.settrace` has no such flag and the
first call succeeds.
"""
from __future__ import annotations

import _thread
import sys
import time
from typing import Any, Callable

# Seconds a collided call keeps retrying: far above the microseconds another thread's
# call lasts, even on a loaded machine.
PATIENCE = 2.0

_installing = _thread.allocate_lock()


class TracerUnavailable(Exception):
    """The engine could not install (or remove) its tracer in this thread: the run that
    needed it judged nothing."""


def install(tracer: Callable[..., Any] | None) -> int:
    """`sys.settrace(tracer)` for the calling thread; returns how many calls collided
    with another thread's before this one succeeded (0 almost always)."""
    deadline = time.monotonic() + PATIENCE
    collisions = 0
    pause = 1e-5
    while True:
        with _installing:
            try:
                sys.settrace(tracer)
                return collisions
            except RuntimeError as exc:  # the other call was not ours (see the docstring)
                error = exc
        collisions += 1
        if time.monotonic() >= deadline:
            what = "install" if tracer is not None else "remove"
            raise TracerUnavailable(
                f"could not {what} the engine's tracer in this thread after {collisions} "
                f"attempts in {PATIENCE:g} s: {error}") from error
        time.sleep(pause)
        pause = min(pause * 2, 0.01)


def remove() -> None:
    """Take the calling thread's tracer off as it finishes; if even that cannot be done,
    the tracer ends with the thread a moment later, so there is nothing to report."""
    try:
        install(None)
    except TracerUnavailable:
        pass
