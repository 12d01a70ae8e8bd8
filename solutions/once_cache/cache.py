"""The calibration-constants cache of the reconstruction: the reference solution.

Why the stub queries the database twice: `get` checks the cache, and on a miss loads.
The load takes a second, and during that second the key is still missing, so every other
thread asking for it misses too and loads it again (check-then-act, with a very wide gap).

Holding one lock around the check *and the load* would fix that, but then a thread
loading run 42 makes a thread that wants run 43 wait a whole second for nothing. So the
lock here guards only the bookkeeping (which keys are loaded, which are being loaded) and
is never held while loading. A key being loaded has a Future: the first thread to miss
creates it and loads; every later thread waits on that Future and gets the same value,
or the same exception.
"""
import threading
from concurrent.futures import Future
from typing import Any, Callable, Hashable


class OnceCache:
    def __init__(self, load: Callable[[Hashable], Any]) -> None:
        self._load = load
        self._lock = threading.Lock()  # guards the two dicts below; never held during a load
        self._values: dict[Hashable, Any] = {}  # keys loaded, with their values
        self._loading: dict[Hashable, Future] = {}  # keys being loaded right now

    def get(self, key: Hashable) -> Any:
        """The value of `key`, loading it on first use; at most one load per key at a time."""
        with self._lock:
            # `in`, not `.get(key) is None`: a constant may well be 0.0 or None.
            if key in self._values:
                return self._values[key]
            pending = self._loading.get(key)
            if pending is None:
                # We are the first to ask: promise the value to whoever asks next, and
                # load it ourselves. Checking and promising under one lock means that two
                # threads can never both decide to load.
                pending = self._loading[key] = Future()
                loader = True
            else:
                loader = False

        if not loader:
            # Somebody else is loading: wait for their value, or their exception.
            return pending.result()

        try:
            value = self._load(key)  # slow, and no lock held: other keys load meanwhile
        except BaseException as exc:
            with self._lock:
                # Forget the failed attempt, so that a later get tries again (the
                # database may be back by then), and pass the error to every waiter.
                del self._loading[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            self._values[key] = value
            del self._loading[key]
        pending.set_result(value)
        return value
