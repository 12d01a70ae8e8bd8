"""The trigger counter of the detector's readout: the reference solution.

`self._value += n` is three steps (read the count, add, write it back). Two threads that
both read 41 both write 42, and a trigger is gone. A mutex makes the three steps one
indivisible step as far as other threads are concerned: while one thread is between its
read and its write, every other thread that wants to increment waits.
"""
import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        # One lock per counter, made once, here. A lock made inside increment() would be a
        # new lock on every call: each thread would lock its own and exclude nobody.
        self._lock = threading.Lock()

    def increment(self, n: int = 1) -> None:
        # The read and the write sit in the same critical section: nobody else can
        # write between them, so no increment is lost.
        with self._lock:
            self._value += n

    @property
    def value(self) -> int:
        # Reading under the same lock costs little and spares us any argument about which
        # operations happen to be atomic: we see the count between two increments, never
        # in the middle of one.
        with self._lock:
            return self._value
