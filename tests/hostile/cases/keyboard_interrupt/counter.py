"""KeyboardInterrupt raised by the student's own code, as if Ctrl-C were pressed."""


class Counter:
    def __init__(self, start=0):
        raise KeyboardInterrupt

    def increment(self, n=1):
        self._value += n

    @property
    def value(self):
        return self._value
