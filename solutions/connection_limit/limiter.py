"""A limit on the connections open at once to the conditions database: the reference
solution.

A semaphore is exactly this: a counter of free slots that `acquire` decrements and
`release` increments, where `acquire` on zero *sleeps* until a release wakes it. The
bounded kind also refuses a release that would push the count above its start value,
which is how a `release()` too many is caught instead of silently letting one more
client in from then on.
"""
import threading


class ConnectionLimiter:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self._slots = threading.BoundedSemaphore(limit)

    def acquire(self, timeout: float | None = None) -> bool:
        """Take a connection slot: True once taken, False if `timeout` s passed first.

        A waiting thread sleeps inside the semaphore until a release (or the timeout)
        wakes it: it uses no CPU while it waits."""
        return self._slots.acquire(timeout=timeout)

    def release(self) -> None:
        """Give a connection slot back; more releases than acquires is a ValueError."""
        try:
            self._slots.release()
        except ValueError:
            raise ValueError("release() without a matching acquire(): more releases than "
                             "acquires") from None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
