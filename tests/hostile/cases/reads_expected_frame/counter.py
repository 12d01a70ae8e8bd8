"""Racy, and reads the test's expected value from the caller's frame (issue 17, item 2)."""
import sys


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        current = self._value
        self._value = current + n

    @property
    def value(self):
        frame = sys._getframe(1)
        for name in ("expected", "added"):
            if name in frame.f_locals:
                return frame.f_locals[name] + (frame.f_locals.get("start") or 0) * (name == "added")
        return self._value
