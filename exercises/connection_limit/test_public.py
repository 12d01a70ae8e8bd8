"""Tests you can run yourself: `python -m pytest test_public.py` in this folder.

They are not the whole story. They use real threads and real time, so they only see what
happens to happen on your machine in a second or two. The grader goes further: it runs
your limiter under a controlled scheduler on many interleavings, with virtual time, and
counts the steps a waiting thread runs, so that a limiter that spins or polls while it
waits is caught even when it happens to give the right answers.
"""
import threading
import time

import pytest

from limiter import ConnectionLimiter


def test_acquire_and_release_in_one_thread():
    limiter = ConnectionLimiter(2)
    assert limiter.acquire() is True
    assert limiter.acquire() is True
    limiter.release()
    limiter.release()
    with limiter:
        pass


def test_a_release_too_many_raises_value_error():
    limiter = ConnectionLimiter(1)
    with pytest.raises(ValueError):
        limiter.release()


def test_timeout_on_a_full_limiter_returns_false_in_time():
    limiter = ConnectionLimiter(1)
    limiter.acquire()
    start = time.monotonic()
    assert limiter.acquire(timeout=0.2) is False
    took = time.monotonic() - start
    assert 0.15 <= took < 1.0, f"acquire(timeout=0.2) returned after {took:.2f} s"


def test_never_more_than_limit_and_limit_at_once():
    limit, clients = 3, 9
    limiter = ConnectionLimiter(limit)
    guard = threading.Lock()
    holding = [0]
    most = [0]

    def client():
        with limiter:
            with guard:
                holding[0] += 1
                most[0] = max(most[0], holding[0])
            time.sleep(0.05)  # the query
            with guard:
                holding[0] -= 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(t.is_alive() for t in threads), "clients still waiting after 10 s"
    assert most[0] <= limit, f"{most[0]} clients held a connection at once with limit={limit}"
    assert most[0] == limit, (f"never more than {most[0]} clients held a connection at once: "
                              f"with {clients} clients the limiter should let {limit} in together")


def test_a_waiting_thread_uses_little_cpu():
    """A thread waiting 0.5 s for a connection should use far less than 0.5 s of CPU."""
    limiter = ConnectionLimiter(1)
    limiter.acquire()
    used = {}

    def waiter():
        start = time.thread_time()
        limiter.acquire()
        used["cpu"] = time.thread_time() - start
        limiter.release()

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    time.sleep(0.5)
    limiter.release()
    thread.join(5)
    assert used, "the waiting thread never got the connection"
    assert used["cpu"] < 0.02, (f"the waiting thread used {used['cpu']:.2f} s of CPU in 0.5 s of "
                               "waiting: it busy-waits")
