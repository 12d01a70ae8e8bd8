"""What the student's module imports: scheduler-aware ``threading``, ``time``, ``queue``.

A student module is loaded by `load_module` with its own ``__builtins__``, whose
``__import__`` hands out the modules below instead of the standard ones. The rest of the
process (pytest, the grader, the standard library) keeps the real modules, so nothing
outside the student's code is slowed down or changed.

``queue`` and ``concurrent.futures`` are the standard library's own source, executed
again with the same substitution: a ``queue.Queue`` or a ``ThreadPoolExecutor`` in the
student's code is built on the scheduler-aware primitives, and so is controlled too.
``multiprocessing`` is the real package but for its primitives (``Lock``, ``RLock``,
``Semaphore``, ``BoundedSemaphore``, ``Condition``, ``Event``, ``Value``, ``Array``: see
mp.py), which are the real ones for processes and scheduler-aware between threads.
"""
from __future__ import annotations

import builtins
import importlib.util
import sys
import threading as _real_threading
import time as _real_time
import types
from pathlib import Path
from typing import Any

from grader.concurrency import primitives as p

# Student files loaded so far: the scheduler traces bytecodes in these files only.
_student_files: set[str] = set()
_student_dirs: set[Path] = set()
_shims: dict[str, types.ModuleType] = {}


def student_files() -> frozenset[str]:
    return frozenset(_student_files)


def _copy_module(name: str, real: types.ModuleType, overrides: dict[str, Any]) -> types.ModuleType:
    module = types.ModuleType(name, real.__doc__)
    module.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
    module.__dict__.update(overrides)
    return module


def _build_threading() -> types.ModuleType:
    return _copy_module("threading", _real_threading, {
        "Lock": p.Lock, "RLock": p.RLock, "Condition": p.Condition, "Semaphore": p.Semaphore,
        "BoundedSemaphore": p.BoundedSemaphore, "Event": p.Event, "Barrier": p.Barrier,
        "BrokenBarrierError": p.BrokenBarrierError, "Thread": p.Thread, "Timer": p.Timer,
        "current_thread": p.current_thread, "currentThread": p.current_thread,
        "_allocate_lock": p.Lock, "_CRLock": None, "_PyRLock": p.RLock,
    })


def _build_time() -> types.ModuleType:
    return _copy_module("time", _real_time, {
        "sleep": p.sleep, "monotonic": p.monotonic, "monotonic_ns": p.monotonic_ns,
        "perf_counter": p.perf_counter, "perf_counter_ns": p.perf_counter_ns,
        "time": p.time, "time_ns": p.time_ns,
    })


def _build_thread() -> types.ModuleType:
    import _thread

    def start_new_thread(function: Any, args: tuple, kwargs: dict | None = None) -> int | None:
        thread = p.Thread(target=function, args=args, kwargs=kwargs or {}, daemon=True)
        thread.start()
        return thread.ident

    return _copy_module("_thread", _thread, {
        "allocate_lock": p.Lock, "LockType": p.Lock, "RLock": p.RLock,
        "start_new_thread": start_new_thread, "start_new": start_new_thread,
    })


def _build_queue_c() -> types.ModuleType:
    # queue.py takes SimpleQueue from _queue when it can; a C SimpleQueue blocks for
    # real, so this _queue offers only Empty and queue.py falls back to its Python one.
    import _queue

    module = types.ModuleType("_queue")
    module.Empty = _queue.Empty  # type: ignore[attr-defined]
    return module


