import threading


class ConnectionLimiter:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._in_use = 0
        self._free = threading.Condition()

    def acquire(self, timeout: float | None = None) -> bool:
        with self._free:
            if self._in_use >= self._limit:
                if not self._free.wait(timeout):
                    return False
            self._in_use += 1
            return True

    def release(self) -> None:
        with self._free:
            if self._in_use == 0:
                raise ValueError("more releases than acquires")
            self._in_use -= 1
            self._free.notify()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
