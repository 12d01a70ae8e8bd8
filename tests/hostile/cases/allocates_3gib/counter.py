"""3 GiB at once, far over the memory limit."""


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._buffer = bytearray(3 * 2**30)

    def increment(self, n=1):
        self._value += n

    @property
    def value(self):
        return self._value
