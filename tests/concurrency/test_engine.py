"""The engine against code whose correctness is known.

A false failure here would fail correct students, so correct code runs over thousands of
schedules; every known-wrong variant must be caught."""
from __future__ import annotations

import time

import pytest

from tests.concurrency.conftest import engine

COUNTERS = """
import threading

class Racy:
    def __init__(self):
        self.value = 0
    def increment(self):
        self.value += 1

class TwoSections:
    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()
    def increment(self):
        with self.lock:
            current = self.value
        with self.lock:
            self.value = current + 1

class Safe:
    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()
    def increment(self):
        with self.lock:
            self.value += 1

class SafeRLock:
    def __init__(self):
        self.value = 0
        self.lock = threading.RLock()
    def increment(self):
        with self.lock:
            with self.lock:
                self.value += 1
"""


def counting(cls, threads: int = 3, each: int = 3):
    def scenario(run):
        counter = cls()

        def worker():
            for _ in range(each):
                counter.increment()

        run.threads(worker, threads)
        lost = threads * each - counter.value
        run.check(lost == 0, f"lost {lost} increments", verdict="race")

    return scenario


@pytest.mark.parametrize("name", ["Racy", "TwoSections"])
def test_lost_updates_are_found_and_explained(student_code, name):
    module = student_code("counters_bad_" + name.lower(), COUNTERS)
    result = engine(200).explore(counting(getattr(module, name)))
    assert result.failures, f"{name}: no lost update in {result.schedules} schedules"
    failure = result.failures[0]
    assert failure.verdict == "race" and failure.message.startswith("lost")
    notes = [s.get("note", "") for s in failure.details["trace"]]
    assert any("update is lost" in n for n in notes), failure.details["trace"]


@pytest.mark.parametrize("name", ["Safe", "SafeRLock"])
def test_locked_counters_never_fail(student_code, name):
    module = student_code("counters_ok_" + name.lower(), COUNTERS)
    result = engine(1000).explore(counting(getattr(module, name)), stop_at_first=False)
    assert result.schedules == 1000 + 1 and not result.failures  # + lockstep, result.failures[:1]


BUFFERS = """
import threading
from collections import deque

class Buffer:
    def __init__(self, size, use_if=False):
        self.items = deque()
        self.size = size
        self.use_if = use_if
        self.cond = threading.Condition()
    def put(self, item):
        with self.cond:
            while len(self.items) >= self.size:
                self.cond.wait()
            self.items.append(item)
            self.cond.notify_all()
    def get(self):
        with self.cond:
            if self.use_if:
                if not self.items:
                    self.cond.wait()
            else:
                while not self.items:
                    self.cond.wait()
            item = self.items.popleft()
            self.cond.notify_all()
            return item

class SemaphoreBuffer:
    def __init__(self, size):
        self.items = deque()
        self.free = threading.Semaphore(size)
        self.full = threading.Semaphore(0)
        self.mutex = threading.Lock()
    def put(self, item):
        self.free.acquire()
        with self.mutex:
            self.items.append(item)
        self.full.release()
    def get(self):
        self.full.acquire()
        with self.mutex:
            item = self.items.popleft()
        self.free.release()
        return item
"""


