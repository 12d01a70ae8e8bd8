import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n: int = 1) -> None:
        self._value += n

    @property
    def value(self) -> int:
        with self._lock:
            return self._value
