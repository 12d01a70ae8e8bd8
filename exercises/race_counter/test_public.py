"""Tests you can run yourself: `python -m pytest test_public.py` in this folder.

They are not the whole story. The threaded test below makes every addition take a moment,
so that the gap between reading the count and writing it back is wide enough for ordinary
CPython to show a lost update. The grader goes further: it runs your threads under a
controlled scheduler that may switch between any two bytecodes of counter.py, on hundreds
of schedules, so a race that this test happens to miss will still be found.
"""
import threading
import time

from counter import Counter


def test_starts_at_zero_or_at_start():
    assert Counter().value == 0
    assert Counter(42).value == 42


def test_increment_adds_one_or_n():
    counter = Counter()
    counter.increment()
    counter.increment()
    counter.increment(5)
    assert counter.value == 7


def test_counters_are_independent():
    first, second = Counter(), Counter()
    first.increment(3)
    assert (first.value, second.value) == (3, 0)


class SlowOne(int):
    """The number 1, but adding it to a count takes a moment (and lets other threads run).

    `count + SlowOne(1)` calls SlowOne.__radd__, because SlowOne is a subclass of int:
    so the sleep happens after your code read the count and before it writes the sum.
    """

    def __radd__(self, other):
        time.sleep(0.0001)
        return int(other) + int(self)

    def __add__(self, other):
        time.sleep(0.0001)
        return int(self) + int(other)


def run_within(seconds, target, *args):
    """Run target(*args) in a daemon thread; False if it has not finished in time."""
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def test_threads_lose_no_increment_when_adding_is_slow():
    counter = Counter()
    threads, calls = 4, 100

    def readout():
        for _ in range(calls):
            counter.increment(SlowOne(1))

    def run_all():
        workers = [threading.Thread(target=readout) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    assert run_within(10, run_all), (
        "the threads did not finish within 10 s: is a thread waiting for a lock it "
        "already holds (a threading.Lock is not reentrant)?")
    lost = threads * calls - counter.value
    assert lost == 0, f"lost {lost} of {threads * calls} increments with {threads} threads"
