"""Tests you can run yourself: `python -m pytest test_public.py` in this folder.

They are not the whole story. Their `load` really sleeps, so that threads asking while a
load is in progress find the key still missing, as they would with a slow database. The
grader goes further: it runs your cache under a controlled scheduler that may switch
threads between any two bytecodes of cache.py, on hundreds of schedules.
"""
import threading
import time

import pytest

from cache import OnceCache


class DatabaseTimeout(Exception):
    pass


class SlowDB:
    """A fake conditions database: each query sleeps; it counts queries per key and the
    most queries in progress at once."""

    def __init__(self, seconds=0.1, failing=()):
        self.seconds, self.failing = seconds, set(failing)
        self.calls = {}
        self.busy = self.most_busy = 0
        self._lock = threading.Lock()

    def load(self, key):
        with self._lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            self.busy += 1
            self.most_busy = max(self.most_busy, self.busy)
        time.sleep(self.seconds)
        with self._lock:
            self.busy -= 1
        if key in self.failing:
            raise DatabaseTimeout(f"timed out reading {key!r}")
        return f"constants of {key}"


def ask_at_once(cache, keys, seconds=5.0):
    """One daemon thread per key, started together; each one's value or exception."""
    start = threading.Barrier(len(keys))
    outcomes = [None] * len(keys)

    def reconstruction(i, key):
        start.wait()
        try:
            outcomes[i] = cache.get(key)
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=reconstruction, args=(i, k), daemon=True)
               for i, k in enumerate(keys)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} of {len(keys)} threads calling get() still waiting after {seconds} s"
    return outcomes


def test_get_returns_value_and_loads_once():
    db = SlowDB(seconds=0.0)
    cache = OnceCache(db.load)
    assert cache.get("run-42") == "constants of run-42"
    assert cache.get("run-42") == "constants of run-42"
    assert cache.get("run-43") == "constants of run-43"
    assert db.calls == {"run-42": 1, "run-43": 1}


def test_zero_and_none_are_values_too():
    calls = []

    def load(key):
        calls.append(key)
        return {"pedestal-offset": 0.0, "dead-channel": None}[key]

    cache = OnceCache(load)
    for _ in range(2):
        assert cache.get("pedestal-offset") == 0.0
        assert cache.get("dead-channel") is None
    assert calls == ["pedestal-offset", "dead-channel"], f"load was called for {calls}"


def test_threads_asking_at_once_load_once():
    db = SlowDB(seconds=0.1)
    cache = OnceCache(db.load)
    outcomes = ask_at_once(cache, ["run-42"] * 4)
    assert db.calls["run-42"] == 1, f"load('run-42') ran {db.calls['run-42']} times for 4 threads asking at once"
    assert outcomes == ["constants of run-42"] * 4


def test_different_keys_load_at_the_same_time():
    db = SlowDB(seconds=0.2)
    cache = OnceCache(db.load)
    ask_at_once(cache, ["run-42", "run-43"])
    assert db.most_busy == 2, "load('run-42') and load('run-43') did not run at the same time"


def test_failed_load_reaches_every_waiter_and_is_retried():
    db = SlowDB(seconds=0.1, failing={"run-13"})
    cache = OnceCache(db.load)
    outcomes = ask_at_once(cache, ["run-13"] * 3)
    assert all(isinstance(o, DatabaseTimeout) for o in outcomes), f"the threads got {outcomes}"
    db.failing.clear()  # the database is back
    assert cache.get("run-13") == "constants of run-13"


def test_failure_raises_in_one_thread():
    db = SlowDB(seconds=0.0, failing={"run-7"})
    cache = OnceCache(db.load)
    with pytest.raises(DatabaseTimeout):
        cache.get("run-7")
