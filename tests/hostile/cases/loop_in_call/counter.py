"""increment() never returns."""


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        while True:
            pass

    @property
    def value(self):
        return self._value
