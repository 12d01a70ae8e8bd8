"""The operating system's own count of the CPU time a call's other processes used.

The kernels' record (evidence.py) is written by Python code running in the student's
processes, so a student's code can write it too: call the recorder with made-up times
while computing elsewhere. The CPU time the kernel of the operating system accounts to
each process cannot be written by any code in it. Around one timed call:

    others CPU = sum over live descendants after (utime + stime + cutime + cstime)
               - the same sum before, for the descendants alive then (by pid and start time)
               + what getrusage(RUSAGE_CHILDREN) gained (children reaped meanwhile)

A worker that ran and was reaped shows in RUSAGE_CHILDREN (ours) or in the cutime of the
process that reaped it (a forkserver); one still alive, or a zombie, in /proc. Where /proc
cannot be read the figure is None and the rule does without it.
"""
from __future__ import annotations

import os
import resource
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Snapshot:
    tree: dict[tuple[int, int], float] | None  # (pid, start time) -> CPU s, descendants
    children: float  # RUSAGE_CHILDREN: CPU s of our reaped children (and theirs)


def _stat(pid: str) -> tuple[int, int, float] | None:
    """(ppid, start time, CPU s of the process and its reaped children) from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = text[text.rfind(")") + 2:].split()
    try:
        ppid = int(rest[1])
        cpu = sum(int(rest[i]) for i in (11, 12, 13, 14)) / TICK
        return ppid, int(rest[19]), cpu
    except (IndexError, ValueError):
        return None


def descendants(root: int | None = None) -> dict[tuple[int, int], float] | None:
    """(pid, start time) -> CPU seconds of every live (or zombie) descendant of ROOT."""
    root = os.getpid() if root is None else root
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    table: dict[int, tuple[int, int, float]] = {}
    for name in pids:
        stat = _stat(name)
        if stat is not None:
            table[int(name)] = stat
    if root not in table:
        return None  # not our /proc (another pid namespace): no figure rather than a wrong one
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[tuple[int, int], float] = {}
    stack = list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        _, start, cpu = table[pid]
        found[(pid, start)] = cpu
        stack.extend(children.get(pid, ()))
    return found


def _reaped() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def snapshot() -> Snapshot:
    return Snapshot(descendants(), _reaped())


def others_cpu(before: Snapshot, after: Snapshot) -> float | None:
    """CPU seconds the OS counted in this process's descendants between the snapshots."""
    if before.tree is None or after.tree is None:
        return None
    live = sum(after.tree.values()) - sum(cpu for key, cpu in before.tree.items())
    return max(0.0, live + after.children - before.children)
