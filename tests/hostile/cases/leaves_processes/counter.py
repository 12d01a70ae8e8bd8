"""At import: a sleeping child, one in a new session, and a double-forked daemon that
clears its environment. Each carries the marker the hostile suite looks for afterwards."""
import os
import subprocess
import sys

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)", "hostile-leftover"]
subprocess.Popen(SLEEPER)
subprocess.Popen(SLEEPER, start_new_session=True)
if os.fork() == 0:
    try:
        os.setsid()
        if os.fork() == 0:
            os.execve(sys.executable, SLEEPER, {})
    finally:
        os._exit(0)


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        self._value += n  # the race the exercise is about: never earns the threaded points

    @property
    def value(self):
        return self._value

