import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n: int = 1) -> None:
        with self._lock:
            current = self._value
        with self._lock:
            self._value = current + n

    @property
    def value(self) -> int:
        with self._lock:
            return self._value
