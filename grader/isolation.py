"""What keeps a test process apart from everything else, and what ends it for good.

Two modes, chosen once per grader process (see `sandbox_mode`):

- "bwrap": the test process runs under bubblewrap. The whole system is mounted read-only,
  /tmp is private and empty, the repository (exercises, solutions, other students' work
  inside it) is hidden under an empty tmpfs with only the grader package and the
  virtualenv mounted back read-only, the class folder of the graded files is hidden too,
  there is no network, and the process has its own PID namespace: when its first process
  dies (or the grader does: --die-with-parent) the kernel kills every process in it.
  Only the staged copy is writable.
- "plain": a child process in its own session with resource limits, nothing more. Used
  where bwrap is missing or does not work (inside some containers user namespaces are
  not allowed); the grader says so once in its log, and every result records the mode.

GRADER_SANDBOX=plain|bwrap|auto (default auto) overrides the choice, e.g. to test both.

Whatever the mode, the cleanup after a run (`kill_everything`) finds everything the test
process started, including daemons that left its session: by session, by a token in
their environment, or because the grader adopted them as child subreaper.
"""
from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import psutil

log = logging.getLogger(__name__)

ENV_RUN_TOKEN = "GRADER_RUN_TOKEN"  # inherited by everything the child starts: finds escaped daemons
ENV_MODE = "GRADER_SANDBOX"  # plain | bwrap | auto
GRADER_DIR = Path(__file__).resolve().parent
REPO_ROOT = GRADER_DIR.parent  # exercises/ and solutions/ sit beside grader/

live_lock = threading.Lock()
live: set[int] = set()  # our test processes now running, in whatever thread started them


# --------------------------------------------------------------------------- the mode

@lru_cache(maxsize=None)
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot be used here, or None when it works (tried once per process)."""
    if not sys.platform.startswith("linux"):
        return "bubblewrap is Linux only"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    probe = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
             "--unshare-pid", "--unshare-net", "--die-with-parent", "true"]
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap does not start here: {exc}"
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        return f"bwrap does not work here ({why[-1] if why else f'exit status {done.returncode}'})"
    return None


_said = False


def sandbox_mode() -> str:
    """'bwrap' where bubblewrap works (unless GRADER_SANDBOX=plain), else 'plain'."""
    global _said
    wanted = os.environ.get(ENV_MODE, "auto").strip().lower() or "auto"
    if wanted == "plain":
        return "plain"
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    if not _said:
        _said = True
        log.warning("grading in plain mode (a limited child process, no namespaces): %s", problem)
    return "plain"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def bwrap_command(command: list[str], staged: Path, student_files: Iterable[Path]) -> list[str]:
    """COMMAND under bubblewrap: only STAGED writable, the repository and class hidden."""
    staged = staged.resolve()
    needed = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), GRADER_DIR,
              Path(os.path.realpath(sys.executable)).parent, staged]
    # The repository (solutions, hidden tests) is hidden; installed as a package (the
    # students' bundle) the folder above grader/ is site-packages, which the run needs.
    hide = [] if any(_inside(REPO_ROOT, n) for n in needed[:2]) else [REPO_ROOT]
    # The folder of the class being graded (class/alice/counter.py -> class/): other
    # students' files are no business of this one. Never a folder the run itself needs.
    for file in student_files:
        real = Path(os.path.realpath(file))
        for folder in (real.parent.parent, real.parent):
            if folder != Path("/") and not any(_inside(n, folder) for n in needed):
                hide.append(folder)
                break
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/dev/shm",
            "--proc", "/proc", "--tmpfs", "/tmp",
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent"]
    for folder in dict.fromkeys(hide):
        args += ["--tmpfs", str(folder)]
    # Mounted back read-only where a hidden folder or the private /tmp covered them (a
    # student may well unpack the bundle, .venv and all, under /tmp).
    covered = [Path("/tmp").resolve(), *hide]
    for path in needed[:-1]:
        if any(_inside(path, folder) for folder in covered) and path.exists():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(staged), str(staged), "--chdir", str(staged), "--", *command]
    return args


def exit_status(returncode: int, mode: str) -> int:
    """bwrap reports a child killed by signal N as exit status 128 + N: give the signal back."""
    if mode == "bwrap" and 128 < returncode < 128 + 65:
        return -(returncode - 128)
    return returncode


# --------------------------------------------------------------------------- cleanup

_subreaper_done = False


def become_subreaper() -> None:
    """Orphans of our children re-parent to us instead of init, so they can be found and killed."""
    global _subreaper_done
    if _subreaper_done or not sys.platform.startswith("linux"):
        return
    _subreaper_done = True
    try:
        PR_SET_CHILD_SUBREAPER = 36
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # cleanup still finds escaped daemons by their environment token


def track(pid: int, tracked: dict[int, float]) -> None:
    try:
        for child in psutil.Process(pid).children(recursive=True):
            tracked.setdefault(child.pid, child.create_time())
    except psutil.Error:
        pass


def kill_everything(proc: subprocess.Popen[bytes], token: str, tracked: dict[int, float],
                    launched: float) -> int:
    """Kill the test process and everything it started; return its exit status."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole session's group at once
    except (ProcessLookupError, PermissionError):
        pass
    proc.kill()
    returncode = proc.wait()
    with live_lock:
        live.discard(proc.pid)
    for _ in range(5):  # a process may fork while we kill its parent: look again
        victims = stragglers(proc.pid, token, tracked, launched)
        if not victims:
            break
        for victim in victims:
            try:
                victim.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(victims, timeout=2.0)  # reaps those that are (now) our children
    return returncode


def stragglers(session: int, token: str, tracked: dict[int, float], launched: float) -> list[psutil.Process]:
    me, my_session = os.getpid(), os.getsid(0)
    since = launched - 1.0  # create times are rounded to clock ticks; nothing older can be the child's
    found = []
    with live_lock:
        for p in psutil.process_iter(["ppid", "create_time", "status"]):
            if p.pid == me or p.pid in live:
                continue
            try:
                ours = p.info["ppid"] == me
                if p.info["status"] == psutil.STATUS_ZOMBIE and not ours:
                    continue  # only its parent can reap it
                if p.info["create_time"] < since:
                    continue
                if (tracked.get(p.pid) == p.info["create_time"]
                        or _session_of(p.pid) == session
                        # adopted as subreaper: one of ours, since the grader starts nothing else
                        # in another session; a daemon that cleared its environment ends up here
                        or (ours and _session_of(p.pid) != my_session)
                        or _has_token(p, token)):
                    found.append(p)
            except psutil.Error:
                continue
    return found


def _session_of(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _has_token(p: psutil.Process, token: str) -> bool:
    try:
        return p.environ().get(ENV_RUN_TOKEN) == token
    except (psutil.Error, OSError):
        return False
