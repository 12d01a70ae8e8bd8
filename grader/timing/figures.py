"""The figures of one timed call, from the traces the instrumented kernels recorded."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from grader.kernels.evidence import Trace

# --------------------------------------------------------------------------- figures

@dataclass(frozen=True)
class Worker:
    """One process's share of one run."""

    pid: int
    main: bool  # the grader's own process (where a serial loop or threads run)
    calls: int
    working: float  # s inside intervals of consecutive calls (pauses < GAP_NS included)
    in_calls: float  # s inside the calls themselves
    first: float  # s since the run's kernel start
    last: float
    cpu: float  # s of CPU from its first to its last recorded moment in the run
    threads: int
    intervals: tuple[tuple[float, float], ...]  # s since the run's kernel start

    @property
    def duty(self) -> float:
        """Share of its working time spent inside the kernel's calls."""
        return min(1.0, self.in_calls / self.working) if self.working > 0 else 1.0


@dataclass(frozen=True)
class Run:
    """What one timed call showed: wall and CPU time, and the kernel's evidence."""

    name: str  # serial | reference | student
    wall: float  # s
    parent_cpu: float  # s, the grader's process (every thread) during the call
    workers: tuple[Worker, ...] = ()
    span: float = 0.0  # s from the first kernel call to the last, over all processes
    error: str = ""  # the call raised: its exception, in one line
    # s of CPU the kernel counted in every other process of this process's tree during the
    # call (/proc and getrusage: no Python code can write it); None where /proc is unread.
    others_cpu: float | None = None

    @property
    def calls(self) -> int:
        return sum(w.calls for w in self.workers)

    @property
    def worker_cpu(self) -> float:
        return sum(w.cpu for w in self.workers if not w.main)

    @property
    def cpu(self) -> float:
        return self.parent_cpu + self.worker_cpu

    @property
    def concurrency(self) -> float:
        """In-kernel concurrency: processes working at once, on average over the span."""
        return sum(w.working for w in self.workers) / self.span if self.span > 0 else 0.0

    @property
    def processes(self) -> int:
        """Processes that called the kernel at all."""
        return len(self.workers)

    def active(self, workers: int) -> int:
        """Processes that did a real share: at least a quarter of an even split."""
        fair = self.calls / max(1, workers)
        return sum(1 for w in self.workers if w.calls >= 0.25 * fair and w.calls > 0)

    @property
    def worker_calls(self) -> int:
        return sum(w.calls for w in self.workers if not w.main)

    @property
    def worker_share(self) -> float:
        """Share of the kernel calls made in processes other than the calling one."""
        return sum(w.calls for w in self.workers if not w.main) / self.calls if self.calls else 0.0

    @property
    def threads(self) -> int:
        return max((w.threads for w in self.workers), default=0)

    @property
    def duty(self) -> float:
        """Share of the working time spent inside the calls, over the worker processes
        (over the calling process when there are none)."""
        chosen = [w for w in self.workers if not w.main] or list(self.workers)
        working = sum(w.working for w in chosen)
        return min(1.0, sum(w.in_calls for w in chosen) / working) if working > 0 else 0.0


def run_figures(name: str, traces: Iterable[Trace], start_ns: int, end_ns: int,
                wall: float, parent_cpu: float, main_pid: int, error: str = "",
                others_cpu: float | None = None) -> Run:
    """The figures of one call from the evidence recorded between start_ns and end_ns."""
    clipped: list[tuple[Trace, list[tuple[int, int, float, float, int, int, int]]]] = []
    for trace in traces:
        parts = []
        for i in trace.intervals:
            lo, hi = max(i.start, start_ns), min(i.end, end_ns)
            if hi < lo or (hi == lo and not (i.start == i.end and start_ns <= i.start <= end_ns)):
                continue
            length = i.end - i.start
            share = (hi - lo) / length if length > 0 else 1.0
            parts.append((lo, hi, i.in_calls * share, i.calls * share,
                          i.cpu_start, i.cpu_end, i.threads))
        if parts:
            clipped.append((trace, parts))
    if not clipped:
        return Run(name, wall, parent_cpu, (), 0.0, error, others_cpu)
    t0 = min(p[0] for _, parts in clipped for p in parts)
    t1 = max(p[1] for _, parts in clipped for p in parts)
    workers = []
    for trace, parts in clipped:
        workers.append(Worker(
            pid=trace.pid, main=trace.pid == main_pid,
            calls=round(sum(p[3] for p in parts)),
            working=sum(p[1] - p[0] for p in parts) / 1e9,
            in_calls=sum(p[2] for p in parts) / 1e9,
            first=(parts[0][0] - t0) / 1e9, last=(parts[-1][1] - t0) / 1e9,
            cpu=max(0, parts[-1][5] - parts[0][4]) / 1e9,
            threads=max(p[6] for p in parts),
            intervals=tuple(((p[0] - t0) / 1e9, (p[1] - t0) / 1e9) for p in parts)))
    workers.sort(key=lambda w: (not w.main, w.first))
    return Run(name, wall, parent_cpu, tuple(workers), (t1 - t0) / 1e9, error, others_cpu)


def busy_chart(run: Run, limit: int = 200) -> dict[str, Any]:
    """When each process was inside the kernel, in ms, for a chart of busy intervals."""
    rows = []
    for n, w in enumerate(run.workers, 1):
        # worker 0: the calling process (grader/report/figures.py names the lanes)
        worker = 0 if w.main else n - (1 if run.workers[0].main else 0)
        rows.append({"worker": worker, "pid": w.pid, "calls": w.calls,
                     "intervals": _coarse(w.intervals, run.span, limit)})
    return {"unit": "ms", "span": round(run.span * 1e3, 1), "processes": rows}


def _coarse(intervals: Sequence[tuple[float, float]], span: float,
            limit: int) -> list[list[float]]:
    # Merge intervals separated by less than a chart pixel so that a chart stays small.
    merged: list[list[float]] = []
    gap = span / (limit * 2) if span > 0 else 0.0
    for a, b in intervals:
        if merged and a - merged[-1][1] <= gap:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [[round(a * 1e3, 2), round(b * 1e3, 2)] for a, b in merged[: limit]]


