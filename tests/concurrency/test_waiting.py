"""Threads that wait for each other: bounded buffers, queues, thread pools.

A false failure here would fail correct students, so correct code runs over thousands of
schedules; every known-wrong variant must be caught."""
from __future__ import annotations

import pytest

from tests.concurrency.conftest import engine
from tests.concurrency.programs import BUFFERS, producer_consumer, QUEUES


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
