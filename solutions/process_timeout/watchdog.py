"""Run one fit in a child process, and stop it if it runs over its time.

A thread cannot be stopped from outside: Python has no way to kill a thread, and a thread
stuck in a long C call holds the GIL so the others barely run. A process can be stopped:
the kernel ends it on a signal, whatever it is doing. So the fit runs in a child process,
its outcome (the result, or the exception) comes back pickled through a pipe, and on
overrun the parent kills the child and everything the child started.

Outcomes, as the README documents them:
- the fit returns: its result;
- the fit raises: the same exception (type and message), its traceback from the child
  attached as __cause__;
- the fit runs over `timeout`: TimeoutError, the child and its process group killed;
- the child dies without sending anything (os._exit, a segfault, SIGKILL from the
  out-of-memory killer): ChildProcessError naming the exit code or the signal.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import time
import traceback
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, TypeVar

R = TypeVar("R")

# After SIGTERM, how long the child gets to leave before SIGKILL. Short: the whole stop
# must fit in the half second the contract allows past the timeout.
TERMINATE_GRACE = 0.1
# After the child sent its outcome, how long it may take to exit (flushing, atexit).
EXIT_GRACE = 1.0


class RemoteTraceback(Exception):
    """The traceback of an exception raised in the child, as text (tracebacks do not pickle)."""

    def __str__(self) -> str:
        return self.args[0]


def _child(writer: Connection, func: Callable[..., Any], args: tuple) -> None:
    # Our own process group: killpg then reaches whatever the fit starts (a helper program,
    # a pool of its own), not just this process. The parent makes the same call, so the
    # group exists whichever of the two runs first.
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    try:
        outcome: tuple = ("result", func(*args))
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the parent decides
        outcome = ("error", exc, traceback.format_exc())
    try:
        data = pickle.dumps(outcome)
        pickle.loads(data)  # an exception with a custom __init__ pickles but does not unpickle
    except Exception as problem:
        what = "result" if outcome[0] == "result" else f"exception {type(outcome[1]).__name__}"
        text = outcome[2] if outcome[0] == "error" else ""
        data = pickle.dumps(("error", RuntimeError(
            f"the fit's {what} could not be sent back from the child process: {problem}"), text))
    writer.send_bytes(data)
    writer.close()


def _own_group(process: multiprocessing.Process) -> None:
    try:
        os.setpgid(process.pid, process.pid)
    except OSError:
        pass  # the child already did it, or exec'd (spawn) and does it itself


def _signal_group(process: multiprocessing.Process, signum: int) -> None:
    """Send signum to the child's process group, or to the child alone if it has no group yet."""
    try:
        os.killpg(process.pid, signum)  # the group outlives the child while a member is left
    except (ProcessLookupError, PermissionError):
        if process.exitcode is None:  # not reaped yet, so its pid cannot belong to another process
            try:
                os.kill(process.pid, signum)
            except ProcessLookupError:
                pass


def _stop(process: multiprocessing.Process) -> None:
    """Terminate, then kill: the child, and everything in its process group."""
    if process.is_alive():
        _signal_group(process, signal.SIGTERM)  # a chance to clean up, if it handles SIGTERM
        process.join(TERMINATE_GRACE)
    # SIGKILL cannot be caught or ignored. Sent to the group even when the child is gone:
    # its helpers may have ignored SIGTERM.
    _signal_group(process, signal.SIGKILL)
    process.join()  # reaps it: no zombie left in the process table


def _exit_description(exitcode: int | None) -> str:
    if exitcode is None:
        return "it did not exit"
    if exitcode < 0:
        try:
            return f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def run_with_timeout(func: Callable[..., R], args: tuple, timeout: float) -> R:
    """func(*args) in a child process: its result, its exception, or TimeoutError after `timeout` s."""
    name = getattr(func, "__qualname__", repr(func))
    reader, writer = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=_child, args=(writer, func, tuple(args)),
                                      name=f"run_with_timeout:{name}")
    try:
        process.start()
        _own_group(process)
        # Only the child may hold the writing end: then, if it dies, reading gives EOF
        # at once instead of waiting for a message that can never come.
        writer.close()
        # Wait for a message or for the child's death, whichever comes first. The message
        # is read before joining: a child cannot exit until a large result has left the
        # pipe, so joining first would wait for ever.
        ready = wait([reader, process.sentinel], timeout)
        if not ready:
            _stop(process)
            raise TimeoutError(f"{name} did not finish within {timeout:g} s; its process "
                               f"(pid {process.pid}) was killed")
        try:
            data = reader.recv_bytes()
        except EOFError:
            process.join()
            raise ChildProcessError(
                f"the child process running {name} died without sending a result "
                f"({_exit_description(process.exitcode)})") from None
        process.join(EXIT_GRACE)
    finally:
        reader.close()
        if process.pid is not None:  # started: never leave it behind (KeyboardInterrupt too)
            _stop(process)
    outcome = pickle.loads(data)
    if outcome[0] == "result":
        return outcome[1]
    _, exc, text = outcome
    raise exc from RemoteTraceback(f"\n\"\"\"\n{text}\"\"\"" if text else "(no traceback)")
