"""A racy increment whose code object is rebuilt under another file name and put back
into the method (item 3): code.replace and __code__ assignment."""


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        current = self._value
        self._value = current + n

    @property
    def value(self):
        return self._value


Counter.increment.__code__ = Counter.increment.__code__.replace(co_filename="<nowhere>")
