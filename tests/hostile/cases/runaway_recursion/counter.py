"""Recursion without end, with Python's own guard lifted: the C stack overflows."""
import sys

sys.setrecursionlimit(10**7)


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        return self.increment(n)

    @property
    def value(self):
        return self._value
