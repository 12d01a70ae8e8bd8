"""Virtual time, busy loops, code the engine cannot switch (the stress fallback), and
switch points on a function's first call.

A false failure here would fail correct students, so correct code runs over thousands of
schedules; every known-wrong variant must be caught."""
from __future__ import annotations

import time

from tests.concurrency.conftest import engine
from tests.concurrency.programs import COUNTERS, counting, QUEUES, DEADLOCKS


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
