"""The fits the hidden tests hand to run_with_timeout: module-level, so they pickle by name.

A child process, started with fork or spawn, imports this module by its name `jobs`
(pytest puts hidden/ on sys.path, and multiprocessing gives a spawned child the parent's
sys.path). The jobs that end or block the process they run in take `grader_pid`, the
test process's pid: run there by mistake (a stub calling func directly, or a thread),
they return NOT_IN_A_CHILD after a while instead of ending or hanging the grader, and the
test says what would have happened.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

NOT_IN_A_CHILD = "jobs: this ran in the test's own process, not in a child process"
IN_PROCESS_SECONDS = 3.0  # how long a 'forever' job lasts when it runs in the test's process


class FitDidNotConverge(Exception):
    """What a fitting library raises: defined here, so the child and the parent both know it."""


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope and intercept: a fit that converges."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx
    return slope, my - slope * mx


def fit_summary(run: int, *, chi2: float = 12.5) -> dict:
    return {"run": run, "chi2": chi2, "ndf": 10, "pars": [1.0, 2.5, None], "converged": True}


def my_pid() -> int:
    return os.getpid()


def nothing() -> None:
    return None


def diverge(message: str) -> float:
    raise FitDidNotConverge(message)


def bad_input(message: str) -> float:
    raise ValueError(message)


def big_result(megabytes: int) -> bytes:
    """A result far larger than a pipe's buffer (64 KiB on Linux)."""
    block = bytes(range(256))
    return (block * (megabytes * 4096 + 1))[: megabytes * 2**20]


def _in_test_process(grader_pid: int) -> bool:
    return os.getpid() == grader_pid


def never_converges(grader_pid: int, pid_file: str | None = None) -> str:
    """Sleeps forever: a minimiser stuck waiting, using no CPU.

    With pid_file, the process it runs in writes its pid there first: the test knows the
    child by the pid the child itself reports, whatever the start method.
    """
    if pid_file and not _in_test_process(grader_pid):
        _write(pid_file, str(os.getpid()))
    deadline = time.monotonic() + IN_PROCESS_SECONDS
    while not _in_test_process(grader_pid) or time.monotonic() < deadline:
        time.sleep(0.05)
    return NOT_IN_A_CHILD


def spins_forever(grader_pid: int) -> str:
    """Pure Python busy loop: a minimiser oscillating between two points."""
    deadline = time.monotonic() + IN_PROCESS_SECONDS
    x = 0.0
    while not _in_test_process(grader_pid) or time.monotonic() < deadline:
        for _ in range(10_000):
            x = 3.7 * x * (1.0 - x) if 0.0 < x < 1.0 else 0.4
    return NOT_IN_A_CHILD


def stuck_in_c(n: int, grader_pid: int | None = None) -> int:
    """Long calls into C that hold the GIL: no other thread of its process runs meanwhile.

    In a child it never ends (one call after another), so a child nobody kills is still
    running whenever the test looks, however fast the machine sums; in the test's own
    process (a thread) it makes one call, seconds long, and returns."""
    total = sum(range(n))
    while grader_pid is not None and not _in_test_process(grader_pid):
        total = sum(range(n))
    return total


def ignores_sigterm(grader_pid: int, ready_file: str) -> str:
    """A library that ignores SIGTERM (some install their own handlers), then never returns."""
    if not _in_test_process(grader_pid):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _write(ready_file, str(os.getpid()))
    return never_converges(grader_pid)


def _write(path: str, text: str) -> None:
    with open(path + ".part", "w") as f:
        f.write(text)
    os.replace(path + ".part", path)  # whole or absent: the test never reads half a pid


def starts_a_helper(grader_pid: int, pid_file: str) -> str:
    """Starts an external program (a grandchild), writes its pid to pid_file, never returns."""
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                              stdin=subprocess.DEVNULL)
    _write(pid_file, str(helper.pid))
    return never_converges(grader_pid)


def exits_abruptly(grader_pid: int, code: int) -> str:
    """os._exit: the process ends at once, no exception, no message, nothing sent back."""
    if _in_test_process(grader_pid):
        return NOT_IN_A_CHILD
    os._exit(code)


def killed_by_signal(grader_pid: int) -> str:
    """The process dies of SIGKILL, as a segfault or the out-of-memory killer would end it."""
    if _in_test_process(grader_pid):
        return NOT_IN_A_CHILD
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(10)
    return "still alive after SIGKILL"


def finishes_after_returning(grader_pid: int, marker: str, seconds: float,
                             ignore_sigterm: bool = False) -> str:
    """Returns at once, but its process has work left: a library's non-daemon thread writes
    `marker` `seconds` later, and the process cannot exit before that thread ends (a log
    flushed, an output file closed). With ignore_sigterm, only SIGKILL ends it earlier.

    In the test's own process it writes the marker at once and starts nothing.
    """
    if _in_test_process(grader_pid):
        _write(marker, "written in the test's own process")
        return "fitted"
    if ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def finish() -> None:
        time.sleep(seconds)
        _write(marker, str(os.getpid()))

    threading.Thread(target=finish, name="library-writer", daemon=False).start()
    return "fitted"


def lingers_after_returning(grader_pid: int) -> str:
    """Returns at once, but its process never ends by itself: a library started a
    non-daemon thread that waits for ever, and a process waits for its non-daemon threads
    before it exits. Only a signal ends it.

    In the test's own process it starts nothing.
    """
    if _in_test_process(grader_pid):
        return "fitted"
    threading.Thread(target=threading.Event().wait, name="library-forever", daemon=False).start()
    return "fitted"
