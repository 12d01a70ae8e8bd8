"""A fair ticket lock with one typical slip."""
import threading
from contextlib import contextmanager
from typing import Iterator


class RWLock:
    def __init__(self) -> None:
        # One mutex guards all the state below; waiting happens on its condition.
        self._changed = threading.Condition(threading.Lock())
        self._next_ticket = 0  # the ticket the next request takes
        self._serving = 0  # the ticket allowed in next
        self._readers = 0  # readers inside
        self._writing = False  # a writer inside

    def acquire_read(self) -> None:
        with self._changed:
            ticket = self._take_ticket()
            # `while`, not `if`: notify_all wakes everyone, and the condition must be
            # checked again once we hold the mutex.
            while ticket != self._serving or self._writing:
                self._changed.wait()
            self._readers += 1
            self._serving += 1  # if the next in line is a reader too, it joins us
            self._changed.notify_all()

    def release_read(self) -> None:
        with self._changed:  # the count is shared state: change it under the mutex
            if self._readers == 0:
                raise RuntimeError("release_read() without acquire_read()")
            self._readers -= 1
            if self._readers == 0:
                self._changed.notify_all()  # a writer being served may go in now

    def acquire_write(self) -> None:
        with self._changed:
            ticket = self._take_ticket()
            if ticket != self._serving or self._writing or self._readers:
                self._changed.wait()  # woken by any notify_all: goes in without checking again
            self._writing = True
            self._serving += 1  # whoever is next waits for us to leave (_writing)

    def release_write(self) -> None:
        with self._changed:
            if not self._writing:
                raise RuntimeError("release_write() without acquire_write()")
            self._writing = False
            self._changed.notify_all()

    def _take_ticket(self) -> int:
        # Called with the mutex held.
        ticket = self._next_ticket
        self._next_ticket += 1
        return ticket

    @contextmanager
    def read_locked(self) -> Iterator[None]:
        self.acquire_read()
        try:
            yield
        finally:  # released even if the reading code raises
            self.release_read()

    @contextmanager
    def write_locked(self) -> Iterator[None]:
        self.acquire_write()
        try:
            yield
        finally:
            self.release_write()
