"""Hidden tests of process_timeout: the fit runs in a child process that can be stopped.

Every call is timed with time.monotonic around run_with_timeout, in the test's main
thread. A call that should have raised TimeoutError and has not come back long after the
bound is rescued: the test kills the child processes it started, so that a `join()`
without a timeout returns, and the test reports what happened instead of hanging.
Processes left behind are judged the same way under every start method (fork, spawn,
forkserver: 3.14's default on Linux), never by a command line, which a forkserver's
children share with it:
- running: the test process's descendants (psutil, recursively: a forkserver's children
  are its grandchildren) that were not there before the call, and the pid a fit reports
  from inside its child; multiprocessing's own helper servers (the resource tracker, the
  forkserver), the test process's direct children running multiprocessing's helper
  code, are not the fit's and do not count;
- never joined: a zombie among those descendants (fork, spawn), or a multiprocessing
  Process started during the call whose exit nobody collected (join, is_alive), the only
  trace a forkserver, which reaps its children itself, leaves of a missing join.

The fits come from jobs.py beside this file. Those that end or block their process check
whether they run in the test's own process (a stub that calls func directly, a thread):
there they return jobs.NOT_IN_A_CHILD after a few seconds instead.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import psutil
import pytest

import jobs
from grader.testing import Failure, plural

SLACK = 0.5  # the contract: TimeoutError within timeout + 0.5 s
RESCUE_AFTER = 2.5  # s past the bound: the test kills the child to get the call back
EXIT_GRACE = 2.0  # the contract: a child that sent its result may linger this long at most
HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


# ------------------------------------------------------------------ processes

def _descendants() -> dict[tuple[int, float], psutil.Process]:
    found = {}
    for proc in psutil.Process().children(recursive=True):
        try:
            found[(proc.pid, proc.create_time())] = proc
        except psutil.Error:
            continue
    return found


def _is_helper(proc: psutil.Process) -> bool:
    """multiprocessing's resource tracker or forkserver: a direct child running its code.

    A child the forkserver forks for a fit has the forkserver's command line too, but the
    forkserver, not the test process, is its parent: it is the fit's, and it counts.
    """
    try:
        return proc.ppid() == os.getpid() and any(h in " ".join(proc.cmdline()) for h in HELPERS)
    except psutil.Error:
        return False


def _started_processes() -> set[int]:
    """ids of the multiprocessing Process objects started here and not yet joined."""
    return {id(p) for p in multiprocessing.process._children}


def _unjoined(before: set[int]) -> list[multiprocessing.process.BaseProcess]:
    """Processes started since `before` whose exit nobody collected (join, is_alive, poll).

    Under a forkserver no zombie shows a missing join (the server reaps its children
    itself); multiprocessing's own list of children still holds the Process object.
    """
    found = []
    for process in list(multiprocessing.process._children):
        popen = getattr(process, "_popen", None)
        if id(process) not in before and popen is not None and popen.returncode is None:
            found.append(process)
    return found


def _left_behind(before: dict, reported: tuple[int, ...] = (),
                 started: set[int] | None = None) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """(running, not joined): new descendants, multiprocessing's helpers left out; the
    pids the fits reported from their children; and, with `started` (the Process objects
    before the call), those multiprocessing started since and nobody joined."""
    running, zombies = [], []
    for key, proc in _descendants().items():
        if key in before or _is_helper(proc):
            continue
        try:
            (zombies if proc.status() == psutil.STATUS_ZOMBIE else running).append(proc)
        except psutil.NoSuchProcess:
            continue
    seen = {p.pid for p in running + zombies}
    for pid in reported:
        if pid not in seen and pid != os.getpid() and _running(pid):
            try:
                running.append(psutil.Process(pid))
            except psutil.Error:
                pass
    if started is not None:
        for process in _unjoined(started):
            if process.pid not in seen and not any(p.pid == process.pid for p in running):
                try:
                    zombies.append(psutil.Process(process.pid))
                except psutil.Error:  # already reaped by a forkserver: named by its pid alone
                    zombies.append(_Gone(process.pid))
    return running, zombies


class _Gone:
    """A process that is no longer in the process table, as _named and _kill see it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def name(self) -> str:
        raise psutil.NoSuchProcess(self.pid)

    def kill(self) -> None:
        pass


