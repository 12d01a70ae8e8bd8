"""Recording, from inside a given kernel, when each process was computing.

The grader stages instrumented versions of the given CPU-heavy functions (`detector.py`,
`workloads.py`). They return exactly what the originals return and, per process, note
when the kernel ran: intervals of consecutive calls, the time actually spent inside the
calls, how many calls, the process's CPU time, how many threads called. That evidence of
parallelism comes from inside the work, so a neighbour's job slowing the machine down
does not change it (wall-clock speedup does change).

How the evidence survives however the student starts workers:
- Each process writes into its own file, memory-mapped: a write is a store into shared
  memory that the kernel keeps even when the process is killed (Pool.terminate sends
  SIGTERM, `os._exit` skips atexit). Nothing waits for exit to flush.
- The open interval is written back every SYNC_NS and every closed interval at once, so
  at most SYNC_NS of work is missing from a process that dies.
- fork (Pool, executors, forkserver): `os.register_at_fork` gives the child a fresh
  record and file; the parent's mapping is never written by the child. spawn: the module
  is imported afresh. The directory comes from the environment (EVIDENCE_ENV), which
  every way of starting a process inherits.
- Without EVIDENCE_ENV nothing is written: the kernel behaves like the given one.

The cost is two clock reads and a handful of attribute updates per call (measured in
tests/test_timing.py and bench/parallelism.py: about 10% of a 5 us kernel).

This module is imported by student worker processes: keep it small, standard library only.
"""
from __future__ import annotations

import mmap
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

EVIDENCE_ENV = "GRADER_EVIDENCE_DIR"
# A per-run secret the instrumented kernels calibrate their values with (detector.py):
# set by the hidden tests before any student code runs, inherited by every worker.
CALIBRATION_ENV = "GRADER_KERNEL_CALIBRATION"

# A pause longer than this between two calls starts a new interval. Between the calls of
# one task (a loop over a chunk) the pause is a microsecond or two; a worker waiting for
# its next task waits 250 us or more (measured: submit-and-wait), and a pool fed one event
# per task 20-50 us (that case shows in the time spent inside the calls instead).
GAP_NS = 100_000
# The open interval is written back this often: a worker killed without warning (Pool
# terminate) loses at most this much of its record. Each write back costs about 3 us
# (one of them reads the process's CPU time): 1.5% of a 5 us kernel at this period.
SYNC_NS = 200_000
CAPACITY = 65_536  # closed intervals per process file; beyond it, intervals merge

MAGIC = 0x4556494431  # "EVID1"
HEADER_SLOTS = 16  # int64 slots: magic, pid, ppid, capacity, closed count, open record
SLOTS = 7  # start_ns, end_ns, busy_ns, calls, cpu_start_ns, cpu_end_ns, threads
_H_MAGIC, _H_PID, _H_PPID, _H_CAPACITY, _H_CLOSED, _H_OPEN = 0, 1, 2, 3, 4, 5

_recorders: list["Recorder"] = []

clock = time.perf_counter_ns  # CLOCK_MONOTONIC on Linux: one time line for all processes
_cpu = time.process_time_ns  # all threads of this process


