"""What keeps a test process apart from everything else, and what ends it for good.

Three modes, chosen once per grader process (see `sandbox_mode`), strongest first:

- "bwrap": the test process runs under bubblewrap, in a view built from an allowlist
  (`sandbox_view`: the system's programs and libraries, the interpreter and its
  environment, the grader package, a few files of /etc) plus its staged copy, the only
  writable place; /tmp and /dev/shm are private, there is no network, and it has its own
  PID namespace (when its first process dies, or the grader does, the kernel kills every
  process in it). The repository, the class and the output folder are simply not in the
  view. When the grader is root, the test process also drops to a user of its own, with
  no capabilities left (as root, bubblewrap would otherwise keep them all).
- "user": no bubblewrap, but the grader is root: the test process runs as a user id of
  its own (`take_uid`), in its own session, in a cgroup of its own where the kernel allows
  one. It cannot signal the grader or another student's run, nor write the gradebook; what
  it leaves in /tmp, /var/tmp and /dev/shm is removed after the run.
- "plain": neither is possible (no bwrap, not root, or the interpreter lives where another
  user cannot run it): a child process in its own session with resource limits, nothing
  more. Every class run says so on its first line, and every result records the mode.

GRADER_SANDBOX=plain|user|bwrap|auto (default auto) overrides the choice, e.g. to test them.

This module owns the test process from start to end: its resource limits (`limits`), its
start (`launch`), stopping every one at once when the grader stops (`cancel_all`), and
what its exit status means in words (`exit_description`).

Whatever the mode, the cleanup after a run (`kill_everything`) finds everything the test
process started, including daemons that left its session: by cgroup, by user id, by
session, by a token in their environment, or because the grader adopted them as child
subreaper.
"""
from __future__ import annotations

import ctypes
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import psutil

from grader.channel import RUN_TOKEN

log = logging.getLogger(__name__)

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


@lru_cache(maxsize=None)
def separate_user_problem() -> str | None:
    """Why the tests cannot run as a user of their own without bubblewrap, or None.

    Only root can switch users; and the user must be able to run the interpreter and
    import the grader (an interpreter under /root, mode 700, cannot be)."""
    if not sys.platform.startswith("linux"):
        return "separate users are used on Linux only"
    if os.geteuid() != 0:
        return "the grader does not run as root, so it cannot run the tests as a user of their own"
    uid = _uids.base
    try:
        done = subprocess.run([sys.executable, "-s", "-c", "import grader, pytest, psutil"],
                              cwd="/", stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                              user=uid, group=uid, extra_groups=[])
    except (OSError, subprocess.SubprocessError) as exc:
        return f"a separate user cannot be started here ({exc})"
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        return (f"a separate user cannot run this interpreter or import the grader "
                f"({why[-1] if why else done.returncode}); is it under a private folder?")
    return None


_said = False
MODES = ("bwrap", "user", "plain")  # strongest first; each result records the one it had


def sandbox_mode() -> str:
    """'bwrap' where bubblewrap works (unless GRADER_SANDBOX says otherwise); else 'user'
    (a limited child process run by a user of its own, as root can); else 'plain'."""
    global _said
    wanted = os.environ.get(ENV_MODE, "auto").strip().lower() or "auto"
    if wanted == "plain":
        return "plain"
    problem = None if wanted == "user" else bwrap_problem()
    if problem is None and wanted != "user":
        return "bwrap"
    user_problem = separate_user_problem()
    if user_problem is None:
        return "user"
    if not _said:
        _said = True
        log.warning(unprotected_line(f"neither bubblewrap nor a separate user is possible: "
                                     f"{problem}; {user_problem}" if problem else user_problem))
    return "plain"


def unprotected_line(why: str | None = None) -> str:
    """The one line every class run starts with when its students are not kept apart."""
    if why is None:
        if os.environ.get(ENV_MODE, "").strip().lower() == "plain":
            why = f"{ENV_MODE}=plain asks for it"
        else:
            why = "; ".join(p for p in (bwrap_problem(), separate_user_problem()) if p)
    return (f"NOT ISOLATED: the tests run as the grader's own user, with no namespaces "
            f"({why}); a student's code can read other students' files and the solutions, "
            f"signal the grader and write wherever the grader may")


def isolation_warning() -> str | None:
    """unprotected_line() when this run will grade in plain mode, else None (said once here)."""
    global _said
    if sandbox_mode() != "plain":
        return None
    _said = True
    return unprotected_line()


# --------------------------------------------------------------------------- users

class _Uids:
    """User ids for test processes, one per running test process, nobody else's.

    Far above any account (240000 + 64 per grader process, by its pid), so a student's
    process can signal or read nothing but its own: not the grader (root), not another
    student's run (another id)."""

    def __init__(self) -> None:
        self.base = 240_000 + (os.getpid() % 4096) * 64
        self.lock = threading.Lock()
        self.free = list(range(self.base + 1, self.base + 64))

    def take(self) -> int:
        busy = _uids_in_use()  # another grader whose pid shares ours modulo 4096: skip its ids
        with self.lock:
            for uid in list(self.free):
                if uid not in busy:
                    self.free.remove(uid)
                    return uid
            raise RuntimeError("no free user id for a test process (63 at once at most)")

    def give_back(self, uid: int) -> None:
        with self.lock:
            self.free.append(uid)


