"""Turning what the scheduler saw into sentences a student understands.

A deadlock becomes its wait-for cycle ("Thread-1 waits for the lock of account 2, held
by Thread-2, which waits for ..."), a failed invariant the interleaving that broke it
(each thread's steps, file, line and source, around the conflicting read and write), a
lock order inversion the two places that took the same locks in opposite orders.
"""
from __future__ import annotations

import dis
import gc
import linecache
import os
import sys
import traceback
from types import CodeType, FrameType, ModuleType
from typing import Any

from grader.concurrency.runtime import Explainer, Scheduler
from grader.concurrency.tasks import ScheduleFailure, Task, is_student_file
from grader.model import CYCLE, TRACE
from grader.testing import Failure

# ---- where: the student's line of code --------------------------------------------


def _line(filename: str, lineno: int) -> str:
    return linecache.getline(filename, lineno).strip()


def _short(filename: str) -> str:
    return os.path.basename(filename)


def student_site(sched: Scheduler, frame: FrameType | None) -> str:
    """'transfer.py line 14: with dst.lock:' for the innermost student frame."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if is_student_file(filename, sched.files):
            return f"{_short(filename)} line {frame.f_lineno}: {_line(filename, frame.f_lineno)}"
        frame = frame.f_back
    # Not in the student's files: the hidden test's own code, which students never see,
    # so its file and line would only confuse them.
    return "in the grader's test code"


def task_site(sched: Scheduler, task: Task) -> str:
    frame = sys._current_frames().get(task.ident or -1)
    return student_site(sched, frame)


# ---- naming locks and threads as the student wrote them ----------------------------

_NAME_HINTS = ("number", "id", "name", "index", "idx", "i", "n", "key")


def describe_object(obj: Any) -> str:
    """Account(number=1): the class and its identifying attribute, if it has one."""
    cls = type(obj).__name__
    try:
        attrs = vars(obj)
    except TypeError:
        return cls
    for hint in _NAME_HINTS:
        value = attrs.get(hint)
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            return f"{cls}({hint}={value!r})"
    return cls


def _is_grader_object(obj: Any) -> bool:
    return type(obj).__module__.startswith("grader.")


def _variable_name(value: Any) -> str | None:
    """The student's name for a list of locks: the variable a closure shares it through
    (`forks` in `def philosopher(i): ... forks[i]`), a module global or an attribute."""
    for ref in gc.get_referrers(value):
        if type(ref).__name__ == "cell":
            for func in gc.get_referrers(ref):
                if isinstance(func, tuple):  # a __closure__: find its function
                    cell = func.index(ref)
                    for f in gc.get_referrers(func):
                        code = getattr(f, "__code__", None)
                        if code is not None and getattr(f, "__closure__", None) is func:
                            return code.co_freevars[cell]
        elif isinstance(ref, dict):  # module globals or an object's __dict__
            name = next((k for k, v in ref.items() if v is value), None)
            if isinstance(name, str) and not name.startswith("_"):
                return name
    return None


def name_lock(sched: Scheduler, lock: Any) -> str:
    """The student's name for a lock: a label the test gave, or where it is stored
    (an attribute of an object, a module global, an item of a list), else where made."""
    lock = getattr(lock, "_outer", None) or lock
    label = sched.annotations.get(id(lock))
    if label:
        return label
    cached = sched.names.get(id(lock))
    if cached is None:
        # gc.get_referrers scans the whole heap: once per lock and schedule at most
        cached = sched.names[id(lock)] = _find_name(sched, lock)
        sched._keep.append(lock)  # its id must not be reused while the name is cached
    return cached


def _find_name(sched: Scheduler, lock: Any) -> str:
    kind = type(lock).__name__
    internal_lists = [t.held for t in sched.tasks] + [sched._keep]
    candidates: list[tuple[int, str]] = []
    for ref in gc.get_referrers(lock):
        if isinstance(ref, (ModuleType, tuple, FrameType)) or _is_grader_object(ref):
            continue
        if isinstance(ref, dict):
            attr = next((k for k, v in ref.items() if v is lock), None)
            if not isinstance(attr, str):
                continue
            if "__name__" in ref and "__builtins__" in ref:
                where = _short(str(ref.get("__file__", ref["__name__"])))
                candidates.append((1, f"the module-level {attr} of {where}"))
                continue
            owners = [o for o in gc.get_referrers(ref)
                      if getattr(o, "__dict__", None) is ref and not _is_grader_object(o)]
            if owners:
                candidates.append((0, _attribute_name(sched, owners[0], attr)))
        elif isinstance(ref, list):
            if any(ref is held for held in internal_lists):
                continue
            index = next((i for i, v in enumerate(ref) if v is lock), None)
            if index is not None:
                owner = _variable_name(ref)
                candidates.append((1, f"{owner}[{index}]") if owner else
                                  (2, f"{kind.lower()} [{index}] of a list"))
        elif hasattr(ref, "__dict__") and not isinstance(ref, type):
            try:
                attr = next((k for k, v in vars(ref).items() if v is lock), None)
            except TypeError:
                attr = None
            if attr is not None:
                candidates.append((0, _attribute_name(sched, ref, attr)))
    if candidates:
        return min(candidates)[1]
    site = getattr(lock, "_site", None)
    if site:
        return f"the {kind} created at {_short(site[0])} line {site[1]}"
    return f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind}"


def _attribute_name(sched: Scheduler, owner: Any, attr: str) -> str:
    # multiprocessing's Synchronized* wrappers (not imported here: for code that never
    # uses multiprocessing, importing it would only grow the heap every name scans)
    if type(owner).__module__ == "multiprocessing.sharedctypes" and hasattr(owner, "get_lock"):
        # The lock of a multiprocessing.Value or Array: named by the value's own name.
        return f"the lock of {_find_name(sched, owner)}"
    return f"{describe_object(owner)}.{attr}"


def describe_blocker(sched: Scheduler, blocker: Any) -> tuple[str, Task | None]:
    """What a blocked thread waits for, and the thread that could free it (if one)."""
    if isinstance(blocker, Task):
        return f"{blocker.name} to finish", blocker
    if isinstance(blocker, tuple) and blocker and blocker[0] == "sleep":
        return f"the end of a sleep({blocker[1]})", None
    waits_for = getattr(blocker, "_waits_for", None)
    if waits_for is not None:
        target = getattr(waits_for, "_outer", None) or waits_for
        kind = type(target).__name__
        if kind == "Condition":
            return f"a notify on {name_lock(sched, target)}", None
        return f"{name_lock(sched, target)} ({kind.lower()})", None
    mp_kind = getattr(type(blocker), "_blocker_kind", None)  # a multiprocessing semaphore, event
    if mp_kind is not None:
        return f"{name_lock(sched, blocker)} ({mp_kind})", None
    owner = getattr(blocker, "_owner", None)
    outer = getattr(blocker, "_outer", None)
    if outer is not None and hasattr(outer, "_holder"):  # an RLock
        owner = outer._holder if isinstance(outer._holder, Task) else None
    return name_lock(sched, blocker), owner


# ---- deadlock ------------------------------------------------------------------------


def describe_deadlock(sched: Scheduler, blocked: list[Task]) -> ScheduleFailure:
    waits: dict[Task, tuple[str, Task | None]] = {t: describe_blocker(sched, t.blocker) for t in blocked}
    sites = {t: task_site(sched, t) for t in blocked}
    cycle = _find_cycle(waits)
    lines = []
    # The verdict ("deadlock") is the report's heading: messages do not repeat it.
    if cycle is not None and len(cycle) == 1:
        task = cycle[0]
        what, _ = waits[task]
        left = left_held(sched, task.blocker)
        if left is not None and left[1]:
            taken_at, _ = left
            message = (f"{task.name} waits for {what}, which it took itself at {taken_at} and "
                       f"never released: that call ended with an exception before its release, "
                       f"so the lock stayed held, and at {sites[task]} it now waits for it "
                       f"forever. Release a lock in a finally: block, or take it with `with`.")
            lines.append(f"{task.name} took {what} at {taken_at}; an exception left that call "
                         f"without releasing it")
            lines.append(f"{task.name} waits for it again at {sites[task]}")
        else:
            kind = type(getattr(task.blocker, "_outer", None) or task.blocker).__name__
            taken = f" (taken at {left[0]})" if left is not None else ""
            message = (f"{task.name} waits for {what}, which it already holds{taken} "
                       f"({sites[task]}). A {kind} is not reentrant: a thread that takes it "
                       f"twice waits for itself forever.")
            lines.append(f"{task.name} holds {what} and waits for it again at {sites[task]}")
    elif cycle is not None:
        parts = []
        for i, task in enumerate(cycle):
            what, owner = waits[task]
            held = ", ".join(name_lock(sched, h) for h in task.held) or "nothing"
            lines.append(f"{task.name} holds {held} and waits for {what} at {sites[task]}")
            parts.append(f"{task.name} waits for {what} ({sites[task]}), held by {owner.name if owner else '?'}")
        message = ("; ".join(parts) + ". Each thread holds what the next one needs, "
                   "so none of them can go on.")
    else:
        for task in blocked:
            what, owner = waits[task]
            line = f"{task.name} waits for {what} at {sites[task]}"
            left = left_held(sched, task.blocker) if owner is not None else None
            if left is not None and owner is not None and owner.state == "done":
                why = "a call that ended with an exception" if left[1] else "a call that returned"
                line += (f", taken by {owner.name} at {left[0]}, in {why} without releasing it; "
                         f"{owner.name} has finished, so nobody will release it")
            lines.append(line)
        message = "no thread can go on. " + "; ".join(lines) + "."
    return ScheduleFailure("deadlock", message, {CYCLE: lines, "cyclic": cycle is not None,
                                                 TRACE: interleaving(sched)})


_RETURNS = {"RETURN_VALUE", "RETURN_CONST", "RETURN_GENERATOR"}


def left_held(sched: Scheduler, blocker: Any) -> tuple[str, bool] | None:
    """Where a lock still held was taken, and whether the call that took it has ended by
    an exception, when that call is over (the lock was left held on the way out)."""
    taken = getattr(blocker, "_taken_in", None)
    owner = getattr(blocker, "_owner", None)
    if taken is None or owner is None:
        return None
    frame, lineno = taken
    code = frame.f_code
    taken_at = f"{_short(code.co_filename)} line {lineno}: {_line(code.co_filename, lineno)}"
    live = sys._current_frames().get(owner.ident or -1)
    while live is not None:
        if live is frame:
            return None  # still inside the call that took it: held on purpose
        live = live.f_back
    if frame.f_lasti < 0:
        return taken_at, False
    opname, _ = _instruction(code, frame.f_lasti)
    # A frame that ended anywhere but at a return (or a yield) was left by an exception.
    return taken_at, opname not in _RETURNS and not opname.startswith("YIELD")


def _find_cycle(waits: dict[Task, tuple[str, Task | None]]) -> list[Task] | None:
    for start in waits:
        path: list[Task] = []
        task: Task | None = start
        while task is not None and task in waits and task not in path:
            path.append(task)
            task = waits[task][1]
        if task is not None and task in path:
            return path[path.index(task):]
    return None


# ---- other ways a schedule fails ------------------------------------------------------


def describe_exception(sched: Scheduler, task: Task, exc: BaseException) -> ScheduleFailure:
    if isinstance(exc, Failure):
        return ScheduleFailure(exc.verdict, exc.message, {**exc.details, TRACE: interleaving(sched)})
    if isinstance(exc, AssertionError) and task is sched.root:
        return ScheduleFailure("wrong", str(exc) or "an assertion of the test failed",
                               {TRACE: interleaving(sched)})
    where = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if is_student_file(frame.f_code.co_filename, sched.files):
            where = f" ({_short(frame.f_code.co_filename)} line {lineno}: {_line(frame.f_code.co_filename, lineno)})"
    who = "the test's main thread" if task is sched.root else task.name
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return ScheduleFailure("error", f"{who} raised {text}{where}", {TRACE: interleaving(sched)})


def loop_site(sched: Scheduler, task: Task) -> str:
    """The student's line `task` ran most often in the recent trace: the heart of a loop.

    The line where a step budget happened to run out moves with each Python version's
    bytecode layout (a `while ...: pass` compiles differently from 3.12 on); the line run
    most often does not."""
    counts: dict[tuple[str, int], int] = {}
    for tid, code, _lasti, lineno in sched.trace:
        if tid == task.tid and hasattr(code, "co_filename") \
                and is_student_file(code.co_filename, sched.files) and lineno is not None:
            key = (code.co_filename, lineno)
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return student_site(sched, sys._getframe())
    filename, lineno = max(counts, key=lambda k: (counts[k], -k[1]))
    return f"{_short(filename)} line {lineno}: {_line(filename, lineno)}"


# Operations on primitives that make up a livelock's cycle: taking, trying, putting back.
_LOCK_OPS = {"acquire", "release", "busy", "timed out"}
# A cycle is a livelock only when it repeated this many times in a row with no progress.
LIVELOCK_REPEATS = 3
MAX_CYCLE = 200  # operations in one cycle, at most


def repeating_cycle(sched: Scheduler) -> tuple[list[tuple], int, int] | None:
    """The progress rule: the shortest cycle of operations on primitives that two or more
    threads repeated, back to back, since the last unit of work (a thread finishing, or
    one the test reported). Returns the trace, the index where the last repetition of
    the cycle starts in it, and how many times it repeated."""
    entries = list(sched.trace)
    since = 0
    for i in range(len(entries) - 1, -1, -1):
        if entries[i][1] == "progress":
            since = i + 1
            break
    ops = [(k, (e[0], e[2], id(e[3]))) for k, e in enumerate(entries) if e[1] == "sync" and k >= since]
    keys = [key for _, key in ops]
    n = len(keys)
    for period in range(2, min(MAX_CYCLE, n // LIVELOCK_REPEATS) + 1):
        tail = keys[n - period:]
        if len({tid for tid, _, _ in tail}) < 2 or not {what for _, what, _ in tail} & {"release"}:
            continue
        if any(keys[n - 1 - j] != keys[n - 1 - j - period] for j in range(period * (LIVELOCK_REPEATS - 1))):
            continue
        repeats = 1
        while n - (repeats + 1) * period >= 0 and \
                keys[n - (repeats + 1) * period:n - repeats * period] == tail:
            repeats += 1
        return entries, ops[n - period][0], repeats
    return None


def describe_livelock(sched: Scheduler, task: Task) -> ScheduleFailure:
    busiest = sorted(sched.tasks, key=lambda t: t.steps, reverse=True)[:3]
    spinning = ", ".join(f"{t.name} ({t.steps:,} steps)" for t in busiest)
    found = repeating_cycle(sched)
    if found is not None:
        entries, start, repeats = found
        cycle = [e for e in entries[start:] if e[1] == "sync"]
        names = {t.tid: t.name for t in sched.tasks}
        threads = sorted({names.get(e[0], "?") for e in cycle})
        operations = len(cycle)
        backs_off = any(e[2] in ("busy", "timed out") for e in cycle)
        message = (f"{', '.join(threads)} kept taking and releasing locks without getting "
                   f"anywhere: the schedule ran out of its {sched.max_steps:,} steps, and its "
                   f"last {repeats * operations:,} operations on locks, with no thread "
                   f"finishing its work in between, are one cycle of {operations} repeated "
                   f"{repeats} times (the cycle is shown below).")
        if backs_off:
            message += (" Each thread takes a lock, finds the next one busy, puts its lock "
                        "back and tries again, while the others do the same at the same "
                        "moment, so nobody ever holds all it needs. Backing off and retrying "
                        "can go on forever: take the locks in one global order instead.")
        steps = cycle_steps(sched, entries, start)
        return ScheduleFailure("livelock", message,
                               {TRACE: steps, "livelock": {
                                   "threads": threads, "operations per cycle": operations,
                                   "repeats": repeats}})
    # The verdict ("busy waiting") is the report's heading: the message says where.
    message = (f"the threads ran {sched.max_steps:,} steps without finishing: {task.name} was "
               f"looping at {loop_site(sched, task)}. Busiest: {spinning}.")
    return ScheduleFailure("busy_wait", message, {TRACE: interleaving(sched, last=30)})


def describe_stuck(sched: Scheduler, seconds: float) -> ScheduleFailure:
    running = sched.current
    where = task_site(sched, running) if running else "?"
    name = running.name if running else "a thread"
    message = (f"{name} stopped answering the scheduler for {seconds:g} s at {where}: it is "
               f"blocked or looping in code the grader cannot switch (a real lock or sleep from "
               f"a module it does not control, I/O, or a long C call).")
    stacks = {}
    frames = sys._current_frames()
    for task in sched.tasks:
        frame = frames.get(task.ident or -1)
        if frame is not None:
            stacks[task.name] = "".join(traceback.format_stack(frame)[-6:])
    # A decision, as data: the engine could not drive this code, so the schedule says
    # nothing about it (Engine.explore falls back to real threads under stress).
    return ScheduleFailure("timeout", message, {"stacks": stacks, "uncontrolled": True,
                                                "stuck_at": where})


# ---- the interleaving that broke an invariant -----------------------------------------

_READS = {"LOAD_ATTR", "LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_METHOD"}
_WRITES = {"STORE_ATTR", "STORE_GLOBAL", "STORE_NAME", "STORE_DEREF", "DELETE_ATTR"}
_instructions: dict[CodeType, dict[int, tuple[str, Any]]] = {}


def _instruction(code: CodeType, offset: int) -> tuple[str, Any]:
    table = _instructions.get(code)
    if table is None:
        table = {i.offset: (i.opname, i.argval) for i in dis.get_instructions(code)}
        _instructions[code] = table
    return table.get(offset, ("?", None))


def _steps(sched: Scheduler, trace: Any = None) -> list[dict[str, Any]]:
    """The trace (or a slice of it) folded into line-level steps of each thread, with the
    shared names each step read and wrote."""
    names = {t.tid: t.name for t in sched.tasks}
    steps: list[dict[str, Any]] = []
    # Per thread: its last line step and the offset of the last instruction in it, to tell
    # a line resumed after a switch (the offsets go on) from the line run again.
    where: dict[int, tuple[dict[str, Any], int, int]] = {}  # and the step's index
    latest: dict[int, int] = {}  # per thread: the index of its latest step
    for tid, kind, a, b in (sched.trace if trace is None else trace):
        if kind in ("switch", "progress"):
            continue
        if kind == "sync":
            steps.append({"thread": names.get(tid, "?"), "file": "", "line": 0, "source": "",
                          "event": a, "object": b, "reads": set(), "writes": set()})
            latest[tid] = len(steps) - 1
            continue
        code, offset, lineno = kind, a, b
        opname, argval = _instruction(code, offset)
        last = steps[-1] if steps else None
        same_line = (last is not None and last.get("code") is code and last["line"] == lineno
                     and last["thread"] == names.get(tid))
        if not same_line:
            before = where.get(tid)
            resumed = (before is not None and before[0]["code"] is code
                       and before[0]["line"] == lineno and offset > before[1]
                       and any(i > before[2] for t, i in latest.items() if t != tid))
            last = {"thread": names.get(tid, "?"), "code": code, "file": _short(code.co_filename),
                    "path": code.co_filename, "line": lineno or 0,
                    "source": _line(code.co_filename, lineno or 0), "event": "",
                    "reads": set(), "writes": set(),
                    "resumes": before[0] if resumed and before is not None else None}
            steps.append(last)
        assert last is not None  # the same line's step, or the one just made
        if not same_line:
            where[tid] = (last, offset, len(steps) - 1)
        else:
            where[tid] = (last, offset, where[tid][2])
        latest[tid] = len(steps) - 1
        if opname in _READS and isinstance(argval, str):
            last["reads"].add(argval)
        elif opname in _WRITES and isinstance(argval, str):
            last["writes"].add(argval)
    return steps


def cycle_steps(sched: Scheduler, entries: list[tuple], start: int, limit: int = 80) -> list[dict[str, Any]]:
    """The operations on primitives in entries[start:] (a livelock's cycle), one row each:
    the thread, the student's line it was on, and what the operation did."""
    names = {t.tid: t.name for t in sched.tasks}
    line: dict[int, tuple[Any, int]] = {}  # thread -> (code, line) it is on
    rows: list[dict[str, Any]] = []
    for k, (tid, kind, a, b) in enumerate(entries):
        if kind not in ("sync", "switch", "progress"):
            line[tid] = (kind, b or 0)
            continue
        if kind != "sync" or k < start:
            continue
        code, lineno = line.get(tid, (None, 0))
        step = {"event": a, "object": b}
        row = {"thread": names.get(tid, "?"), "file": "", "line": 0, "source": ""}
        if code is not None:
            row.update(file=_short(code.co_filename), line=lineno, source=_line(code.co_filename, lineno))
        row["note"] = _event_text(sched, step)
        rows.append(row)
        if len(rows) >= limit:
            break
    return rows


def interleaving(sched: Scheduler, last: int = 24) -> list[dict[str, Any]]:
    """The steps to show a student: around a lost update if one is visible (a thread
    reads a name, another writes it, the first writes it back), else the last steps."""
    steps = _steps(sched)
    window = _lost_update(steps)
    if window is None:
        chosen = steps[-last:]
        notes: dict[int, str] = {}
    else:
        start, end, name, reader, writer = window
        lo = max(0, start - 2)
        chosen = steps[lo:end + 1]
        if len(chosen) > 40:
            chosen = chosen[:8] + chosen[-30:]
        notes = {id(steps[start]): f"{reader} reads {name}",
                 id(steps[end]): f"{reader} writes {name}, overwriting what {writer} wrote: an update is lost"}
        for step in steps[start + 1:end]:
            if step["thread"] == writer and name in step["writes"]:
                notes[id(step)] = f"{writer} writes {name}"
    shown = []
    position = {id(step): i for i, step in enumerate(chosen, 1)}
    for step in chosen:
        entry = {"thread": step["thread"], "file": step["file"], "line": step["line"],
                 "source": step["source"] or _event_text(sched, step)}
        resumed = step.get("resumes")
        if resumed is not None:
            # One line run in two pieces, another thread in between: the second piece is
            # the rest of that line, not the line run again.
            entry["source"] = "… " + entry["source"]
            entry["continues"] = position.get(id(resumed), True)
        note = notes.get(id(step))
        if note:
            entry["note"] = note
        shown.append(entry)
    return shown


def _event_text(sched: Scheduler, step: dict[str, Any]) -> str:
    what, obj = step["event"], step.get("object")
    if what in ("acquire", "release", "blocks on") and obj is not None:
        return f"{what} {describe_blocker(sched, obj)[0]}"
    if what == "busy" and obj is not None:
        return f"{describe_blocker(sched, obj)[0]} is busy: not taken"
    if what == "timed out" and obj is not None:
        return f"gave up waiting for {describe_blocker(sched, obj)[0]}"
    return what


def _lost_update(steps: list[dict[str, Any]]) -> tuple[int, int, str, str, str] | None:
    """The last (read, other thread's write, write back) window on one shared name."""
    found = None
    pending: dict[tuple[str, str], int] = {}  # (thread, name) -> index of its last read
    for i, step in enumerate(steps):
        thread = step["thread"]
        for name in step["writes"]:
            start = pending.pop((thread, name), None)
            if start is not None:
                writers = [s["thread"] for s in steps[start + 1:i] if name in s["writes"] and s["thread"] != thread]
                if writers:
                    found = (start, i, name, thread, writers[0])
        for name in step["reads"]:
            if (thread, name) not in pending:
                pending[(thread, name)] = i
    return found


# ---- potential deadlocks: lock-order inversions -----------------------------------


def describe_lock_cycle(sched: Scheduler, locks: tuple[Any, ...]) -> str:
    """locks[0] -> locks[1] -> ... -> locks[0], each edge taken by some thread somewhere."""
    names = [name_lock(sched, lock) for lock in locks]
    steps = []
    for i, lock in enumerate(locks):
        nxt = locks[(i + 1) % len(locks)]
        thread, where, _gates = sched.lock_order[(lock, nxt)]
        steps.append(f"{thread} took {names[(i + 1) % len(locks)]} while holding {names[i]} ({where})")
    ring = " -> ".join([*names, names[0]])
    return (f"locks taken in a cycle ({ring}): " + "; ".join(steps) + ". Had these threads run "
            f"at the same moment, each would wait for the next forever.")


# What the scheduler asks of this module, handed to it by whoever builds one (explore.py).
EXPLAINER = Explainer(site=student_site, lock_cycle=describe_lock_cycle,
                      deadlock=describe_deadlock, exception=describe_exception,
                      livelock=describe_livelock, stuck=describe_stuck)
