import threading
import time


class ConnectionLimiter:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._in_use = 0
        self._lock = threading.Lock()

    def acquire(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if self._in_use < self._limit:
                    self._in_use += 1
                    return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.01)  # "so that it does not use the CPU"

    def release(self) -> None:
        with self._lock:
            if self._in_use == 0:
                raise ValueError("more releases than acquires")
            self._in_use -= 1

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
