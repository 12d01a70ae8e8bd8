import threading


class ConnectionLimiter:
    def __init__(self, limit: int) -> None:
        self._slots = threading.Semaphore(limit)

    def acquire(self, timeout: float | None = None) -> bool:
        return self._slots.acquire(timeout=timeout)

    def release(self) -> None:
        self._slots.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
