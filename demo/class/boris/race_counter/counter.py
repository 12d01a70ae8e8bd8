"""Trigger counter."""


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start

    def increment(self, n: int = 1) -> None:
        # Spelled out so it is clearly one operation (it is not: another thread can run
        # between the read and the write, and one of the two increments is lost).
        current = self._value
        self._value = current + n

    @property
    def value(self) -> int:
        return self._value
