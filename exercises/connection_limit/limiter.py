"""A limit on the connections open at once to the conditions database.

The database server accepts a handful of connections at a time; every analysis thread
calls `acquire()` before it opens one and `release()` when it has closed it (or uses
`with limiter:`). This version never lets too many in, but a thread that waits for a
connection burns a whole core while it waits, and nothing stops a `release()` too many:
fix it (see README.md).
"""
import threading
import time


class ConnectionLimiter:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self._limit = limit
        self._in_use = 0
        self._lock = threading.Lock()

    def acquire(self, timeout: float | None = None) -> bool:
        """Take a connection slot: True once taken, False if `timeout` s passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if self._in_use < self._limit:
                    self._in_use += 1
                    return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            # Full: look again, and again, and again... as fast as the CPU can.

    def release(self) -> None:
        """Give a connection slot back."""
        with self._lock:
            self._in_use -= 1

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
