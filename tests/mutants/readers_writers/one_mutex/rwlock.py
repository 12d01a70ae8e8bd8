import threading
from contextlib import contextmanager
from typing import Iterator


class RWLock:
    """One mutex for readers and writers alike: safe, fair enough, but readers never share."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire_read(self) -> None:
        self._lock.acquire()

    def release_read(self) -> None:
        self._lock.release()

    def acquire_write(self) -> None:
        self._lock.acquire()

    def release_write(self) -> None:
        self._lock.release()

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
