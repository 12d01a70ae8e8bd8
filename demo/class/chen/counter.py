"""The trigger counter, safe for any number of readout threads."""
import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        # One lock per counter, made once: every thread must contend for the same lock.
        self._lock = threading.Lock()

    def increment(self, n: int = 1) -> None:
        # The read, the addition and the write happen as one step for other threads.
        with self._lock:
            self._value += n

    @property
    def value(self) -> int:
        with self._lock:
            return self._value