def _named(procs: list[psutil.Process]) -> str:
    names = []
    for proc in procs[:4]:
        try:
            names.append(f"pid {proc.pid} ({proc.name()})")
        except psutil.Error:
            names.append(f"pid {proc.pid}")
    return ", ".join(names) + (f" and {len(procs) - 4} more" if len(procs) > 4 else "")


def _kill(procs: list[psutil.Process]) -> None:
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass


def _running(pid: int, created: float | None = None) -> bool:
    """pid is a live process (not a zombie), the same one if its create time is given."""
    try:
        proc = psutil.Process(pid)
        if created is not None and proc.create_time() != created:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _fit_threads() -> list[str]:
    """Threads of this process in the middle of a fit: a fit run in a thread, still going."""
    names = {t.ident: t.name for t in threading.enumerate()}
    found = []
    for ident, frame in sys._current_frames().items():
        while frame is not None:
            if frame.f_code.co_filename == jobs.__file__:
                found.append(names.get(ident, str(ident)))
                break
            frame = frame.f_back
    return found


@pytest.fixture(autouse=True)
def _clean_up() -> Iterator[list[int]]:
    """Whatever a submission leaves running dies after its test: the next test starts clean."""
    before = _descendants()
    extra: list[int] = []  # pids the test learnt of that are no longer our descendants
    yield extra
    running, _ = _left_behind(before)
    _kill(running)
    for pid in extra:
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    # A fit left running in a thread cannot be killed: wait for it to give up (a few seconds).
    deadline = time.monotonic() + jobs.IN_PROCESS_SECONDS + 2.0
    while _fit_threads() and time.monotonic() < deadline:
        time.sleep(0.05)


# ------------------------------------------------------------------ timed calls

@dataclass
class Call:
    what: str  # "run_with_timeout(never_converges, timeout=0.3)"
    timeout: float
    elapsed: float
    result: Any = None
    error: Exception | None = None
    rescued: bool = False  # the test had to kill the child to get the call back
    before: dict | None = None  # descendants before the call
    started: set[int] | None = None  # multiprocessing's unjoined Process objects before it

    @property
    def bound(self) -> float:
        return self.timeout + SLACK


def _call(student: Any, func: Callable[..., Any], args: tuple, timeout: float,
          what: str = "", rescue_after: float | None = None) -> Call:
    run_with_timeout = student.module("watchdog").run_with_timeout
    what = f"run_with_timeout({what or func.__name__}, timeout={timeout:g})"
    before = _descendants()
    rescue_after = timeout + SLACK + RESCUE_AFTER if rescue_after is None else rescue_after
    rescued = threading.Event()

    def rescue() -> None:
        running, _ = _left_behind(before)
        if running:
            rescued.set()
            _kill(running)

    timer = threading.Timer(rescue_after, rescue)
    timer.daemon = True
    call = Call(what, timeout, 0.0, before=before, started=_started_processes())
    timer.start()
    start = time.monotonic()
    try:
        call.result = run_with_timeout(func, args, timeout)
    except Exception as exc:  # pytest's own outcomes (its timeout) are BaseExceptions: they pass
        call.error = exc
    finally:
        call.elapsed = time.monotonic() - start
        timer.cancel()
    call.rescued = rescued.is_set()
    return call


def _ran_in_process(call: Call) -> bool:
    return call.error is None and call.result == jobs.NOT_IN_A_CHILD


