"""A segmentation fault in a call."""
import ctypes


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        ctypes.string_at(0)

    @property
    def value(self):
        return self._value
