"""The textbook "no-starve" readers-writer lock built from plain locks: a turnstile that a
waiting writer holds (so new readers queue behind it) and a room lock taken by the first
reader in and by each writer. It is fair only if a lock hands itself to its waiters in the
order they came, which Python's threading.Lock does not promise: when a writer leaves, the
waiting reader and the next writer race for the room, and a stream of writers can win
every time."""
import threading
from contextlib import contextmanager
from typing import Iterator


class RWLock:
    def __init__(self) -> None:
        self._turnstile = threading.Lock()
        self._room = threading.Lock()
        self._count_lock = threading.Lock()
        self._readers = 0

    def acquire_read(self) -> None:
        self._turnstile.acquire()  # pass only when no writer holds the turnstile
        self._turnstile.release()
        with self._count_lock:
            self._readers += 1
            if self._readers == 1:
                self._room.acquire()

    def release_read(self) -> None:
        with self._count_lock:
            self._readers -= 1
            if self._readers == 0:
                self._room.release()

    def acquire_write(self) -> None:
        self._turnstile.acquire()
        self._room.acquire()
        self._turnstile.release()

    def release_write(self) -> None:
        self._room.release()

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