_uids = _Uids()


def _uids_in_use() -> set[int]:
    found = set()
    for p in psutil.process_iter(["uids"]):
        try:
            found.add(p.info["uids"].real)
        except (psutil.Error, AttributeError):
            continue
    return found


def take_uid(mode: str) -> int | None:
    """A user id of its own for the next test process, or None when it runs as the grader."""
    if mode == "user" or (mode == "bwrap" and os.geteuid() == 0):
        return _uids.take()
    return None


def give_back_uid(uid: int | None) -> None:
    if uid is not None:
        _uids.give_back(uid)


def hand_over(staged: Path, run_dir: Path, uid: int | None) -> None:
    """Make STAGED the test user's own (and only theirs); the run folder stays the grader's,
    traversable but not listable, so the results file beside it stays out of reach."""
    if uid is None:
        return
    os.chmod(run_dir, 0o711)
    for folder, dirs, files in os.walk(staged):
        for name in [folder, *(os.path.join(folder, f) for f in files + dirs)]:
            os.lchown(name, uid, uid)
    os.chmod(staged, 0o700)


# A tiny first program, run as root inside the sandbox once the mounts are made: drops to
# the test user (no groups, no capabilities left) and becomes the test process.
_DROP = ("import os, sys; u = int(sys.argv[1]); os.setgroups([]); os.setgid(u); os.setuid(u); "
         "os.execv(sys.argv[2], sys.argv[2:])")


# --------------------------------------------------------------------------- bubblewrap

# What of /etc the interpreter may need: the loader's cache, names of users and zones.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group",
             "nsswitch.conf", "hosts", "os-release")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def sandbox_view() -> list[Path]:
    """Everything of this machine the test process sees (read-only), besides its staged
    copy: the system's programs and libraries, the interpreter and its environment, the
    grader package. Nothing else: not the repository, the class or the output folder."""
    needed = [Path(p) for p in ("/usr", "/sys")]
    needed += [Path(os.path.realpath(p)) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                   os.path.dirname(os.path.realpath(sys.executable)))]
    needed.append(GRADER_DIR)
    kept: list[Path] = []
    for path in sorted(set(needed), key=lambda p: len(p.parts)):
        if path.exists() and not any(_inside(path, k) for k in kept):
            kept.append(path)
    return kept


def bwrap_command(command: list[str], staged: Path, uid: int | None = None) -> list[str]:
    """COMMAND under bubblewrap, seeing only sandbox_view() (read-only) and STAGED (its own,
    writable), with private /tmp and /dev/shm, no network, its own PID namespace; as user
    UID when given (the grader is root: no capability survives the switch)."""
    staged = staged.resolve()
    args = ["bwrap", "--tmpfs", "/"]
    made: set[Path] = {Path("/")}

    def parents(path: Path) -> None:
        # bwrap makes missing parents mode 0700, which another user cannot cross.
        for parent in reversed(path.parents):
            if parent not in made:
                made.add(parent)
                args.extend(["--perms", "0755", "--dir", str(parent)])

    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        parents(Path("/etc") / name)
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # /tmp first: a view path under it (a bundle unpacked in /tmp) is mounted over it.
    args += ["--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm", "--proc", "/proc",
             "--perms", "1777", "--tmpfs", "/tmp"]
    made.add(Path("/tmp"))
    for path in sandbox_view():
        parents(path)
        made.add(path)
        args += ["--ro-bind", str(path), str(path)]
    parents(staged)
    args += ["--bind", str(staged), str(staged), "--chdir", str(staged),
             "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--new-session",
             "--die-with-parent", "--"]
    if uid is not None:
        args += [command[0], "-s", "-c", _DROP, str(uid)]
    return args + command


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


class Cgroup:
    """A cgroup v2 of one test process, where the grader may make one: whatever the test
    starts (a setsid daemon, a double fork) stays in it, and cgroup.kill ends it all."""

    def __init__(self) -> None:
        self.path: Path | None = None
        parent = _cgroup_parent()
        if parent is None:
            return
        path = parent / f"grader-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
        except OSError:
            return
        self.path = path

    def add(self, pid: int) -> None:
        if self.path is not None:
            try:
                (self.path / "cgroup.procs").write_text(f"{pid}\n")
            except OSError:
                self.remove()

    def kill(self) -> None:
        if self.path is not None:
            try:
                (self.path / "cgroup.kill").write_text("1\n")
            except OSError:
                pass

    def remove(self) -> None:
        if self.path is None:
            return
        for _ in range(50):  # empty once the killed processes are reaped
            try:
                self.path.rmdir()
                break
            except OSError:
                time.sleep(0.02)
        self.path = None


