"""A racy read-modify-write compiled under another file name, hoping for no switch points
there (issue 17, item 3)."""
_SOURCE = '''
def increment(self, n=1):
    current = self._value
    self._value = current + n
'''
_namespace = {}
exec(compile(_SOURCE, "<elsewhere>", "exec"), _namespace)


class Counter:
    def __init__(self, start=0):
        self._value = start

    increment = _namespace["increment"]

    @property
    def value(self):
        return self._value
