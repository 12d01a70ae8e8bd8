"""Tests you can run yourself: `python -m pytest test_public.py` in this folder.

They are not the whole story: they use real threads and real time, so they see only the
interleavings your machine happens to produce. The grader runs your lock under a
controlled scheduler on many interleavings, and plays starvation scenarios on a virtual
clock, with readers and writers arriving at precise moments.
"""
import threading
import time

from rwlock import RWLock


def in_thread(target, seconds=5.0):
    """Run target() in a daemon thread; True if it finished within `seconds`."""
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def test_read_then_write_in_one_thread():
    rw = RWLock()

    def sequence():
        with rw.read_locked():
            pass
        with rw.write_locked():
            pass
        rw.acquire_read()
        rw.release_read()
        rw.acquire_write()
        rw.release_write()

    assert in_thread(sequence), "read then write in one thread did not finish: a lock left held?"


def test_two_readers_read_at_once():
    rw = RWLock()
    both_inside = threading.Barrier(2, timeout=2)

    def reader():
        with rw.read_locked():
            both_inside.wait()  # raises BrokenBarrierError if the other reader cannot come in

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert not both_inside.broken, "the second reader could not go in while the first was reading"


def test_writer_is_alone():
    rw = RWLock()
    inside = {"readers": 0, "writers": 0}
    problems = []
    guard = threading.Lock()

    def visit(kind):
        for _ in range(200):
            with (rw.write_locked() if kind == "writers" else rw.read_locked()):
                with guard:
                    inside[kind] += 1
                    if inside["writers"] > 1 or (inside["writers"] and inside["readers"]):
                        problems.append(dict(inside))
                time.sleep(0.00005)
                with guard:
                    inside[kind] -= 1

    def run_all():
        threads = [threading.Thread(target=visit, args=(k,)) for k in ("readers",) * 3 + ("writers",) * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert in_thread(run_all, 20), "readers and writers did not finish within 20 s: a deadlock?"
    assert not problems, f"a writer was not alone: {problems[0]}"


def test_writer_gets_in_while_readers_keep_coming():
    rw = RWLock()
    stop = threading.Event()
    wrote = threading.Event()

    def monitor():
        while not stop.is_set():
            with rw.read_locked():
                time.sleep(0.002)

    monitors = [threading.Thread(target=monitor, daemon=True) for _ in range(4)]
    for t in monitors:
        t.start()
        time.sleep(0.0005)  # staggered, so that their reads overlap

    def calibration():
        with rw.write_locked():
            wrote.set()

    writer = threading.Thread(target=calibration, daemon=True)
    writer.start()
    got_in = wrote.wait(2.0)
    stop.set()
    assert got_in, "the writer waited 2 s while readers kept reading: writers starve"
