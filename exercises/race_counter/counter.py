"""The trigger counter of the detector's readout.

Every readout thread calls `increment()` when its board fires a trigger; the run control
reads `value` at the end of the run. This version works with one readout thread and
silently loses triggers with several: fix it (see README.md).
"""


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start

    def increment(self, n: int = 1) -> None:
        # Read the count, add n, write it back: three steps, and another thread may run
        # between any two of them.
        self._value += n

    @property
    def value(self) -> int:
        return self._value
