"""The run-conditions database lock: many monitors read, the calibration writer updates.

Monitors take the read lock to look up the current calibration constants; the calibration
job takes the write lock to replace them. Readers share the database, a writer has it to
itself. This version keeps the monitors happy and, on a busy shift, the calibration
update never happens: fix it (see README.md).
"""
import threading
from contextlib import contextmanager
from typing import Iterator


class RWLock:
    def __init__(self) -> None:
        self._readers = 0  # readers inside
        self._readers_lock = threading.Lock()  # guards _readers
        # Held by one writer, or by the readers as a group (the first reader in takes it,
        # the last reader out gives it back).
        self._room = threading.Lock()

    def acquire_read(self) -> None:
        with self._readers_lock:
            self._readers += 1
            if self._readers == 1:
                self._room.acquire()
            # A reader arriving while others read walks straight in, writer waiting or not.

    def release_read(self) -> None:
        with self._readers_lock:
            self._readers -= 1
            if self._readers == 0:
                self._room.release()

    def acquire_write(self) -> None:
        self._room.acquire()

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
