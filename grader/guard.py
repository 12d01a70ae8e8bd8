"""An audit hook (PEP 578) in the test process: what the student's code may not do unseen.

`install` is called by the plugin before any student code runs; a hook cannot be removed
once added, and it runs before the audited operation returns to its caller. It does two
things, both decided by *who* asked (the code object calling, see `_students`):

- **Code the student creates is the student's.** A code object the student compiles,
  executes, builds into a function or puts in a function's ``__code__`` (whatever file
  name it claims) is registered in `STUDENT_CODES`; the controlled scheduler treats
  those code objects as the student's own file, with a switch point before each bytecode
  (grader/concurrency/runtime.py, `is_student_code`). Compiling under the name of one of
  the grader's, pytest's or the standard library's files is tampering.
- **Reaching the judge's frames is tampering.** A frame walk from the student's code
  (``sys._getframe``, ``sys._current_frames``, ``inspect.currentframe``/``stack``, a
  traceback's or generator's frame, ``gc.get_referrers``/``get_referents``/
  ``get_objects``) can read the test's expected values
  or the grader's state. The hook reports it at once through the results channel (the
  parent makes the running test "tampered") and kills the process, so nothing read that
  way can be used: the operation never returns to the student.

Who is the student: code whose file is not the standard library's, an installed
package's, the grader's, or the staged hidden tests' and given files; or a code object
registered above. Standard-library code the student calls on its behalf is looked
through (``inspect.stack()`` is the student's frame walk); ``logging`` or ``traceback``
reading frames for their own purposes are not walks.
"""
from __future__ import annotations

import os
import signal
import sys
import sysconfig
import threading
import types
from pathlib import Path
from typing import Any, Callable

# id(code) -> code, kept alive so an id is never reused: code objects the student made.
STUDENT_CODES: dict[int, types.CodeType] = {}

# Events that reach frames of other code; each one from the student's code is a walk.
WALKS = {
    "sys._getframe": "sys._getframe",
    "sys._current_frames": "sys._current_frames",
    "gc.get_referrers": "gc.get_referrers",
    "gc.get_referents": "gc.get_referents",
    "gc.get_objects": "gc.get_objects",
}
# Not sys.settrace / sys.setprofile: the interpreter raises the same event, from whatever
# frame is running, when it drops a trace function that failed (the scheduler's, ending a
# schedule), so the event cannot tell a student's call from the scheduler's own.
FRAME_ATTRIBUTES = {"tb_frame", "gi_frame", "cr_frame", "ag_frame"}  # audited reads of a frame
# Standard-library code that hands frames to its caller: the caller is the one walking.
EXPOSERS = {("inspect", None), ("traceback", "walk_stack"), ("traceback", "walk_tb")}


