"""multiprocessing's primitives used between threads are switched by the scheduler like
threading's (grader/concurrency/mp.py), and code the engine cannot switch at all is
judged by the stress engine instead of failing, with the engine that judged as a field.

Correct code here runs over hundreds of schedules: a false failure would cost a correct
student points; every known-wrong variant must be caught and named for what it is."""
from __future__ import annotations

import threading

import pytest

from tests.concurrency.conftest import engine
from tests.concurrency.programs import BUFFERS as ENGINE_BUFFERS
from tests.concurrency.programs import counting, producer_consumer

COUNTERS = """
import multiprocessing
from multiprocessing import Lock, RawValue, Value

class LockAndValue:
    def __init__(self):
        self.lock = multiprocessing.Lock()
        self.count = Value("i", 0)
    def increment(self):
        with self.lock:
            self.count.value += 1
    @property
    def value(self):
        with self.lock:
            return self.count.value

class ValuesOwnLock:
    def __init__(self):
        self.count = multiprocessing.Value("i", 0)
    def increment(self):
        with self.count.get_lock():
            self.count.value += 1
    @property
    def value(self):
        return self.count.value

class ExplicitAcquire:
    def __init__(self):
        self.lock = Lock()
        self.count = RawValue("i", 0)
    def increment(self):
        self.lock.acquire()
        try:
            self.count.value += 1
        finally:
            self.lock.release()
    @property
    def value(self):
        return self.count.value

class ContextRLock:
    def __init__(self):
        self.lock = multiprocessing.get_context("fork").RLock()
        self.count = 0
    def increment(self):
        with self.lock:
            with self.lock:
                self.count += 1
    @property
    def value(self):
        return self.count

class SemaphoreMutex:
    def __init__(self):
        self.mutex = multiprocessing.BoundedSemaphore(1)
        self.count = 0
    def increment(self):
        with self.mutex:
            self.count += 1
    @property
    def value(self):
        return self.count

class ValueUnguarded:
    def __init__(self):
        self.count = multiprocessing.Value("i", 0)
    def increment(self):
        self.count.value += 1  # its lock guards the read and the write, not both
    @property
    def value(self):
        return self.count.value
"""


@pytest.mark.parametrize("name", ["LockAndValue", "ValuesOwnLock", "ExplicitAcquire",
                                  "ContextRLock", "SemaphoreMutex"])
def test_correct_counters_over_multiprocessing_primitives_never_fail(student_code, name):
    module = student_code("mp_counters_" + name.lower(), COUNTERS)
    result = engine(300).explore(counting(getattr(module, name)), stop_at_first=False)
    assert result.schedules == 300 + 1 and not result.failures  # + lockstep, result.failures[:1]
    assert result.engine == "controlled", "the scheduler itself judged, no fallback"


def test_a_values_unguarded_increment_is_a_race_named_by_the_value(student_code):
    module = student_code("mp_counters_racy", COUNTERS)
    result = engine(200).explore(counting(module.ValueUnguarded))
    assert result.failures and result.failures[0].verdict == "race"
    events = " ".join(step["source"] for step in result.failures[0].details["trace"])
    assert "the lock of ValueUnguarded.count" in events


# programs.py's bounded buffers, on multiprocessing's Condition, Semaphore and Lock.
BUFFERS = ENGINE_BUFFERS.replace("import threading", "import multiprocessing").replace(
    "threading.", "multiprocessing.") + """
def handshake():
    ready = multiprocessing.Event()
    seen = []
    def waiter():
        ready.wait()
        seen.append("went on")
    import threading
    t = threading.Thread(target=waiter)
    t.start()
    ready.set()
    t.join()
    return seen, ready.wait(timeout=0.5)

def never_set():
    return multiprocessing.Event().wait(timeout=2.0)
"""


@pytest.mark.parametrize("kind", ["condition", "semaphores"])
def test_correct_bounded_buffers_over_multiprocessing_never_fail(student_code, kind):
    module = student_code("mp_buffers_" + kind, BUFFERS)
    make = (lambda: module.Buffer(1)) if kind == "condition" else (lambda: module.SemaphoreBuffer(1))
    result = engine(400).explore(producer_consumer(make), stop_at_first=False)
    assert result.schedules == 400 + 1 and not result.failures  # + lockstep, result.failures[:1]
    assert result.engine == "controlled"


