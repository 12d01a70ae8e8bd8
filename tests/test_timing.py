"""The parallelism protocol: recording inside the kernel, and the rule on synthetic evidence.

Nothing here depends on how fast this machine is: the rule is tested on evidence built by
hand, the recorder with clock values passed in, and the process tests only check that
evidence arrives however a worker starts and ends.
"""
from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest

from grader import timing
from grader.cores import Cores
from grader.kernels import detector as instrumented
from grader.kernels import evidence
from grader.timing import (ONE_POOL, OVERHEAD, PARALLEL, SPEEDUP, Round, Run, Thresholds,
                           Worker, judge, run_figures)

ROOT = Path(__file__).resolve().parent.parent
MS = 1_000_000  # ns


@pytest.fixture
def evidence_in(tmp_path, monkeypatch):
    monkeypatch.setenv(evidence.EVIDENCE_ENV, str(tmp_path))
    return tmp_path


# ------------------------------------------------------------------ the recorder

def test_consecutive_calls_make_one_interval_and_a_pause_starts_another(evidence_in):
    rec = evidence.Recorder("k")
    for i in range(10):  # 10 calls of 5 us, 1 us apart
        rec.note(1_000 * MS + i * 6_000, 1_000 * MS + i * 6_000 + 5_000)
    rec.note(1_010 * MS, 1_010 * MS + 5_000)  # 10 ms later: a new interval
    rec.flush()
    (trace,) = evidence.read_traces(evidence_in, "k")
    assert trace.pid == os.getpid() and trace.calls == 11
    first, second = trace.intervals
    assert (first.start, first.end, first.busy, first.calls) == (1_000 * MS, 1_000 * MS + 59_000,
                                                                 50_000, 10)
    assert (second.start, second.calls, second.threads) == (1_010 * MS, 1, 1)


def test_nothing_is_written_without_the_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(evidence.EVIDENCE_ENV, raising=False)
    rec = evidence.Recorder("k")
    rec.note(MS, 2 * MS)
    rec.flush()
    assert list(tmp_path.iterdir()) == []


def test_a_full_file_keeps_counting_in_its_last_interval(evidence_in, monkeypatch):
    monkeypatch.setattr(evidence, "CAPACITY", 3)
    rec = evidence.Recorder("k")
    for i in range(10):  # ten separate intervals
        rec.note(i * 10 * MS, i * 10 * MS + 5_000)
    rec.flush()
    (trace,) = evidence.read_traces(evidence_in, "k")
    assert len(trace.intervals) == 4 and trace.calls == 10


def test_threads_of_one_process_never_count_more_than_wall_time():
    lap = evidence.Interval(0, 10 * MS, busy=19 * MS, calls=100, cpu_start=0, cpu_end=10 * MS,
                            threads=2)  # two threads, each inside a call the whole time
    assert lap.in_calls == 10 * MS


def _child_notes_then(how: str) -> None:  # pragma: no cover - runs in a child
    for _ in range(200):
        instrumented.reconstruct((1.0, 2.0, 3.0))
    # One more call, as if a while later: the record is written back (as it is every
    # SYNC_NS of work), then the child dies without any clean-up.
    t = evidence.clock() + 2 * evidence.SYNC_NS
    instrumented._note(t, t + 1)
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(0)


@pytest.mark.parametrize("how", ["os._exit", "sigkill"])
def test_a_forked_child_records_in_its_own_file_and_keeps_it_when_it_dies(evidence_in, how):
    instrumented.reconstruct((1.0,))  # the parent records too, before the fork
    evidence.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        _child_notes_then(how)
    os.waitpid(pid, 0)
    traces = {t.pid: t for t in evidence.read_traces(evidence_in, "reconstruct")}
    assert traces[os.getpid()].calls == 1  # the child never wrote into the parent's file
    assert traces[pid].calls == 201 and traces[pid].ppid == os.getpid()


def _square_energy(event):
    return instrumented.reconstruct(event)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers_record_however_they_start(evidence_in, method):
    ctx = multiprocessing.get_context(method)
    events = [(float(i % 7), 1.0, 2.0) for i in range(400)]
    with ctx.Pool(2) as pool:  # leaving the block terminates the workers (SIGTERM)
        values = pool.map(instrumented.reconstruct, events, chunksize=50)
    assert values == [instrumented.reconstruct(e) for e in events]
    workers = [t for t in evidence.read_traces(evidence_in, "reconstruct") if t.pid != os.getpid()]
    # Killed without warning, a worker loses at most its last SYNC_NS of calls.
    assert workers and sum(t.calls for t in workers) >= 400 * 0.5