def _expect_timeout(call: Call, story: str, hint: str = "") -> None:
    """TimeoutError, within timeout + 0.5 s. `story`: what the fit does, in words."""
    if call.rescued:
        hint = hint or "does it wait (join, get, recv) without a timeout?"
        raise Failure(f"{call.what} had not come back {call.elapsed:.1f} s later, for {story} "
                      f"(the test killed the child then to go on); it must raise TimeoutError "
                      f"by {call.bound:g} s: {hint}", "timeout")
    if _ran_in_process(call):
        raise Failure(f"{call.what} did not raise TimeoutError for {story}: the fit ran in the "
                      f"grader's own process (called directly or in a thread), where nothing can "
                      f"stop it, and the test's fit gave up by itself after {call.elapsed:.1f} s. "
                      f"Run it in a child process and kill that by {call.bound:g} s", "wrong")
    if call.error is None:
        raise Failure(f"{call.what} returned {_short(call.result)} after {call.elapsed:.1f} s "
                      f"for {story}; it must raise TimeoutError by {call.bound:g} s"
                      + (f" ({hint})" if hint else ""), "wrong")
    if not isinstance(call.error, TimeoutError):
        hint = ""
        if isinstance(call.error, multiprocessing.TimeoutError):
            hint = (" (multiprocessing.TimeoutError is not the built-in TimeoutError: "
                    "raise TimeoutError yourself)")
        raise Failure(f"{call.what} raised {_raised(call.error)} for {story}; expected "
                      f"TimeoutError{hint}", "wrong")
    if call.elapsed > call.bound:
        raise Failure(f"{call.what} took {call.elapsed:.1f} s to raise TimeoutError for {story}; "
                      f"the bound is {call.bound:g} s", "too_slow")


def _expect_stopped(call: Call, story: str) -> None:
    """After a TimeoutError on time: the fit no longer runs, in a process or in a thread.

    A TimeoutError that leaves the fit running stops nothing, so the timeout checks count
    only for a fit that was stopped. A signal takes effect a moment after it is sent: the
    child gets up to a second to go. A zombie (stopped, never joined) is not running: that
    is test_no_child_left_after_timeout's concern.
    """
    deadline = time.monotonic() + 1.0
    while True:
        running, _ = _left_behind(call.before)
        threads = _fit_threads()
        if not (running or threads) or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    if threads:
        raise Failure(f"{call.what} raised TimeoutError after {call.elapsed:.1f} s for {story}, but "
                      f"the fit runs on in a thread of the caller's process ({', '.join(threads)}): "
                      f"a TimeoutError that stops nothing is not a timeout; run the fit in a child "
                      f"process and kill it", "wrong")
    if running:
        raise Failure(f"{call.what} raised TimeoutError after {call.elapsed:.1f} s for {story}, but "
                      f"the fit still runs a second later in {_named(running)}: a TimeoutError that "
                      f"stops nothing is not a timeout; kill the child", "wrong")


def _expect_result(call: Call, expected: Any) -> None:
    if call.rescued:
        raise Failure(f"{call.what} had not come back after {call.elapsed:.1f} s although the fit "
                      f"takes milliseconds (the test killed the child then to go on)", "timeout")
    if call.error is not None:
        raise Failure(f"{call.what} raised {_raised(call.error)}; the fit returns "
                      f"{_short(expected)}", "wrong")
    if call.result != expected or type(call.result) is not type(expected):
        raise Failure(f"{call.what} returned {_short(call.result)}; the fit returns "
                      f"{_short(expected)}", "wrong")