def test_if_around_a_multiprocessing_condition_wait_is_named_not_timed_out(student_code):
    module = student_code("mp_buffers_if", BUFFERS)
    result = engine(400).explore(producer_consumer(lambda: module.Buffer(1, use_if=True), 1, 2, 4))
    assert result.failures, "a consumer woken with nothing to take was never seen"
    failure = result.failures[0]
    assert failure.verdict != "timeout" and result.engine == "controlled", failure.message
    assert "IndexError" in failure.message and "mp_buffers_if.py line 25" in failure.message


def test_multiprocessing_events_wait_on_virtual_time(student_code):
    module = student_code("mp_events", BUFFERS)
    seen = {}

    def scenario(run):
        seen["handshake"] = module.handshake()
        start = run.now()
        seen["never"] = module.never_set()
        seen["waited"] = run.now() - start

    result = engine(50).explore(scenario, stop_at_first=False)
    assert not result.failures, result.failures[:1]
    assert seen["handshake"] == (["went on"], True)
    assert seen["never"] is False and 2.0 <= seen["waited"] < 2.1


def test_taking_a_multiprocessing_lock_twice_is_a_self_deadlock(student_code):
    module = student_code("mp_selflock", """
import multiprocessing
LOCK = multiprocessing.Lock()
def twice():
    with LOCK:
        with LOCK:
            pass
""")
    result = engine(3).explore(lambda run: run.spawn(module.twice))
    failure = result.failures[0]
    assert failure.verdict == "deadlock" and "which it already holds" in failure.message
    assert "LOCK" in failure.message and "not reentrant" in failure.message


def test_primitives_stay_real_outside_the_scheduler(student_code):
    """From an ordinary thread (a sequential test, the module's import) they are the
    real multiprocessing objects at work."""
    module = student_code("mp_plain", COUNTERS + BUFFERS)
    counter = module.LockAndValue()
    workers = [threading.Thread(target=lambda: [counter.increment() for _ in range(200)])
               for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    assert counter.value == 600
    assert module.handshake() == (["went on"], True)
    assert type(counter.lock._real).__module__ == "multiprocessing.synchronize"


REAL_LOCK_COUNTER = """
class Counter:
    def __init__(self, lock):
        self.lock = lock  # a lock the engine does not control
        self.value = 0
    def increment(self):
        with self.lock:
            self.value += 1

class Unlocked:
    def __init__(self, lock):
        self.value = 0
    def increment(self):
        self.value += 1
"""


def _real_lock_counting(cls, threads=3, each=50):
    def scenario(run):
        counter = cls(threading.Lock())  # the test's own, real threading.Lock

        def worker():
            for _ in range(each):
                counter.increment()

        run.threads(worker, threads)
        run.check(counter.value == threads * each, f"lost {threads * each - counter.value}",
                  verdict="race")

    return scenario


def test_code_blocking_in_a_primitive_the_engine_does_not_control_is_judged_by_stress(student_code):
    module = student_code("real_lock_counter", REAL_LOCK_COUNTER)
    eng = engine(200, schedule_timeout=0.5)
    result = eng.explore(_real_lock_counting(module.Counter), stop_at_first=False)
    assert not result.failures, result.failures[:1]
    assert result.engine == "stress" and "cannot switch" in result.engine_reason
    note, details = eng.summary()
    assert details["engine"] == "stress" and "real threads" in note


def test_a_race_behind_an_uncontrolled_primitive_is_still_found_under_stress(student_code):
    from grader.testing import Failure

    module = student_code("real_lock_racy", REAL_LOCK_COUNTER + """
class RacyBehindRealLock:
    def __init__(self, lock):
        self.lock = lock
        self.value = 0
    def increment(self):
        with self.lock:  # a real lock, around reads that do not matter: most of the
            for _ in range(20):  # steps are inside it, so a switch falls while it is held
                seen = self.value  # long before one falls in the read-modify-write below
        current = self.value
        self.value = current + 1
""")
    result = engine(200, schedule_timeout=0.5).explore(
        _real_lock_counting(module.RacyBehindRealLock, threads=4, each=200))
    assert result.engine == "stress", "a thread parked holding the real lock stalls the others"
    assert result.failures and result.failures[0].verdict == "race"
    with pytest.raises(Failure) as failed:
        result.assert_ok()
    assert failed.value.details["engine"] == "stress"
    assert "cannot switch" in failed.value.details["engine_reason"]