class _Trust:
    """Which files are not the student's: decided once, from paths known at install."""

    def __init__(self, staged: Path, trusted_in_staged: set[str]) -> None:
        roots = {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
        roots |= {str(Path(__file__).resolve().parent)}  # the grader package
        self.stdlib = tuple(os.path.realpath(p) + os.sep for p in
                            {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")} if p)
        self.roots = tuple(os.path.realpath(p) + os.sep for p in roots if p)
        self.hidden = os.path.realpath(staged / "hidden") + os.sep
        self.trusted_files = {os.path.realpath(p) for p in trusted_in_staged}
        self.cache: dict[str, bool] = {}  # file name -> trusted (realpath costs system calls)
        self.stdlib_cache: dict[str, bool] = {}

    def trusted_file(self, filename: str) -> bool:
        known = self.cache.get(filename)
        if known is None:
            if filename.startswith("<frozen "):
                known = True
            else:
                real = os.path.realpath(filename) if os.path.isabs(filename) else filename
                known = real.startswith(self.roots) or real.startswith(self.hidden) \
                    or real in self.trusted_files
            self.cache[filename] = known
        return known

    def is_stdlib(self, code: types.CodeType) -> bool:
        name = code.co_filename
        known = self.stdlib_cache.get(name)
        if known is None:
            real = os.path.realpath(name) if os.path.isabs(name) else name
            known = self.stdlib_cache[name] = name.startswith("<frozen ") or real.startswith(self.stdlib)
        return known

    def students(self, code: types.CodeType) -> bool:
        return id(code) in STUDENT_CODES or not self.trusted_file(code.co_filename)


def _register(code: types.CodeType) -> None:
    stack = [code]
    while stack:
        c = stack.pop()
        if id(c) in STUDENT_CODES:
            continue
        STUDENT_CODES[id(c)] = c
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))


_installed = False


def install(staged: Path, trusted_in_staged: set[str],
            report: Callable[[str], None]) -> None:
    """Add the hook (once per process). REPORT(reason) tells the parent; then the process dies."""
    global _installed
    if _installed:
        return
    _installed = True
    trust = _Trust(staged, trusted_in_staged)
    local = threading.local()
    getframe, kill, getpid, exit_ = sys._getframe, os.kill, os.getpid, os._exit
    code_type = types.CodeType
    own_file = __file__  # frames of this file are the hook's, not the caller's

    def caller_chain() -> tuple[types.CodeType | None, types.CodeType | None]:
        """(the code that made the audited call, the nearest code outward that is not the stdlib's)."""
        frame: types.FrameType | None = getframe(1)
        while frame is not None and frame.f_code.co_filename == own_file:  # the hook's own frames
            frame = frame.f_back
        direct = frame.f_code if frame is not None else None  # whoever made the audited call
        while frame is not None and trust.is_stdlib(frame.f_code):
            frame = frame.f_back
        return direct, frame.f_code if frame is not None else None

    def tampered(reason: str) -> None:
        try:
            report(reason)
        finally:
            kill(getpid(), signal.SIGKILL)
            exit_(70)  # not reached

    def walk(what: str, direct: types.CodeType | None, outer: types.CodeType | None) -> None:
        if outer is None or not trust.students(outer):
            return
        if direct is not outer:  # the standard library made the call: is it handing frames over?
            module = Path(direct.co_filename).stem if direct else ""
            if (module, None) not in EXPOSERS and (module, direct.co_name if direct else None) not in EXPOSERS:
                return
        tampered(f"your code reached into the frames of the code that tests it ({what}, "
                 f"{Path(outer.co_filename).name} line {outer.co_firstlineno}, in {outer.co_name}); "
                 f"a test cannot be judged when the code under test reads the test's variables")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in WATCHED_EVENTS:
            return
        # The scheduler's tracer reads frame.f_code on every call of a controlled thread,
        # and each read is this event: decided first, before any other work (judge would
        # return at once for it too).
        if event == "object.__getattr__" and len(args) > 1 and args[1] not in FRAME_ATTRIBUTES:
            return
        if getattr(local, "busy", False):
            return
        local.busy = True
        try:
            judge(event, args)
        except Exception:  # a hook that raises would make the audited call fail: never ours to do
            pass
        finally:
            local.busy = False

    def judge(event: str, args: tuple[Any, ...]) -> None:
        if event == "object.__getattr__":
            if args[1] not in FRAME_ATTRIBUTES:
                return
            direct, outer = caller_chain()
            if direct is not None and trust.students(direct):
                walk(f"reading .{args[1]}", direct, direct)
            return
        if event in WALKS:
            direct, outer = caller_chain()
            walk(WALKS[event], direct, outer)
            return
        direct, outer = caller_chain()
        if outer is None or not trust.students(outer):
            return
        if event in ("compile", "code.__new__"):
            filename = args[1] if len(args) > 1 else None
            if isinstance(filename, (str, bytes)):
                name = os.fsdecode(filename)
                # Only a call from the student's own code: an import the student asks
                # for compiles given and library files through importlib, rightly.
                if os.path.isabs(name) and trust.trusted_file(name) and direct is not None \
                        and trust.students(direct):
                    tampered(f"your code made code that claims to be {Path(name).name}, a file of the "
                             f"grader, pytest or Python, not yours ({event})")
        elif event in ("exec", "function.__new__") and args and isinstance(args[0], code_type):
            if not trust.trusted_file(args[0].co_filename):
                _register(args[0])
            elif direct is not None and trust.students(direct) and id(args[0]) not in STUDENT_CODES:
                tampered(f"your code ran code that claims to be {Path(args[0].co_filename).name}, "
                         f"a file of the grader, pytest or Python, not yours ({event})")
        elif event == "object.__setattr__" and len(args) > 2 and args[1] == "__code__" \
                and isinstance(args[2], code_type):
            if not trust.trusted_file(args[2].co_filename):
                _register(args[2])
            elif direct is not None and trust.students(direct):  # not types.coroutine's own
                tampered("your code replaced a function's code with code that claims to be "
                         f"{Path(args[2].co_filename).name}, a file of the grader, pytest or Python")

    sys.addaudithook(hook)


WATCHED_EVENTS = frozenset({*WALKS, "object.__getattr__", "compile", "code.__new__", "exec",
                            "function.__new__", "object.__setattr__"})