def _exec_stdlib(name: str, package: str | None = None) -> types.ModuleType:
    """Run a standard-library module's own source again, importing the shims."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    module = types.ModuleType(name)
    module.__file__ = spec.origin
    module.__package__ = package if package is not None else name.rpartition(".")[0]
    module.__dict__["__builtins__"] = _shim_builtins
    _shims[name] = module  # before running it: submodules refer to each other
    source = Path(spec.origin).read_text(encoding="utf-8")
    exec(compile(source, spec.origin, "exec"), module.__dict__)
    return module


def _build_futures() -> types.ModuleType:
    package = types.ModuleType("concurrent.futures")
    package.__path__ = []
    _shims["concurrent.futures"] = package
    base = _exec_stdlib("concurrent.futures._base", "concurrent.futures")
    package._base = base  # type: ignore[attr-defined]
    thread = _exec_stdlib("concurrent.futures.thread", "concurrent.futures")
    import concurrent.futures as real_futures
    for name in ("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", "CancelledError",
                 "TimeoutError", "BrokenExecutor", "InvalidStateError", "Future", "Executor",
                 "wait", "as_completed"):
        setattr(package, name, getattr(base, name))
    package.ThreadPoolExecutor = thread.ThreadPoolExecutor  # type: ignore[attr-defined]
    package.thread = thread  # type: ignore[attr-defined]
    package.ProcessPoolExecutor = real_futures.ProcessPoolExecutor  # type: ignore[attr-defined]
    package.process = real_futures.process  # type: ignore[attr-defined]
    return package


def _build_concurrent() -> types.ModuleType:
    package = types.ModuleType("concurrent")
    package.__path__ = []
    package.futures = _shim("concurrent.futures")  # type: ignore[attr-defined]
    return package


def _build_multiprocessing() -> types.ModuleType:
    # Imported here, not at the top: mp.py imports multiprocessing, which code that never
    # uses it should not pay for (no cycle: mp.py does not import this module).
    from grader.concurrency.mp import build_multiprocessing

    return build_multiprocessing()


def _build_synchronize() -> types.ModuleType:
    module = _shim("multiprocessing")
    return module.synchronize  # type: ignore[union-attr]


_BUILDERS = {
    "threading": _build_threading,
    "multiprocessing": _build_multiprocessing,
    "multiprocessing.synchronize": _build_synchronize,
    "time": _build_time,
    "_thread": _build_thread,
    "_queue": _build_queue_c,
    "queue": lambda: _exec_stdlib("queue"),
    "concurrent.futures": _build_futures,
    "concurrent": _build_concurrent,
}
_SUBMODULES = {"concurrent.futures._base", "concurrent.futures.thread"}


def _shim(name: str) -> types.ModuleType | None:
    module = _shims.get(name)
    if module is None and name in _BUILDERS:
        module = _BUILDERS[name]()
        _shims[name] = module
    if module is None and name in _SUBMODULES:
        _shim("concurrent.futures")
        module = _shims.get(name)
    return module


def _shim_import(name: str, globals: dict | None = None, locals: dict | None = None,
                 fromlist: tuple = (), level: int = 0) -> types.ModuleType:
    if level == 0:
        module = _shim(name)
        if module is not None:
            if fromlist:
                return module
            top = name.partition(".")[0]
            return _shim(top) or module
        top = name.partition(".")[0]
        if top != name and top in _BUILDERS:
            # `import multiprocessing.pool`: the real submodule, reached through the
            # package the student's module sees (whose primitives are the shims).
            real = builtins.__import__(name, globals, locals, fromlist, level)
            if fromlist:
                return real
            package = _shim(top)
            assert package is not None
            sub = name.split(".")[1]
            if not hasattr(package, sub):
                setattr(package, sub, getattr(real, sub))
            return package
        sibling = _sibling(name)
        if sibling is not None:
            return sibling
    return builtins.__import__(name, globals, locals, fromlist, level)


def _sibling(name: str) -> types.ModuleType | None:
    """Another module of the student's folder (or a given helper), loaded the same way."""
    if "." in name:
        return None
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) in _student_files:
        return sys.modules[name]
    for folder in _student_dirs:
        path = folder / f"{name}.py"
        if path.is_file():
            return load_module(name, path)
    return None


_shim_builtins = dict(vars(builtins))
_shim_builtins["__import__"] = _shim_import


def load_module(name: str, path: Path | str) -> types.ModuleType:
    """Import the student's file `path` as module `name`, with the shims in place of
    ``threading``, ``time``, ``queue``, ``_thread`` and ``concurrent.futures``.

    Errors while running the module propagate unchanged; the caller phrases them."""
    path = Path(path).resolve()
    filename = str(path)
    _student_files.add(filename)
    _student_dirs.add(path.parent)
    module = types.ModuleType(name)
    module.__file__ = filename
    module.__dict__["__builtins__"] = _shim_builtins
    sys.modules[name] = module
    try:
        code = compile(path.read_bytes(), filename, "exec")
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def shim_module(name: str) -> types.ModuleType:
    """The scheduler-aware version of a standard module, for tests and the engine."""
    module = _shim(name)
    if module is None:
        raise KeyError(name)
    return module
