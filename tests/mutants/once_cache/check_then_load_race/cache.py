"""The calibration-constants cache of the reconstruction.

Reading the constants of a run from the conditions database takes a second or more, so
every reconstruction thread asks this cache, which loads each run's constants the first
time they are needed and keeps them. This version looks in the cache, and on a miss
loads. It works with one thread; with several asking for the same run at once, the
database gets the same query several times. Fix it (see README.md).
"""
from typing import Any, Callable, Hashable


class OnceCache:
    def __init__(self, load: Callable[[Hashable], Any]) -> None:
        self._load = load
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable) -> Any:
        # Check ...
        if key in self._values:
            return self._values[key]
        # ... then load. The load is slow: what do other threads asking for this key
        # find in self._values meanwhile?
        value = self._load(key)
        self._values[key] = value
        return value
