"""Student-like programs whose correctness is known, and scenarios that drive them: shared
by the engine's tests (test_races, test_waiting, test_deadlocks, test_messages,
test_multiprocessing_primitives)."""
from __future__ import annotations

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
