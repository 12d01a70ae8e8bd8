"""A waiter whose load failed tries the load itself (retry instead of propagate): every
waiter ends up with an exception, but from a load of its own, one after another."""
import threading
from typing import Any, Callable, Hashable


class OnceCache:
    def __init__(self, load: Callable[[Hashable], Any]) -> None:
        self._load = load
        self._cond = threading.Condition()
        self._values: dict[Hashable, Any] = {}
        self._loading: set[Hashable] = set()

    def get(self, key: Hashable) -> Any:
        with self._cond:
            while True:
                if key in self._values:
                    return self._values[key]
                if key not in self._loading:
                    self._loading.add(key)
                    break
                # Somebody loads: wait, then look again. If their load failed, the key is
                # neither loaded nor loading, and this thread loads it itself.
                self._cond.wait()
        try:
            value = self._load(key)
        except BaseException:
            with self._cond:
                self._loading.discard(key)
                self._cond.notify_all()
            raise
        with self._cond:
            self._values[key] = value
            self._loading.discard(key)
            self._cond.notify_all()
        return value
