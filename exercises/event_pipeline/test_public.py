"""Tests you can run yourself: `python -m pytest test_public.py` in this folder.

They are not the whole story. They use real threads and real time, so they only see the
interleavings that happen to happen on your machine. The grader runs your pipeline under
a controlled scheduler on many interleavings, with virtual time, and also checks that no
thread spins while it waits.
"""
import threading
import time


from pipeline import run_pipeline


def run_within(seconds, target):
    """Run target() in a daemon thread; (finished?, result or exception)."""
    outcome = {}

    def call():
        try:
            outcome["result"] = target()
        except BaseException as exc:  # noqa: B036 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), outcome


def test_results_in_input_order():
    def process(x):
        time.sleep(0.01 * (10 - x))  # the first events take longest
        return x * x

    done, outcome = run_within(10, lambda: run_pipeline(range(10), process, 4, 5))
    assert done, "run_pipeline did not return within 10 s"
    assert outcome.get("result") == [x * x for x in range(10)]


def test_no_events():
    done, outcome = run_within(5, lambda: run_pipeline([], lambda x: x, 3, 2))
    assert done and outcome.get("result") == []


def test_backpressure():
    max_pending, taken, built = 3, [0], [0]
    lock = threading.Lock()
    worst = [0]

    def events():
        for number in range(20):
            with lock:
                taken[0] += 1
                worst[0] = max(worst[0], taken[0] - built[0])
            yield number

    def process(x):
        time.sleep(0.005)
        with lock:
            built[0] += 1
        return x

    done, outcome = run_within(10, lambda: run_pipeline(events(), process, 2, max_pending))
    assert done, "run_pipeline did not return within 10 s"
    assert worst[0] <= max_pending, (
        f"{worst[0]} events were taken from the detector and not yet built, "
        f"with max_pending={max_pending}")


def test_no_thread_left_behind():
    before = threading.active_count()
    done, _ = run_within(10, lambda: run_pipeline(range(8), lambda x: x, 4, 4))
    assert done, "run_pipeline did not return within 10 s"
    time.sleep(0.05)  # let the helper thread of run_within itself finish
    assert threading.active_count() <= before, "worker threads are still alive after run_pipeline returned"


def test_exception_is_reraised_without_hanging():
    def process(x):
        if x == 3:
            raise ValueError("corrupt event 3")
        return x

    done, outcome = run_within(10, lambda: run_pipeline(range(8), process, 2, 3))
    assert done, "run_pipeline hung after process() raised"
    assert isinstance(outcome.get("error"), ValueError), f"expected ValueError, got {outcome!r}"