def test_the_instrumented_detector_computes_what_the_given_one_computes():
    sys.path.insert(0, str(ROOT / "exercises" / "parallel_histogram"))
    try:
        import detector as given
    finally:
        sys.path.pop(0)
    rng = random.Random(5)
    events = [tuple(rng.expovariate(0.4) for _ in range(rng.randint(0, 8))) for _ in range(3000)]
    assert [instrumented.reconstruct(e) for e in events] == [given.reconstruct(e) for e in events]


def test_the_threads_counted_are_those_that_called_the_kernel(evidence_in):
    """Two threads calling; the flush, from a third (the grader's, after the call), is not one."""
    import threading
    rec = evidence.Recorder("k")
    start = time.perf_counter_ns()

    turn = [threading.Event(), threading.Event()]

    def calls(k: int) -> None:
        turn[k].wait()
        for i in range(5):
            t = start + k * 1_500_000 + i * 300_000  # 0.3 ms apart (past SYNC_NS), 50 us between calls
            rec.note(t, t + 250_000)
        if k == 0:
            turn[1].set()

    # One after the other, 50 us apart: one interval (GAP_NS) called by two threads, both
    # alive until the end (an ended thread's ident may be given to the next one).
    threads = [threading.Thread(target=calls, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    turn[0].set()
    for t in threads:
        t.join()
    rec.flush()
    (trace,) = evidence.read_traces(evidence_in, "k")
    assert [i.threads for i in trace.intervals] == [2]


def test_run_figures_clip_the_evidence_to_the_call(evidence_in):
    rec = evidence.Recorder("k")
    for t in range(0, 100 * MS, 10_000):  # one interval, 0-100 ms
        rec.note(t, t + 9_000)
    rec.flush()
    traces = evidence.read_traces(evidence_in, "k")
    run = run_figures("student", traces, 50 * MS, 200 * MS, 0.15, 0.0, main_pid=os.getpid())
    (worker,) = run.workers
    assert worker.main and worker.calls == pytest.approx(5000, abs=2)
    assert run.span == pytest.approx(0.05, rel=0.01) and run.concurrency == pytest.approx(1.0)
    assert worker.duty == pytest.approx(0.9, abs=0.01)
    empty = run_figures("student", traces, 300 * MS, 400 * MS, 0.1, 0.0, os.getpid())
    assert empty.workers == () and empty.concurrency == 0.0


# ------------------------------------------------------------------ synthetic evidence

def worker(pid: int, intervals: list[tuple[float, float]], *, main: bool = False,
           calls: int | None = None, duty: float = 0.85, cpu: float | None = None,
           threads: int = 1) -> Worker:
    working = sum(b - a for a, b in intervals)
    return Worker(pid=pid, main=main, calls=calls if calls is not None else int(working * 1e5),
                  working=working, in_calls=duty * working, first=intervals[0][0],
                  last=intervals[-1][1], cpu=cpu if cpu is not None else working,
                  threads=threads, intervals=tuple(intervals))


def run(name: str, workers: list[Worker], wall: float, parent_cpu: float = 0.02) -> Run:
    span = max(w.last for w in workers) - min(w.first for w in workers) if workers else 0.0
    return Run(name, wall, parent_cpu, tuple(workers), span)


def serial_run(seconds: float = 1.0) -> Run:
    return run("serial", [worker(1, [(0.0, seconds)], main=True, cpu=0.0)], seconds,
               parent_cpu=seconds)


def parallel(workers: int = 2, seconds: float = 1.0, **kw) -> Run:
    share = seconds / workers
    return run("student", [worker(10 + i, [(0.01 * i, 0.01 * i + share)], **kw)
                           for i in range(workers)], share + 0.03)


def rounds_of(student: Run, *, n: int = 3, reference: Run | None = None,
              probe: tuple[float, ...] = (0.97, 0.98)) -> list[Round]:
    return [Round(serial_run(), student, reference or parallel(), probe) for _ in range(n)]


TWO = Cores(2, 2)


def test_a_parallel_solution_earns_everything_and_its_speedup_counts_on_free_cores():
    verdict = judge(rounds_of(parallel()), 2, TWO)
    assert all(c.passed for c in verdict.checks.values()), verdict.checks
    assert verdict.quiet and verdict.speedup["counted"]
    assert verdict.figures["concurrency_median"] == pytest.approx(1.96, abs=0.02)
    chart = verdict.figures["busy_intervals"]
    assert [len(p["intervals"]) for p in chart["processes"]] == [1, 1]


def test_serial_code_fails_every_parallelism_check():
    serial_student = run("student", [worker(1, [(0.0, 1.0)], main=True)], 1.0, parent_cpu=1.0)
    verdict = judge(rounds_of(serial_student), 2, TWO)
    assert verdict[PARALLEL].passed is False and verdict[PARALLEL].verdict == "serial"
    assert "calling process, one after another" in verdict[PARALLEL].message
    assert "1.00" in verdict[PARALLEL].message and "expected close to 2" in verdict[PARALLEL].message
    assert verdict[OVERHEAD].passed is False and verdict[ONE_POOL].passed is False
    assert "in the calling process: this point is for a parallel run" in verdict[OVERHEAD].message
    assert verdict[SPEEDUP].passed is False  # free cores, healthy reference: it counts


def test_threads_are_explained_by_the_gil():
    threaded = run("student", [worker(1, [(0.0, 1.0)], main=True, threads=4)], 1.0, 1.0)
    message = judge(rounds_of(threaded), 2, TWO)[PARALLEL].message
    assert "4 threads took turns" in message and "GIL" in message


def test_workers_taking_turns_ran_one_after_another():
    turns = run("student", [worker(10, [(0.0, 0.25), (0.5, 0.75)], cpu=0.5),
                            worker(11, [(0.25, 0.5), (0.75, 1.0)], cpu=0.5)], 1.05)
    verdict = judge(rounds_of(turns), 2, TWO)
    assert "2 workers ran one after another" in verdict[PARALLEL].message
    assert "(in-kernel concurrency 1.00, expected close to 2)" in verdict[PARALLEL].message
    assert verdict[OVERHEAD].passed and verdict[ONE_POOL].passed


def test_one_task_per_event_shows_in_the_time_inside_the_calls_and_the_cpu():
    chatty = parallel(duty=0.1, cpu=4.0)
    verdict = judge(rounds_of(chatty), 2, TWO)
    assert verdict[PARALLEL].passed is False and "only 10% of their working time" in verdict[
        PARALLEL].message
    assert verdict[OVERHEAD].passed is False and verdict[OVERHEAD].verdict == "too_slow"
    assert "8.02x" in verdict[OVERHEAD].message


def test_shipping_the_whole_list_shows_as_cpu_outside_the_kernel():
    shipping = run("student", [worker(10, [(0.0, 0.3), (0.6, 0.9)], cpu=1.0),
                               worker(11, [(0.3, 0.6), (0.9, 1.2)], cpu=1.0)], 1.25, 0.4)
    verdict = judge(rounds_of(shipping), 2, TWO)
    assert "outside reconstruct(), between tasks" in verdict[PARALLEL].message
    assert verdict[OVERHEAD].passed is False and "pickling" in verdict[OVERHEAD].message


def test_a_pool_per_batch_shows_as_many_processes():
    batches = run("student", [worker(100 + i, [(0.05 * i, 0.05 * i + 0.04)], calls=2_500)
                              for i in range(40)], 2.0)
    verdict = judge(rounds_of(batches), 2, TWO)
    assert verdict[ONE_POOL].passed is False
    assert "started 40 worker processes to run 2 workers" in verdict[ONE_POOL].message
    assert "40 short-lived worker processes" in verdict[PARALLEL].message


def test_a_busy_machine_never_counts_the_speedup():
    slow_but_parallel = parallel()
    rounds = [Round(serial_run(), replace_wall(slow_but_parallel, 1.2), parallel(), (0.6, 0.7))
              for _ in range(3)]
    verdict = judge(rounds, 2, TWO)
    assert verdict[PARALLEL].passed and verdict[SPEEDUP].passed is None
    assert "machine was busy" in verdict[SPEEDUP].message and not verdict.speedup["counted"]


def replace_wall(r: Run, wall: float) -> Run:
    return Run(r.name, wall, r.parent_cpu, r.workers, r.span, r.error)


def test_on_free_cores_a_parallel_run_with_no_speedup_fails_the_speedup():
    stalled = replace_wall(parallel(), 1.4)  # parallel evidence, but slower than serial
    verdict = judge(rounds_of(stalled), 2, TWO)
    assert verdict[PARALLEL].passed and verdict[SPEEDUP].passed is False


def test_a_reference_without_parallelism_means_the_machine_cannot_judge():
    reference = run("reference", [worker(7, [(0.0, 0.5)]), worker(8, [(0.5, 1.0)])], 1.0)
    turns = run("student", [worker(10, [(0.0, 0.5)]), worker(11, [(0.5, 1.0)])], 1.0)
    verdict = judge(rounds_of(turns, reference=reference), 2, TWO)
    assert verdict[PARALLEL].passed is None and "own parallel version" in verdict[PARALLEL].message
    # No worker process at all is a fact of the code, whatever the machine did.
    serial_student = run("student", [worker(1, [(0.0, 1.0)], main=True)], 1.0, 1.0)
    verdict = judge(rounds_of(serial_student, reference=reference), 2, TWO)
    assert verdict[PARALLEL].passed is False


def test_an_exception_fails_every_check_with_its_message():
    broken = Run("student", 0.1, 0.1, (), 0.0, "ValueError: no")
    verdict = judge(rounds_of(broken), 2, TWO)
    assert all(c.verdict == "error" and "ValueError: no" in c.message
               for c in verdict.checks.values())


def test_reconstruct_never_called_is_explained():
    verdict = judge(rounds_of(run("student", [], 0.5)), 2, TWO)
    assert "never called" in verdict[PARALLEL].message


# ------------------------------------------------------------------ machine profiles

@pytest.mark.parametrize("usable, workers, verdicts", [
    (1, 1, {PARALLEL: None, OVERHEAD: None, ONE_POOL: None, SPEEDUP: None}),
    (2, 2, {PARALLEL: True, OVERHEAD: True, ONE_POOL: True, SPEEDUP: True}),
    (16, 4, {PARALLEL: False, OVERHEAD: True, ONE_POOL: True, SPEEDUP: False}),
])
def test_the_policy_adapts_to_one_two_and_sixteen_cores(usable, workers, verdicts):
    """The same two busy workers: not judged on 1 core, enough on 2, too few for 4 on 16."""
    cores = Cores(usable, usable)
    assert cores.workers_for(Thresholds().wish) == workers
    student = parallel(2) if workers > 1 else serial_run()
    reference = parallel(workers) if workers > 1 else serial_run()
    verdict = judge(rounds_of(student, reference=reference, probe=(0.99,) * workers),
                    workers, cores)
    assert {n: c.passed for n, c in verdict.checks.items()} == verdicts
    if usable == 1:
        assert "not judged" in verdict[PARALLEL].message and "1 usable core" in verdict[
            PARALLEL].message
    if usable == 16:
        assert verdict[PARALLEL].threshold == pytest.approx(2.6)
        assert "expected close to 4" in verdict[PARALLEL].message


# ------------------------------------------------------------------ rounds

def verdict_after(student: Run, n: int, **kw) -> timing.Verdict:
    return judge(rounds_of(student, n=n, **kw), 2, TWO)


def test_two_rounds_suffice_when_every_figure_is_far_from_its_threshold():
    t = Thresholds()
    assert not timing._enough(verdict_after(parallel(), 1), [None], t)
    assert timing._enough(verdict_after(parallel(), 2), [None] * 2, t)
    # Not far enough from the threshold to be sure after two: three.
    fair = run("student", [worker(10, [(0.0, 0.8)], calls=50_000, cpu=0.5),
                           worker(11, [(0.3, 1.0)], calls=50_000, cpu=0.5)], 0.6)  # 1.5
    assert not timing._enough(verdict_after(fair, 2), [None] * 2, t)
    assert timing._enough(verdict_after(fair, 3), [None] * 3, t)


def test_a_figure_close_to_its_threshold_asks_for_more_rounds():
    t = Thresholds()
    near = run("student", [worker(10, [(0.0, 0.7)]), worker(11, [(0.35, 1.0)])], 1.0)  # 1.35
    v = verdict_after(near, 3)
    assert v[PARALLEL].close_to_threshold(t.close)
    assert not timing._enough(v, [None] * 3, t) and timing._enough(v, [None] * 6, t)


def test_a_decisive_failure_stops_after_two_rounds_and_a_slow_one_after_the_pilot():
    t = Thresholds()
    turns = run("student", [worker(10, [(0.0, 0.5)]), worker(11, [(0.5, 1.0)])], 1.05)
    assert not timing._enough(verdict_after(turns, 1), [None], t)
    assert timing._enough(verdict_after(turns, 2), [None] * 2, t)
    slow = replace_wall(parallel(duty=0.05, cpu=10.0), 5.0)
    assert timing._pilot_decides(verdict_after(slow, 1), t)
    assert not timing._pilot_decides(verdict_after(parallel(), 1), t)
    # Slow and taking turns, but no overhead: concurrency alone never decides on a pilot.
    assert not timing._pilot_decides(verdict_after(replace_wall(turns, 5.0), 1), t)


def test_thresholds_from_exercise_params():
    t = Thresholds.from_params({"wish": 8, "cpu_overhead": 2})
    assert (t.wish, t.cpu_overhead, t.concurrency) == (8, 2, Thresholds().concurrency)
    with pytest.raises(ValueError, match="speedupp"):
        Thresholds.from_params({"speedupp": 1})


def test_measure_runs_interleaved_rounds_on_real_evidence(evidence_in):
    """A serial 'student' in this process: judged serial, from its own recorded calls."""
    events = [(1.0, 2.0, 3.0, 4.0)] * 3000

    def loop(share: float) -> float:
        return sum(instrumented.reconstruct(e) for e in events[: int(len(events) * share)])

    verdict = timing.measure(loop, loop, None, 2, TWO, Thresholds(probe_seconds=0.005),
                             kernel="reconstruct", rng=random.Random(1))
    assert verdict[PARALLEL].passed is False
    assert "calling process" in verdict[PARALLEL].message
    assert 2 <= len(verdict.rounds) <= Thresholds().max_rounds
    assert all(r.student.calls == pytest.approx(3000, abs=5) for r in verdict.rounds)


def test_a_spawned_pool_slower_to_start_still_earns_the_speedup_on_free_cores():
    spawned = replace_wall(parallel(), 0.7)  # 1.43x, like spawn start-up on 2 cores
    assert judge(rounds_of(spawned), 2, TWO)[SPEEDUP].passed is True


def test_the_pilot_never_decides_on_a_cpu_ratio_just_over_its_limit():
    # Submit-and-wait measured 1.8x CPU on a fifth of the work (pool start-up weighs
    # five times more there), 1.0-1.3x on the full work.
    t = Thresholds()
    turns = run("student", [worker(10, [(0.0, 0.5)], cpu=0.9), worker(11, [(0.5, 1.0)], cpu=0.9)],
                2.5, parent_cpu=0.05)
    verdict = verdict_after(turns, 1)
    assert verdict[OVERHEAD].passed is False and not timing._pilot_decides(verdict, t)


def test_on_one_core_a_pool_fed_one_event_per_task_still_costs_its_cpu():
    one_core = Cores(1, 1)
    chatty = run("student", [worker(10, [(0.0, 1.0)], duty=0.1, cpu=5.0)], 6.0)
    verdict = judge(rounds_of(chatty, reference=serial_run(), probe=(0.99,)), 1, one_core)
    assert verdict[PARALLEL].passed is None and verdict[SPEEDUP].passed is None
    assert verdict[OVERHEAD].passed is False and verdict[ONE_POOL].passed is True


# ------------------------------------------------------------------ evidence the OS backs

def with_os_cpu(student: Run, others_cpu: float | None) -> Run:
    return replace_(student, others_cpu=others_cpu)


def replace_(run_: Run, **kw) -> Run:
    from dataclasses import replace
    return replace(run_, **kw)


def test_a_record_the_os_did_not_see_computed_fails_every_check_that_reads_it():
    # Fake calls in the workers: the record claims a second of work, the OS counted 0.05 s.
    forged = with_os_cpu(parallel(), 0.05)
    verdict = judge(rounds_of(forged), 2, TWO)
    assert verdict[PARALLEL].passed is False and "operating system counted" in verdict[PARALLEL].message
    assert verdict[OVERHEAD].passed is False and verdict[ONE_POOL].passed is False
    backed = with_os_cpu(parallel(), 1.1)  # what the calls cost, and a little more
    assert all(c.passed for c in judge(rounds_of(backed), 2, TWO).checks.values())
    # No figure (no /proc): the rule does without it rather than guess.
    assert judge(rounds_of(with_os_cpu(parallel(), None)), 2, TWO)[PARALLEL].passed is True


def test_every_worker_computing_everything_loses_the_parallelism_points():
    # Two workers, each the whole run: twice the calls of the serial loop, at the same time.
    redundant = run("student", [worker(10, [(0.0, 1.0)], calls=100_000),
                                worker(11, [(0.0, 1.0)], calls=100_000)], 2.2)
    verdict = judge(rounds_of(redundant), 2, TWO)
    assert verdict[PARALLEL].passed is False
    assert "2.00 times per item" in verdict[PARALLEL].message
    assert verdict[PARALLEL].figure == pytest.approx(2.0)


def test_the_os_counts_the_cpu_of_children_reaped_or_not():
    from grader.kernels import accounting

    def child(seconds: float) -> int:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child spins for SECONDS of its own CPU time
            while time.process_time() < seconds:
                pass
            os._exit(0)
        return pid

    before = accounting.snapshot()
    reaped, zombie = child(0.2), child(0.1)
    os.waitpid(reaped, 0)
    while Path(f"/proc/{zombie}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        time.sleep(0.01)  # until it is a zombie: exited, not yet waited for
    counted = accounting.others_cpu(before, accounting.snapshot())
    os.waitpid(zombie, 0)
    assert counted is not None and counted >= 0.28  # CPU time, not wall time: exact enough


def test_the_run_calibration_changes_the_values_and_nothing_else():
    from grader.kernels import detector
    assert detector.calibration(None) == 1.0
    factors = {detector.calibration(f"{n:016x}") for n in range(0, 10**6, 997)}
    assert min(factors) >= 1.05 and max(factors) < 1.2001
    calibrated = detector._make(detector.GAIN * detector.calibration("abcdef0123456789"))
    rng = random.Random(3)
    events = [tuple(rng.expovariate(0.4) for _ in range(5)) for _ in range(500)]
    plain = [instrumented.reconstruct(e) for e in events]
    differ = sum(a != b for a, b in zip(plain, (calibrated(e) for e in events)))
    assert differ >= 490  # a private copy of the given kernel gives other energies
    assert calibrated.__qualname__ == "reconstruct"  # a pool pickles it by name


# ------------------------------------------------------------------ the budget

def test_what_the_budget_does_not_settle_is_not_judged_and_retried():
    t = Thresholds()
    near = run("student", [worker(10, [(0.0, 0.7)]), worker(11, [(0.35, 1.0)])], 1.0)  # 1.35
    close = timing.over_budget(verdict_after(near, 3), t)
    assert close[PARALLEL].passed is None and close[PARALLEL].reason == "budget"
    assert close[PARALLEL].message.startswith("not judged: 3 rounds in the 8 s budget")
    assert close[ONE_POOL].passed is True  # far from its threshold: settled
    # Far from every threshold: the budget changes nothing, pass or fail.
    assert timing.over_budget(verdict_after(parallel(), 3), t)[PARALLEL].passed is True
    serial_student = run("student", [worker(1, [(0.0, 1.0)], main=True)], 1.0, parent_cpu=1.0)
    assert timing.over_budget(verdict_after(serial_student, 1), t)[PARALLEL].passed is False


def test_not_judged_checks_say_why_with_a_key():
    busy = judge(rounds_of(parallel(), probe=(0.5, 0.6)), 2, TWO)
    assert busy[SPEEDUP].passed is None and busy[SPEEDUP].reason == "busy"
    assert busy[PARALLEL].judged  # in-kernel evidence: judged whatever the load
    lame = judge(rounds_of(parallel(), reference=run("reference", [worker(5, [(0, 1)]),
                                                                  worker(6, [(1, 2)])], 2.0)),
                 2, TWO)
    assert lame[PARALLEL].passed is None and lame[PARALLEL].reason == "busy"
    one = judge(rounds_of(parallel(), probe=(0.99,)), 1, Cores(1, 1))
    assert one[PARALLEL].reason == "one_core"