def producer_consumer(make, producers=2, consumers=2, each=3):
    def scenario(run):
        buffer = make()
        got = []

        def produce(base):
            for i in range(each):
                buffer.put(base + i)

        def consume():
            for _ in range(each * producers // consumers):
                got.append(buffer.get())

        for p in range(producers):
            run.spawn(produce, 100 * p)
        for _ in range(consumers):
            run.spawn(consume)
        run.join_all()
        expected = sorted(100 * p + i for p in range(producers) for i in range(each))
        run.check(sorted(got) == expected, f"got {sorted(got)}")

    return scenario


@pytest.mark.parametrize("kind", ["condition", "semaphores"])
def test_correct_bounded_buffers_never_fail(student_code, kind):
    module = student_code("buffers_" + kind, BUFFERS)
    make = (lambda: module.Buffer(1)) if kind == "condition" else (lambda: module.SemaphoreBuffer(1))
    result = engine(1000).explore(producer_consumer(make), stop_at_first=False)
    assert result.schedules == 1000 + 1 and not result.failures  # + lockstep, result.failures[:1]


def test_if_instead_of_while_around_wait_is_caught(student_code):
    module = student_code("buffers_if", BUFFERS)
    result = engine(400).explore(producer_consumer(lambda: module.Buffer(1, use_if=True), 1, 2, 4))
    assert result.failures, "a consumer woken with nothing to take was never seen"


QUEUES = """
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

def pipeline(items, workers):
    tasks = queue.Queue(maxsize=2)
    results = queue.Queue()
    def work():
        while True:
            item = tasks.get()
            if item is None:
                tasks.task_done()
                return
            results.put(item * item)
            tasks.task_done()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for item in items:
        tasks.put(item)
    for _ in threads:
        tasks.put(None)
    tasks.join()
    for t in threads:
        t.join()
    out = []
    while not results.empty():
        out.append(results.get_nowait())
    return sorted(out)

def pool_squares(items, workers):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda x: x * x, items))

def forgot_sentinel(items):
    tasks = queue.Queue()
    def work():
        while True:
            tasks.get()
    t = threading.Thread(target=work)
    t.start()
    for item in items:
        tasks.put(item)
    t.join()
"""


def test_queue_pipelines_and_thread_pools_run_controlled(student_code):
    module = student_code("queues_ok", QUEUES)

    def scenario(run):
        run.check(module.pipeline(range(5), 2) == [0, 1, 4, 9, 16], "pipeline lost items")
        run.check(module.pool_squares(range(5), 2) == [0, 1, 4, 9, 16], "pool lost items")

    result = engine(300).explore(scenario, stop_at_first=False)
    assert not result.failures, result.failures[:1]
    assert result.steps > 0


def test_a_consumer_waiting_forever_is_a_deadlock_named_in_words(student_code):
    module = student_code("queues_bad", QUEUES)
    result = engine(5).explore(lambda run: module.forgot_sentinel([1, 2]))
    assert result.failures and result.failures[0].verdict == "deadlock"
    message = result.failures[0].message
    assert "MainThread waits for Thread-1 (work) to finish" in message
    assert "Thread-1 (work) waits for a notify on Queue.not_empty" in message


DEADLOCKS = """
import threading

class Account:
    def __init__(self, number):
        self.number = number
        self.lock = threading.Lock()

def both(first, second):
    with first.lock:
        with second.lock:
            pass
"""


def test_deadlock_cycle_is_explained_and_lock_order_inversion_flagged(student_code):
    module = student_code("deadlocks", DEADLOCKS)

    def scenario(run):
        a, b = module.Account(1), module.Account(2)
        run.spawn(module.both, a, b)
        run.spawn(module.both, b, a)
        run.join_all()

    result = engine(60).explore(scenario, stop_at_first=False)
    deadlocks = [f for f in result.failures if f.verdict == "deadlock"]
    assert deadlocks, "opposite lock orders never deadlocked"
    message = deadlocks[0].message
    assert "Account(number=2).lock" in message and "Account(number=1).lock" in message
    assert "deadlocks.py line 11: with second.lock:" in message
    assert result.lock_order_cycles and "while holding" in result.lock_order_cycles[0]
    assert len(result.failures) < result.schedules, "a run that did not hang is also explored"


def test_a_ring_of_three_lock_orders_is_a_potential_deadlock_even_without_a_hang(student_code):
    module = student_code("ring", DEADLOCKS)

    def scenario(run):
        a, b, c = module.Account(1), module.Account(2), module.Account(3)
        for pair in ((a, b), (b, c), (c, a)):
            run.spawn(module.both, *pair)
            run.join_all()  # one after another: it cannot hang, but the order is a cycle

    result = engine(3).explore(scenario, stop_at_first=False)
    assert not result.failures
    assert result.lock_order_cycles and "number=3" in result.lock_order_cycles[0]


def test_try_locks_are_not_lock_order_edges(student_code):
    module = student_code("trylock", DEADLOCKS + """
def backoff(first, second):
    while True:
        with first.lock:
            if second.lock.acquire(blocking=False):
                second.lock.release()
                return
""")

    def scenario(run):
        a, b = module.Account(1), module.Account(2)
        run.spawn(module.backoff, a, b)
        run.spawn(module.backoff, b, a)
        run.join_all()

    # Two backing-off threads can livelock; a small step bound ends such schedules quickly.
    result = engine(60, max_steps=5_000).explore(scenario, stop_at_first=False)
    assert not result.lock_order_cycles, result.lock_order_cycles


def test_reentering_a_plain_lock_is_a_self_deadlock(student_code):
    module = student_code("selflock", DEADLOCKS)
    result = engine(3).explore(lambda run: run.spawn(module.both, *(2 * [module.Account(7)])))
    assert result.failures and "which it already holds" in result.failures[0].message


TIMING = """
import threading
import time

def slow():
    time.sleep(3600)
    return time.monotonic()

def timed_acquire():
    lock = threading.Lock()
    lock.acquire()
    start = time.monotonic()
    got = lock.acquire(timeout=2.5)
    return got, time.monotonic() - start

def wait_event(timeout):
    event = threading.Event()
    return event.wait(timeout)

def spin():
    flag = [False]
    while not flag[0]:
        pass
"""


def test_sleep_and_timeouts_run_on_virtual_time(student_code):
    module = student_code("timing", TIMING)
    seen = {}

    def scenario(run):
        seen["after"] = module.slow()
        seen["acquire"] = module.timed_acquire()
        seen["event"] = module.wait_event(1.0)

    start = time.perf_counter()
    result = engine(3).explore(scenario)
    assert time.perf_counter() - start < 5
    assert not result.failures, result.failures[:1]
    assert seen["after"] >= 3600
    got, waited = seen["acquire"]
    assert got is False and 2.5 <= waited < 2.6
    assert seen["event"] is False


def test_busy_loop_ends_with_a_verdict(student_code):
    module = student_code("spin", TIMING)
    result = engine(1, max_steps=20_000).explore(lambda run: run.spawn(module.spin))
    assert result.failures and result.failures[0].verdict == "busy_wait"
    assert "spin.py line 22" in result.failures[0].message


def test_code_the_engine_cannot_switch_is_reported_not_hung(student_code, tmp_path):
    blocker = tmp_path / "blocker.py"  # not loaded through the shim: real time.sleep
    blocker.write_text("import time\ndef block():\n    time.sleep(30)\n")
    import importlib.util

    spec = importlib.util.spec_from_file_location("blocker_real", blocker)
    real = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(real)
    result = engine(1, schedule_timeout=0.5, stress_timeout=0.5).explore(lambda run: real.block())
    # Stuck is no verdict on the code: real threads under stress judged it, and they
    # timed out too (a sleep of 30 s in a test with half a second).
    assert result.engine == "stress" and "cannot switch" in result.engine_reason
    assert result.failures and result.failures[0].verdict == "timeout"


def test_same_seeds_same_verdicts(student_code):
    module = student_code("determinism", COUNTERS)
    runs = [engine(30).explore(counting(module.Racy), stop_at_first=False) for _ in range(2)]
    assert [f.seed for f in runs[0].failures] == [f.seed for f in runs[1].failures]
    assert [f.message for f in runs[0].failures] == [f.message for f in runs[1].failures]


def test_primitives_work_from_ordinary_threads(student_code):
    import threading as real

    module = student_code("plain_mode", BUFFERS + QUEUES)
    buffer = module.Buffer(2)
    got = []
    consumer = real.Thread(target=lambda: got.extend(buffer.get() for _ in range(20)))
    consumer.start()
    for i in range(20):
        buffer.put(i)
    consumer.join(5)
    assert got == list(range(20))
    assert module.pipeline(range(6), 3) == [0, 1, 4, 9, 16, 25]
    assert module.pool_squares(range(4), 2) == [0, 1, 4, 9]


def test_exceptions_in_threads_are_reported_with_the_line(student_code):
    module = student_code("raises", "def boom():\n    return 1 / 0\n")
    result = engine(1).explore(lambda run: run.threads(module.boom, 1))
    assert result.failures[0].verdict == "error"
    assert "ZeroDivisionError" in result.failures[0].message and "raises.py line 2" in result.failures[0].message


def test_max_lock_holders_tells_disjoint_locking_from_a_global_lock(student_code):
    module = student_code("holders", DEADLOCKS + """
GLOBAL = threading.Lock()
def one_lock(first, second):
    with GLOBAL:
        pass
""")

    def scenario(fn):
        def body(run):
            accounts = [module.Account(i) for i in range(4)]
            run.spawn(fn, accounts[0], accounts[1])
            run.spawn(fn, accounts[2], accounts[3])
            run.join_all()
        return body

    assert engine(100).explore(scenario(module.both), stop_at_first=False).max_lock_holders == 2
    assert engine(100).explore(scenario(module.one_lock), stop_at_first=False).max_lock_holders == 1


def test_test_code_can_block_on_virtual_time_and_see_live_threads(student_code):
    module = student_code("pool_io", QUEUES)
    seen = {}

    def scenario(run):
        def fetch(x):
            run.sleep(1.0)
            return x

        start = run.now()
        seen["result"] = module.pool_squares.__globals__["ThreadPoolExecutor"](4).map(fetch, range(8))
        seen["result"] = list(seen["result"])
        seen["elapsed"] = run.now() - start
        seen["alive"] = run.alive()

    result = engine(5).explore(scenario)
    assert not result.failures, result.failures[:1]
    assert seen["result"] == list(range(8))
    assert 2.0 <= seen["elapsed"] < 2.1, seen["elapsed"]  # 8 fetches of 1 s on 4 workers
    assert seen["alive"], "the pool was never shut down, so its workers are still alive"


def test_stress_fallback_finds_a_race_on_real_threads_and_bounds_a_hang(student_code):
    module = student_code("stressed", COUNTERS + DEADLOCKS)
    racy = engine().stress(counting(module.Racy, threads=4, each=200), runs=10)
    assert racy.failures and racy.failures[0].verdict == "race", "no lost update under stress"
    safe = engine().stress(counting(module.Safe, threads=4, each=200), runs=10, stop_at_first=False)
    assert not safe.failures, safe.failures[:1]

    def opposite(run):
        a, b = module.Account(1), module.Account(2)
        for _ in range(200):
            run.spawn(module.both, a, b)
            run.spawn(module.both, b, a)
        run.join_all()

    start = time.perf_counter()
    hung = engine().stress(opposite, runs=20, timeout=1.0)
    assert time.perf_counter() - start < 25
    assert hung.failures and hung.failures[0].verdict == "timeout"
    assert hung.failures[0].details["stacks"], "the stacks of the hung threads are shown"


def test_threads_left_waiting_on_a_queue_unwind_without_failing_a_passing_schedule(student_code):
    module = student_code("leftover_queue", """
import queue
import threading

def start_idle_workers(n):
    todo = queue.Queue()
    def worker():
        while True:
            todo.get()
    for _ in range(n):
        threading.Thread(target=worker).start()
    return todo
""")
    seen = {}

    def scenario(run):
        module.start_idle_workers(2)
        seen["alive"] = run.alive()

    result = engine(50).explore(scenario, stop_at_first=False)
    assert not result.failures, result.failures[0].message
    assert len(seen["alive"]) == 2 and result.leftover_threads


FIRST_CALL = r'''
import sys, textwrap, pathlib, tempfile
from grader.concurrency.runtime import opcode_tracer

folder = pathlib.Path(tempfile.mkdtemp())
path = folder / "student_first_call.py"
path.write_text(textwrap.dedent("""
    def work():
        total = 0
        for i in range(3):
            total += i
        return total
"""))
namespace = {}
exec(compile(path.read_text(), str(path), "exec"), namespace)
seen = []
sys.settrace(opcode_tracer(frozenset({str(path)}), lambda frame: seen.append(frame.f_lineno)))
namespace["work"]()
sys.settrace(None)
print(len(seen))
'''


def test_a_functions_first_call_in_a_fresh_process_has_switch_points():
    """Since 3.12 settrace rides on sys.monitoring, and a frame asking for opcode events
    too late gets none for that call: the first call of every student function ran with
    no switch point, so verdicts depended on what ran before in the process."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True,
                         timeout=60, check=True)
    assert int(out.stdout.strip()) >= 10, out