class Recorder:
    """The running record of one kernel in one process.

    `note(t0, t1)` is the hot path, called after every kernel call with the clock read
    just before and just after it.
    """

    __slots__ = ("kernel", "start", "end", "busy", "calls", "cpu_start", "synced",
                 "threads", "closed", "slots", "_map", "directory")
    slots: memoryview | None  # the mapped file as int64 slots, while recording
    _map: mmap.mmap | None

    def __init__(self, kernel: str) -> None:
        self.kernel = kernel
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        _recorders.append(self)

    def flush(self) -> None:
        """Write back the open interval now (the grader's own process, after a run)."""
        if self.calls:
            self._sync(self.end)

    def _reset(self) -> None:
        # In a forked child the inherited mapping belongs to the parent's file: drop it
        # without writing (closing it would only unmap it here, which is also fine).
        self._map = self.slots = None
        self.directory: str | None = None  # where this process's file is
        self.start = self.busy = self.calls = 0
        self.end = -(1 << 62)  # the first call always opens an interval
        self.cpu_start = self.synced = 0
        self.threads: set[int] = set()
        self.closed = 0

    def note(self, t0: int, t1: int) -> None:
        if t0 - self.end > GAP_NS:
            self._open(t0)
        self.end = t1
        self.busy += t1 - t0
        self.calls += 1
        if t1 - self.synced > SYNC_NS:
            self.threads.add(threading.get_ident())  # a thread that calls the kernel
            self._sync(t1)

    def _open(self, t0: int) -> None:
        """Close the running interval (if any) and start one at t0."""
        directory = os.environ.get(EVIDENCE_ENV)
        if directory != self.directory:  # the first interval, or the grader moved it
            self._attach(directory)
        if self.slots is None:
            # Not recording: keep the in-memory bookkeeping cheap and bounded.
            self.start, self.busy, self.calls = t0, 0, 0
            return
        if self.calls:
            if self.closed < CAPACITY:
                self._write_closed()
            else:
                # Full: keep extending the open interval; busy time and calls stay exact.
                return
        self.start, self.busy, self.calls = t0, 0, 0
        self.cpu_start = _cpu()
        self.threads = {threading.get_ident()}
        self.synced = 0  # write the new interval back after its first call

    def _sync(self, now: int) -> None:
        # Not the thread that writes back: flush() runs in the grader's thread after the
        # call, and counting it made two worker threads "your 3 threads".
        self.synced = now
        slots = self.slots
        if slots is None:
            return
        base = _H_OPEN
        slots[base] = self.start
        slots[base + 1] = self.end
        slots[base + 2] = self.busy
        slots[base + 3] = self.calls
        slots[base + 4] = self.cpu_start
        slots[base + 5] = _cpu()
        slots[base + 6] = len(self.threads)

    def _write_closed(self) -> None:
        slots = self.slots
        assert slots is not None  # called only while recording (note checks it)
        base = HEADER_SLOTS + self.closed * SLOTS
        slots[base] = self.start
        slots[base + 1] = self.end
        slots[base + 2] = self.busy
        slots[base + 3] = self.calls
        slots[base + 4] = self.cpu_start
        slots[base + 5] = _cpu()
        slots[base + 6] = len(self.threads)
        self.closed += 1
        slots[_H_CLOSED] = self.closed  # after the record: a reader never sees half of one
        slots[_H_OPEN + 3] = 0  # the open record is now empty until the next sync

    def _attach(self, directory: str | None) -> None:
        self._map = self.slots = None
        self.directory, self.closed, self.calls = directory, 0, 0
        if not directory:
            return
        pid = os.getpid()
        name = f"{self.kernel}-{pid}-{time.monotonic_ns()}.ev"
        size = (HEADER_SLOTS + CAPACITY * SLOTS) * 8
        try:
            fd = os.open(os.path.join(directory, name), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.ftruncate(fd, size)  # sparse: pages cost nothing until written
                mapped = mmap.mmap(fd, size)
            finally:
                os.close(fd)
        except OSError:
            return  # a missing directory must not break the student's run
        slots = memoryview(mapped).cast("q")
        slots[_H_PID] = pid
        slots[_H_PPID] = os.getppid()
        slots[_H_CAPACITY] = CAPACITY
        slots[_H_CLOSED] = 0
        slots[_H_MAGIC] = MAGIC
        self._map, self.slots = mapped, slots


def flush() -> None:
    """Write back every recorder of this process (workers write back by themselves)."""
    for recorder in _recorders:
        recorder.flush()


# ----------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class Interval:
    """Consecutive kernel calls in one process, with no pause longer than GAP_NS."""

    start: int  # ns, the clock before the first call
    end: int  # ns, the clock after the last call
    busy: int  # ns spent inside the calls (wall time, summed over the calls)
    calls: int
    cpu_start: int  # the process's CPU time (ns) when the interval began ...
    cpu_end: int  # ... and when it was last written
    threads: int  # distinct threads seen calling the kernel in it

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def in_calls(self) -> int:
        # Threads of one process waiting for the GIL inside a call overlap in wall time:
        # never count more than the interval itself.
        return min(self.busy, self.end - self.start)


@dataclass(frozen=True)
class Trace:
    """Everything one process recorded for one kernel."""

    kernel: str
    pid: int
    ppid: int
    intervals: tuple[Interval, ...]

    @property
    def calls(self) -> int:
        return sum(i.calls for i in self.intervals)


def read_traces(directory: str | os.PathLike[str], kernel: str | None = None) -> list[Trace]:
    """Every process's record in `directory`, oldest file first."""
    traces = []
    for path in sorted(Path(directory).glob("*.ev"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
        name = path.stem.rsplit("-", 2)[0]
        if kernel is not None and name != kernel:
            continue
        trace = _read(path, name)
        if trace is not None:
            traces.append(trace)
    return traces


def _read(path: Path, kernel: str) -> Trace | None:
    # Read the header, then only the records written: the file is mostly sparse.
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER_SLOTS * 8)
            if len(head) < HEADER_SLOTS * 8:
                return None
            header = memoryview(head).cast("q")
            if header[_H_MAGIC] != MAGIC:
                return None  # created but not yet initialised
            closed = max(0, min(header[_H_CLOSED], header[_H_CAPACITY]))
            body = f.read(closed * SLOTS * 8)
    except OSError:
        return None
    slots = memoryview(body[: len(body) - len(body) % 8]).cast("q")
    records = [tuple(slots[i * SLOTS: (i + 1) * SLOTS]) for i in range(len(slots) // SLOTS)]
    if header[_H_OPEN + 3] > 0:
        records.append(tuple(header[_H_OPEN: _H_OPEN + SLOTS]))
    intervals = tuple(Interval(*r) for r in records if r[3] > 0 and r[1] >= r[0])
    return Trace(kernel, header[_H_PID], header[_H_PPID], intervals)
