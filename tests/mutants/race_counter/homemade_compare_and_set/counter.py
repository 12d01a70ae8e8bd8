class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start

    def increment(self, n: int = 1) -> None:
        # "Optimistic" update without a lock: retry if someone changed the value meanwhile.
        # The check and the write are still two steps, so a write can slip in between.
        while True:
            seen = self._value
            if self._value == seen:
                self._value = seen + n
                return

    @property
    def value(self) -> int:
        return self._value
