class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start

    def increment(self, n: int = 1) -> None:
        current = self._value
        self._value = current + n

    @property
    def value(self) -> int:
        return self._value
