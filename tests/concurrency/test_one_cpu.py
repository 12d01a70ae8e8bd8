"""A controlled schedule runs on one CPU (runtime.OneCpu), unseen by the student's code.

The pin is a cost saving only: the student's threads must see the machine as they would
without it (a pool sized from the usable cores must not shrink under the grader), the
thread that ran the schedule must be free again afterwards, and a process forked during a
schedule must start free."""
from __future__ import annotations

import os
import threading

from grader.concurrency import runtime
from tests.concurrency.conftest import engine

SEEN = """
import os
import threading

seen = []

def look():
    count = os.process_cpu_count() if hasattr(os, "process_cpu_count") else None
    seen.append((sorted(os.sched_getaffinity(0)), sorted(os.sched_getaffinity(os.getpid())), count))

def two_threads():
    threads = [threading.Thread(target=look) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""


def _real_mask() -> set[int]:
    assert runtime._real_getaffinity is not None
    return runtime._real_getaffinity(0)


def test_the_students_threads_see_the_cores_they_would_see_without_the_pin(student_code):
    module = student_code("sees_cores", SEEN)
    before = sorted(os.sched_getaffinity(0))
    count = os.process_cpu_count() if hasattr(os, "process_cpu_count") else None
    result = engine(5).explore(lambda run: module.two_threads(), stop_at_first=False)
    assert not result.failures
    assert module.seen and all(s == (before, before, count) for s in module.seen), module.seen
    assert sorted(_real_mask()) == before  # the thread that ran the schedules is free again


def _pinning_allowed(free: set[int]) -> bool:
    """Whether this system lets a thread narrow its own CPU mask (a container may not)."""
    if not hasattr(os, "sched_setaffinity") or len(free) < 2:
        return False
    allowed = []

    def probe() -> None:  # in a thread of its own: its mask dies with it
        try:
            os.sched_setaffinity(0, {min(free)})
            allowed.append(runtime._real_getaffinity(0) == {min(free)})
        except OSError:
            allowed.append(False)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return allowed == [True]


def test_the_schedule_runs_on_one_cpu_where_there_are_several(student_code):
    module = student_code("real_mask", """
masks = []
def record(mask):
    masks.append(mask)
""")
    free = _real_mask()
    result = engine(3).explore(lambda run: run.threads(lambda: module.record(_real_mask()), 2),
                               stop_at_first=False)
    assert not result.failures and module.masks
    if _pinning_allowed(free):
        assert all(len(mask) == 1 and mask <= free for mask in module.masks), module.masks
    else:  # one usable CPU, or a system that refuses the mask: nothing pinned, nothing changes
        assert all(mask == free for mask in module.masks), module.masks
    assert _real_mask() == free and runtime.OneCpu.free is None and runtime.OneCpu.active == 0


def test_a_process_forked_during_a_schedule_starts_free():
    free = _real_mask()
    pin = runtime.OneCpu()
    pin.pin()
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.write(write_end, ",".join(map(str, sorted(_real_mask()))).encode())
            os._exit(0)
        os.close(write_end)
        child = os.read(read_end, 200).decode()
        os.close(read_end)
        os.waitpid(pid, 0)
    finally:
        pin.unpin()
    assert child == ",".join(map(str, sorted(free)))
    assert _real_mask() == free
