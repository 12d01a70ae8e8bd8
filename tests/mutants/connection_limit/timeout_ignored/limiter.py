import threading


class ConnectionLimiter:
    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    def acquire(self, timeout: float | None = None) -> bool:
        self._slots.acquire()
        return True

    def release(self) -> None:
        self._slots.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
