"""sys.exit(0) in a call."""
import sys


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        sys.exit(0)

    @property
    def value(self):
        return self._value