def _short(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)) and len(value) > 40:
        return f"{len(value):,} bytes"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _raised(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


# ------------------------------------------------------------------ the contract

def test_returns_the_result(student):
    """A fit that converges: its result comes back as it was returned."""
    xs, ys = [1.0, 2.0, 3.0, 4.0], [2.1, 3.9, 6.2, 7.8]
    cases = [(jobs.fit_line, (xs, ys), "fit_line"), (jobs.fit_summary, (7,), "fit_summary"),
             (jobs.nothing, (), "a fit returning None")]
    for func, args, what in cases:
        _expect_result(_call(student, func, args, 5.0, what), func(*args))


def test_reraises_the_exception(student):
    """A fit that fails: the caller gets the same exception, type and message."""
    cases = [(jobs.diverge, "chi2 stuck at 1.7e3 after 1000 iterations", jobs.FitDidNotConverge),
             (jobs.bad_input, "histogram 'mass' has no entries", ValueError)]
    for func, message, kind in cases:
        call = _call(student, func, (message,), 5.0, f"a fit raising {kind.__name__}")
        if call.rescued:
            raise Failure(f"{call.what} had not come back after {call.elapsed:.1f} s although the fit "
                          f"raises at once (the test killed the child then to go on)", "timeout")
        if call.error is None:
            raise Failure(f"{call.what} returned {_short(call.result)}; the fit raised "
                          f"{kind.__name__}({message!r}), which the caller must get", "wrong")
        if type(call.error) is not kind or str(call.error) != message:
            raise Failure(f"{call.what} raised {_raised(call.error)}; expected the fit's own "
                          f"{kind.__name__}: {message}", "wrong")


def test_overrun_raises_timeout_error(student):
    """A fit that never converges, asleep or spinning: TimeoutError by timeout + 0.5 s."""
    me = os.getpid()
    for func, timeout, story in [(jobs.never_converges, 0.3, "a fit that sleeps forever"),
                                 (jobs.spins_forever, 0.4, "a fit that loops forever in Python")]:
        call = _call(student, func, (me,), timeout)
        _expect_timeout(call, story)
        _expect_stopped(call, story)


def test_stops_a_fit_stuck_in_c_code(student, exercise):
    """One long C call holding the GIL: only a process can be stopped in the middle of it."""
    n = exercise.params["c_call_length"]
    story = "a fit inside one long C call that holds the GIL (seconds of sum(range(...)))"
    call = _call(student, jobs.stuck_in_c, (n, os.getpid()), 0.3, f"sum(range({n:.0e}))")
    _expect_timeout(call, story,
                    "a thread cannot be interrupted, and while it is in a C call that holds the "
                    "GIL, no other thread of its process runs, not even one waiting in "
                    "join(timeout): only a process can be stopped")
    _expect_stopped(call, story)


def test_no_child_left_after_timeout(student, tmp_path, _clean_up):
    """After TimeoutError, the child is gone: neither running nor a zombie (it was joined)."""
    report = tmp_path / "child-pid"
    call = _call(student, jobs.never_converges, (os.getpid(), str(report)), 0.3)
    _expect_timeout(call, "a fit that sleeps forever")
    # The pid the fit wrote from inside its child: whatever started it (fork, spawn, a
    # forkserver), that process must be gone.
    reported = (int(report.read_text()),) if report.is_file() else ()
    _clean_up.extend(reported)
    threads = _fit_threads()
    if threads:
        raise Failure(f"the fit is still running after the timeout, in a thread of the caller's "
                      f"process ({', '.join(threads)}): a thread cannot be stopped; run the fit "
                      f"in a child process and kill it", "wrong")
    running, zombies = _left_behind(call.before, reported, call.started)
    if running:
        raise Failure(f"{plural(len(running), 'child process')} still alive after the timeout: "
                      f"{_named(running)}; kill it (terminate or kill) and join it", "wrong")
    if zombies:
        raise Failure(f"{plural(len(zombies), 'child process')} never joined after the timeout: "
                      f"{_named(zombies)}; it was stopped but nobody collected its exit (join()), "
                      f"so it stays a zombie in the process table (fork, spawn) and in "
                      f"multiprocessing's list of children", "wrong")


def test_no_child_left_after_success(student, tmp_path):
    """After a result or an exception, the child has exited and was joined."""
    cases = [(jobs.fit_summary, (3,), "fit_summary"),
             (jobs.diverge, ("no minimum",), "a fit raising FitDidNotConverge")]
    for func, args, what in cases:
        call = _call(student, func, args, 5.0, what)
        if call.rescued:
            raise Failure(f"{call.what} had not come back after {call.elapsed:.1f} s although the "
                          f"fit takes milliseconds", "timeout")
        running, zombies = _left_behind(call.before, (), call.started)
        if running or zombies:
            left = running + zombies
            state = "still running" if running else "never joined (a zombie under fork or spawn)"
            raise Failure(f"{plural(len(left), 'child process')} left after {call.what} had "
                          f"{'returned' if call.error is None else 'raised'}: {_named(left)}, "
                          f"{state}; join the child before returning", "wrong")
    me = os.getpid()
    # A child that has sent its result may still have work to do before it exits (here a
    # library's thread writes its output 0.1 s later): it is left to end on its own.
    marker = tmp_path / "written-at-exit"
    call = _call(student, jobs.finishes_after_returning, (me, str(marker), 0.1), 5.0,
                 "a fit whose library writes its output 0.1 s after the fit returned")
    _expect_result(call, "fitted")
    if not marker.exists():
        raise Failure(f"{call.what} returned, but its child was stopped before it could end on "
                      f"its own: the output the fit's library writes 0.1 s after the fit returned "
                      f"is missing. After a result, join the child (with a timeout, a second say) "
                      f"and stop it only if it has not ended by then", "wrong")
    # One that does not end soon, and ignores SIGTERM: stopped with SIGKILL, and joined too.
    call = _call(student, jobs.finishes_after_returning, (me, str(tmp_path / "late"), 2.0, True), 5.0,
                 "a fit whose process ignores SIGTERM and ends 2 s after the fit returned")
    _expect_result(call, "fitted")
    running, zombies = _left_behind(call.before, (), call.started)
    if running or zombies:
        left = running + zombies
        state = "still running" if running else "never joined (a zombie under fork or spawn)"
        raise Failure(f"{plural(len(left), 'child process')} left after {call.what} had returned: "
                      f"{_named(left)}, {state}; whatever stopped it, join the child before "
                      f"returning", "wrong")
    # One that never ends by itself: a watchdog never hangs. After the grace it is stopped,
    # and the result comes back within timeout + 0.5 s plus that grace (at most EXIT_GRACE).
    # The test's rescue kills the child at bound + RESCUE_AFTER: a submission that joins it
    # with no timeout fails here, by this test's own deadline.
    timeout = 1.0
    call = _call(student, jobs.lingers_after_returning, (me,), timeout,
                 "a fit whose library starts a thread that never ends, then returns",
                 rescue_after=timeout + SLACK + EXIT_GRACE + RESCUE_AFTER)
    if call.rescued:
        raise Failure(f"{call.what} had not come back {call.elapsed:.1f} s later (the test killed "
                      f"the child then to go on): its child sent the result at once but never ends "
                      f"by itself. A watchdog never hangs: after a result, join the child with a "
                      f"timeout (a second say), then stop it and join it", "timeout")
    _expect_result(call, "fitted")
    if call.elapsed > timeout + SLACK + EXIT_GRACE:
        raise Failure(f"{call.what} took {call.elapsed:.1f} s to return the result of a fit whose "
                      f"child lingers after sending it; the bound is timeout + 0.5 s plus a grace "
                      f"of at most {EXIT_GRACE:g} s, {timeout + SLACK + EXIT_GRACE:g} s", "too_slow")
    running, zombies = _left_behind(call.before, (), call.started)
    if running or zombies:
        left = running + zombies
        state = "still running" if running else "never joined (a zombie under fork or spawn)"
        raise Failure(f"{plural(len(left), 'child process')} left after {call.what} had returned: "
                      f"{_named(left)}, {state}; after the grace, stop the child and join it",
                      "wrong")


def test_large_result_comes_back(student, exercise):
    """A 5 MB result, far more than a pipe holds: read it before joining, or both wait for ever."""
    megabytes = exercise.params["large_result_mb"]
    expected = jobs.big_result(megabytes)
    call = _call(student, jobs.big_result, (megabytes,), 5.0, f"a fit returning {megabytes} MB")
    if isinstance(call.error, TimeoutError) or call.rescued:
        raise Failure(f"{call.what} did not come back with the result in {call.elapsed:.1f} s "
                      f"(the fit returns it in milliseconds): a child cannot exit until its "
                      f"result has left the pipe, so join() before reading waits for ever", "timeout")
    _expect_result(call, expected)


def test_child_dying_abruptly_raises(student):
    """A child that dies without a word (os._exit, a signal): an exception at once, not a hang."""
    me = os.getpid()
    timeout = 6.0
    cases = [(jobs.exits_abruptly, (me, 3), "a fit calling os._exit(3)", "os._exit(3)"),
             (jobs.killed_by_signal, (me,), "a fit killed by SIGKILL (as by a segfault)",
              "a SIGKILL")]
    for func, args, story, death in cases:
        call = _call(student, func, args, timeout, story, rescue_after=timeout + RESCUE_AFTER)
        if call.rescued:
            raise Failure(f"{call.what} had not come back {call.elapsed:.1f} s later, although the "
                          f"child died at once: it waits for a message that will never come", "timeout")
        if _ran_in_process(call):
            raise Failure(f"{call.what}: the fit ran in the grader's own process (called directly "
                          f"or in a thread), where {death} would have ended the grader "
                          f"itself (the test's fit refused to); run it in a child "
                          f"process", "wrong")
        if call.error is None:
            raise Failure(f"{call.what} returned {_short(call.result)}; the child died without "
                          f"a result, which must be an exception", "wrong")
        if isinstance(call.error, TimeoutError) or call.elapsed > timeout / 2:
            raise Failure(f"{call.what} took {call.elapsed:.1f} s, then raised "
                          f"{_raised(call.error)}; the child had died at once: say so (exit code) as soon as it is dead, "
                          f"without waiting for the timeout", "wrong")


def test_runs_in_another_process(student):
    """The fit runs in a child process: os.getpid() there is not the caller's."""
    call = _call(student, jobs.my_pid, (), 5.0, "os.getpid")
    if call.rescued or call.error is not None or not isinstance(call.result, int):
        raise Failure(f"{call.what} gave {_raised(call.error) if call.error else _short(call.result)}"
                      f"; expected the pid of the process the fit ran in", "wrong")
    if call.result == os.getpid():
        raise Failure(f"the fit ran in the caller's process (pid {call.result}): a thread or a "
                      f"direct call cannot be stopped; run it in a child process", "wrong")


def _until_started(student: Any, func: Callable[..., Any], args_for: Callable[[Path], tuple],
                   tmp_path: Path, what: str) -> tuple[Call, Path]:
    """Call with a timeout long enough for the child to have got going (spawn is slow to start)."""
    for attempt, timeout in enumerate((0.5, 1.0, 2.0, 4.0)):
        marker = tmp_path / f"started-{attempt}"
        call = _call(student, func, args_for(marker), timeout, what)
        if marker.exists() or call.error is None or not isinstance(call.error, TimeoutError):
            return call, marker
    raise Failure(f"{call.what}: the child never got as far as the fit's first line, even with "
                  f"timeout={timeout:g}", "timeout")


def test_kills_a_child_that_ignores_sigterm(student, tmp_path, _clean_up):
    """SIGTERM can be ignored, SIGKILL cannot: terminate, wait a little, then kill."""
    me = os.getpid()
    call, marker = _until_started(student, jobs.ignores_sigterm, lambda m: (me, str(m)), tmp_path,
                                  "a fit that ignores SIGTERM")
    _expect_timeout(call, "a fit that ignores SIGTERM and never returns",
                    "after terminate() (SIGTERM), does it join() for ever a child that ignores "
                    "it? Wait a little, then kill() (SIGKILL)")
    pid = int(marker.read_text())
    _clean_up.append(pid)
    if pid == os.getpid():
        raise Failure("the fit is still running after the timeout, in a thread of the caller's "
                      "process: a thread cannot be stopped; run the fit in a child process", "wrong")
    if _running(pid):
        raise Failure(f"1 child process still alive after the timeout: pid {pid}; it ignores "
                      f"SIGTERM (terminate()), only SIGKILL (kill()) is sure to stop it", "wrong")


def test_kills_the_childs_own_processes(student, tmp_path, _clean_up):
    """The fit started a helper program: on overrun it goes too (kill the child's process group)."""
    me = os.getpid()
    call, marker = _until_started(student, jobs.starts_a_helper, lambda m: (me, str(m)), tmp_path,
                                  "a fit that started a helper program")
    _expect_timeout(call, "a fit that started a helper program and never returns")
    pid = int(marker.read_text())
    _clean_up.append(pid)
    deadline = time.monotonic() + 1.0  # a signal takes effect a moment after it is sent
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _running(pid):
        raise Failure(f"the helper program the fit started (pid {pid}) is still running after the "
                      f"timeout; give the child its own process group (os.setpgid) and kill the "
                      f"group (os.killpg)", "wrong")
