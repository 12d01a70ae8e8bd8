"""A correct counter that uses what honest code uses and the standard library reads frames
for (logging, warnings, a formatted stack, a dataclass, a NamedTuple, exec of its own code):
none of it is a frame walk, and it keeps its full marks."""
import dataclasses
import logging
import threading
import traceback
import typing
import warnings

log = logging.getLogger("counter")
logging.basicConfig(level=logging.INFO)
warnings.warn("a counter is being defined", stacklevel=2)


@dataclasses.dataclass
class Stats:
    calls: int = 0


class Pair(typing.NamedTuple):
    before: int
    after: int


try:
    raise ValueError("checked")
except ValueError:
    traceback.format_exc()  # reads the traceback's frames: not a walk either
log.info("counter module loaded at %s", traceback.format_stack(limit=1)[0].strip().splitlines()[0])

_namespace = {}
exec(compile("def add(a, b):\n    return a + b\n", "<helpers>", "exec"), _namespace)
add = _namespace["add"]


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()
        self.stats = Stats()
        log.debug("counter made")  # logging finds its caller's frame: not a walk

    def increment(self, n=1):
        with self._lock:
            pair = Pair(self._value, add(self._value, n))
            self._value = pair.after
            self.stats.calls += 1

    @property
    def value(self):
        with self._lock:
            return self._value