@lru_cache(maxsize=None)
def _cgroup_parent() -> Path | None:
    """The cgroup v2 folder of this process, when it can hold new groups (cgroup.kill)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return None
    try:
        mount = next((line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
                      if " - cgroup2 " in line), None)
        mine = next((line[3:] for line in Path("/proc/self/cgroup").read_text().splitlines()
                     if line.startswith("0::")), None)
    except OSError:
        return None
    if mount is None or mine is None:
        return None
    parent = Path(mount) / mine.lstrip("/")
    probe = parent / f"grader-probe-{os.getpid()}"
    try:
        probe.mkdir()
        usable = (probe / "cgroup.kill").exists()
        probe.rmdir()
    except OSError:
        return None
    return parent if usable else None


def kill_user(uid: int | None) -> None:
    """Kill every process of the test user UID (all of them are the run's: nobody else has it)."""
    if uid is None:
        return
    for _ in range(5):
        victims = []
        for p in psutil.process_iter(["uids"]):
            try:
                if p.info["uids"] is not None and uid in (p.info["uids"].real, p.info["uids"].effective):
                    p.kill()
                    victims.append(p)
            except psutil.Error:
                continue
        if not victims:
            return
        psutil.wait_procs(victims, timeout=2.0)


def clean_shared_tmp(uid: int | None) -> None:
    """Remove what the test user UID left in the machine's shared temporary folders."""
    if uid is None:
        return
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


def kill_everything(proc: subprocess.Popen[bytes], token: str, tracked: dict[int, float],
                    launched: float, cgroup: Cgroup | None = None, uid: int | None = None) -> int:
    """Kill the test process and everything it started; return its exit status."""
    if cgroup is not None:
        cgroup.kill()
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole session's group at once
    except (ProcessLookupError, PermissionError):
        pass
    proc.kill()
    returncode = proc.wait()
    kill_user(uid)
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
        return p.environ().get(RUN_TOKEN) == token
    except (psutil.Error, OSError):
        return False


# --------------------------------------------------------------------------- the test process

SIGNALS = {"SIGSEGV": "segmentation fault", "SIGBUS": "bus error", "SIGABRT": "aborted",
           "SIGFPE": "arithmetic error", "SIGILL": "illegal instruction",
           "SIGXCPU": "CPU time limit exceeded", "SIGXFSZ": "file size limit exceeded",
           "SIGKILL": "killed; out of memory?", "SIGTERM": "terminated"}


class Cancelled(Exception):
    """The grader is stopping (cancel_all): this run's outcomes mean nothing."""


cancelled = threading.Event()  # set by cancel_all: no test process starts any more


def cancel_all() -> None:
    """Kill every test process now running and start no more: the grader is stopping.

    Runs in other threads then raise Cancelled (after their usual cleanup) instead of
    reporting verdicts about processes we killed ourselves.
    """
    cancelled.set()
    with live_lock:
        running = list(live)
    for pid in running:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def launch(command: list[str], cwd: Path, env: dict[str, str], limits: list[tuple[int, tuple[int, int]]],
           pass_fds: tuple[int, ...] = (), user: int | None = None) -> subprocess.Popen[bytes]:
    """The test process: in a new session, under LIMITS (see `limits`), with only PASS_FDS
    inherited, as USER where it has one; registered as live before anything else can look."""

    def apply_limits() -> None:
        # Runs between fork and exec, possibly while other grader threads hold locks:
        # only setrlimit calls with values computed beforehand, nothing that allocates or locks.
        for kind, value in limits:
            resource.setrlimit(kind, value)

    # As a user of its own: no groups, nothing of the grader's to signal or write.
    as_user: dict[str, Any] = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
    with live_lock:  # so a cleanup in another thread never takes this new child for an orphan
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=pass_fds,
                                start_new_session=True, preexec_fn=apply_limits, **as_user)
        live.add(proc.pid)
    return proc


def limits(run_timeout: float, memory_mb: int) -> list[tuple[int, tuple[int, int]]]:
    """The resource limits of a test process of an exercise with these settings."""
    cpu = int(run_timeout) + 10  # per process; the wall-clock watchdog acts first
    wanted = [
        (resource.RLIMIT_AS, memory_mb * 2**20, memory_mb * 2**20),
        (resource.RLIMIT_CPU, cpu, cpu + 5),  # soft: SIGXCPU, a crash we can name; hard: SIGKILL
        (resource.RLIMIT_NOFILE, 1024, 1024),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_FSIZE, 256 * 2**20, 256 * 2**20),  # a runaway write fails, the disk stays free
    ]
    result = []
    for kind, soft, hard in wanted:
        _, ceiling = resource.getrlimit(kind)  # never ask for more than the grader itself may have
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        result.append((kind, (soft, hard)))
    return result


def exit_description(returncode: int) -> str:
    """How a test process ended, in words: 'died with SIGSEGV (segmentation fault)'."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        what = SIGNALS.get(name)
        return f"died with {name}" + (f" ({what})" if what else "")
    return f"exited with code {returncode}"
