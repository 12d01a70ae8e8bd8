import threading
from contextlib import contextmanager
from typing import Iterator


class RWLock:
    """Writers exclude each other, but readers never look at them."""

    def __init__(self) -> None:
        self._write_lock = threading.Lock()
        self._readers = 0
        self._count_lock = threading.Lock()

    def acquire_read(self) -> None:
        with self._count_lock:
            self._readers += 1

    def release_read(self) -> None:
        with self._count_lock:
            self._readers -= 1

    def acquire_write(self) -> None:
        self._write_lock.acquire()

    def release_write(self) -> None:
        self._write_lock.release()

    @contextmanager
    def read_locked(self) -> Iterator[None]:
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def write_locked(self) -> Iterator[None]:
        self.acquire_write()
        try:
            yield
        finally:
            self.release_write()
