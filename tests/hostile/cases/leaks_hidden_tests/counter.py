"""Racy, and raises an exception whose text is every hidden test file it can find in its
working folder, hoping the report shows them (issue 17, item 7)."""
import pathlib


def _loot():
    text = []
    for path in sorted(pathlib.Path.cwd().rglob("*.py")):
        if path.name != "counter.py":
            try:
                text.append(f"# {path}\n{path.read_text()}")
            except OSError:
                pass
    return "\n".join(text) or "nothing to read " + "x" * 5000


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        raise RuntimeError(_loot())

    @property
    def value(self):
        return self._value
