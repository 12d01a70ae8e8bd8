import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start

    def increment(self, n: int = 1) -> None:
        with threading.Lock():
            self._value += n

    @property
    def value(self) -> int:
        return self._value
