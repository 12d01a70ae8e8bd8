"""increment() takes a non-reentrant lock twice."""
import threading


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n=1):
        with self._lock:
            with self._lock:
                self._value += n

    @property
    def value(self):
        return self._value
