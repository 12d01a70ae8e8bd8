"""A lock taken twice at import: blocks forever in C."""
import threading

_lock = threading.Lock()
_lock.acquire()
_lock.acquire()


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        self._value += n  # the race the exercise is about: never earns the threaded points

    @property
    def value(self):
        return self._value

