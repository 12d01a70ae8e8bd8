"""Installing the engine's tracer while other threads do the same (grader/concurrency/tracing.py).

On CPython 3.11 two threads inside `sys.settrace` at once make one of them fail (one
process-wide flag, python/cpython#98257); in a test process the grader's audit hook runs
Python code inside that call, so the GIL changes hands there. A stress thread that lost
this race died before running its share of the scenario, and the counter it never
incremented was reported as a lost update of correct code.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from grader.concurrency import tracing
from tests.concurrency.conftest import engine

# A fresh interpreter with an audit hook that yields the GIL on sys.settrace, as the
# grader's guard does in a test process: many threads install and remove tracers at once.
CONTENDED = textwrap.dedent("""
    import sys, threading, time
    sys.path.insert(0, {root!r})
    from grader.concurrency import tracing

    def hook(event, args):
        if event == "sys.settrace":
            time.sleep(0)
    sys.addaudithook(hook)
    sys.setswitchinterval(1e-6)

    def tracer(frame, event, arg):
        return None

    errors, collisions = [], [0]
    def worker(install, counted):
        for _ in range(500):
            try:
                collisions[0] += install(tracer) or 0
                collisions[0] += install(None) or 0
            except RuntimeError as exc:
                if counted:
                    errors.append(exc)

    def raw(fn):
        sys.settrace(fn)

    # "engine": four threads install through tracing.install while four others call
    # sys.settrace directly, as the interpreter does when it drops a tracer that raised
    # (their own failures are not counted); "raw": eight threads call sys.settrace.
    if sys.argv[1] == "engine":
        plan = [(tracing.install, True)] * 4 + [(raw, False)] * 4
    else:
        plan = [(raw, True)] * 8
    threads = [threading.Thread(target=worker, args=args) for args in plan]
    for t in threads: t.start()
    for t in threads: t.join()
    print(len(errors), collisions[0])
""")


def _contend(how: str) -> tuple[int, int]:
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", CONTENDED.format(root=root), how],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    errors, collisions = done.stdout.split()
    return int(errors), int(collisions)


def test_the_engine_installs_its_tracer_in_every_thread_despite_contention():
    errors, collisions = _contend("engine")
    assert errors == 0, f"{errors} installs of the engine's tracer failed"
    if sys.version_info < (3, 12):
        assert collisions > 0, "no call collided with a foreign one: the retry was not tried"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="sys.settrace has no process-wide flag from 3.12 on")
def test_plain_settrace_collides_on_this_python():
    # The hazard the engine works around, shown on the Python that has it: without this
    # the test above could pass for want of contention.
    errors, _ = _contend("raw")
    assert errors > 0, "no two sys.settrace calls collided: the contention test shows nothing"


COUNTER = """
import importlib
threading = importlib.import_module("threading")

class Counter:
    def __init__(self):
        self._lock = threading.Lock()
        self.value = 0

    def increment(self):
        with self._lock:
            self.value += 1
"""


def _counting(module, threads=4, each=50):
    def scenario(run):
        counter = module.Counter()
        for _ in range(threads):
            run.spawn(lambda: [counter.increment() for _ in range(each)])
        run.join_all()
        run.check(counter.value == threads * each,
                  f"lost {threads * each - counter.value}", verdict="race")
    return scenario


def _refuse_once_in(thread_name, monkeypatch, times=1):
    """tracing.install fails in the first `times` threads whose name starts with
    `thread_name`, as when
    another thread's sys.settrace held the interpreter's flag throughout."""
    real = tracing.install
    refused = []

    def install(tracer):
        if tracer is not None and threading.current_thread().name.startswith(thread_name) \
                and len(refused) < times:
            refused.append(thread_name)
            raise tracing.TracerUnavailable("refused by the test")
        return real(tracer)

    monkeypatch.setattr(tracing, "install", install)
    return refused


def test_a_stress_run_whose_thread_got_no_tracer_judges_nothing_and_is_replaced(student_code, monkeypatch):
    module = student_code("unsound_counter", COUNTER)
    refused = _refuse_once_in("Thread-2", monkeypatch)  # not Thread-2x: 4 threads a run
    result = engine().stress(_counting(module), runs=5, stop_at_first=False)
    assert refused, "the test refused no install"
    assert not result.failures, result.failures[:1]  # no count reported lost
    assert len(result.unsound_runs) == 1 and "refused by the test" in result.unsound_runs[0]
    assert result.schedules == len(engine().seeds(5)), "the run that judged nothing was replaced"


def test_stress_that_can_never_install_its_tracer_says_so_instead_of_judging(student_code, monkeypatch):
    module = student_code("never_traced", COUNTER)
    _refuse_once_in("Thread-1", monkeypatch, times=10_000)
    with pytest.raises(tracing.TracerUnavailable, match="no run under stress"):
        engine().stress(_counting(module), runs=3)


def test_a_controlled_thread_without_its_tracer_falls_back_to_stress(student_code, monkeypatch):
    module = student_code("controlled_untraced", COUNTER.replace(
        'threading = importlib.import_module("threading")', "import threading"))
    _refuse_once_in("controlled-Thread-1", monkeypatch)
    result = engine(5).explore(_counting(module))
    assert result.engine == "stress" and "could not install its tracer" in result.engine_reason
    assert not result.failures, result.failures[:1]
