"""The grader's pytest plugin, loaded with `-p grader.plugin` inside the test process.

It gives hidden tests their fixtures (`student`, `exercise`, `engine`) and reports the
outcome of every test as one authenticated JSON line on the results channel that the
parent handed down (the protocol, both its ends and the environment variables are in
grader/channel.py). The channel is taken in pytest_configure, before any student code is
imported.

After "done" the process leaves with os._exit: threads a student left running (a
deadlock the test already reported) must not keep it alive.

Student code runs in this very process, so it could change the code that judges it
(make `grader.testing.fail` do nothing, patch `_pytest.runner` to report passes). Two
checks make that fail closed rather than pass: a test passes only if this plugin saw the
test function itself return (pytest_pyfunc_call), and after every test the functions and
classes of the grader's modules, pytest's, pluggy's and the hidden tests' are compared
with a snapshot taken before any student code ran; a change is the verdict "tampered".
An audit hook (grader/guard.py), added in pytest_configure before any student code, makes
a frame walk from the student's code "tampered" (it reports, then kills the process) and
gives code the student compiles under another name the scheduler's switch points. Code
that also patches these checks could still win: see the threat model in README.md.

The test process imports this module before pytest starts (grader/sandbox.py,
CHILD_MAIN), from the bytecode the grader compiled, so pytest does not parse and rewrite
it again in every test process (it has no assert to rewrite): PYTEST_DONT_REWRITE.
"""
from __future__ import annotations

import importlib
import os
import sys
import threading
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Generator, Iterator

import pytest

from grader import channel
from grader.catalog import Exercise, exercise_from_json
from grader.model import SPEEDUP_VERDICT
from grader.testing import Failure, StudentImportError

# --------------------------------------------------------------------------- exercise

def _current_exercise() -> Exercise:
    if os.environ.get(channel.EXERCISE):
        return exercise_from_json(os.environ[channel.EXERCISE])
    raise RuntimeError(f"grader.plugin: {channel.EXERCISE} is not set (the grader sets it)")


def _staged_dir() -> Path:
    return Path(os.environ.get(channel.STAGED) or os.getcwd())


# --------------------------------------------------------------------------- student

class Student:
    """The student's files in the staged copy, imported the way the exercise's mode needs."""

    def __init__(self, directory: Path, exercise: Exercise) -> None:
        self.dir = directory
        self.exercise = exercise
        self._modules: dict[str, ModuleType] = {}
        self._broken: dict[str, str] = {}  # a file that failed once fails the same way again, fast

    def path(self, name: str) -> Path:
        return self.dir / f"{name.removesuffix('.py')}.py"

    def module(self, name: str) -> ModuleType:
        name = name.removesuffix(".py")
        if name in self._modules:
            return self._modules[name]
        if name in self._broken:
            raise StudentImportError(self._broken[name])
        path = self.path(name)
        if not path.is_file():
            raise StudentImportError(f"{path.name} was not submitted")
        _send("importing", file=path.name)  # a crash from here on is the import's doing
        try:
            module = self._load(name, path)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            message = _import_failure(path, exc, self.dir)
            if message is None:
                raise  # not the student's doing: let the grader's error show as such
            self._broken[name] = message
            raise StudentImportError(message) from None
        finally:
            _send("imported", file=path.name)
        self._modules[name] = module
        return module

    def _load(self, name: str, path: Path) -> ModuleType:
        if self.exercise.mode == "threads":
            from grader.concurrency import load_module  # the controlled scheduler's import
            return load_module(name, path)
        return _plain_import(name, path)


def _plain_import(name: str, path: Path) -> ModuleType:
    # Imported under its plain name from the staged folder, first on sys.path, so that
    # multiprocessing pickles the student's functions by reference and a spawned worker
    # (which inherits sys.path) imports the very same file.
    folder = str(path.parent)
    sys.path[:] = [folder] + [p for p in sys.path if p != folder]
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    module = importlib.import_module(name)
    if Path(module.__file__ or "").resolve() != path.resolve():
        raise ImportError(f"importing {name!r} found {module.__file__}, not {path}")
    return module


def _import_failure(path: Path, exc: BaseException, staged: Path) -> str | None:
    """One line on why the student's file does not import, or None if it is not the student's fault."""
    head = f"{path.name} does not import"
    if isinstance(exc, SyntaxError) and exc.filename and _is_student_file(exc.filename, staged):
        where = Path(exc.filename).name
        place = f" in {where}" if where != path.name else ""
        return f"{head}: {type(exc).__name__}{place} at line {exc.lineno}: {exc.msg}"
    frame = _last_student_frame(exc.__traceback__, staged)
    if _is_timeout(exc):
        limit = _timeout_limit(exc)
        where = f" (it was at {frame[0]} line {frame[1]})" if frame else ""
        return f"{head}: it was still running after {limit} s; an endless loop at import time?{where}"
    if isinstance(exc, SystemExit):
        where = f" at line {frame[1]}" if frame else ""
        return f"{head}: it calls sys.exit({exc.code!r}){where}; code at the top level runs on import"
    if frame is None:
        return None
    place = f" in {frame[0]}" if frame[0] != path.name else ""
    return f"{head}: {type(exc).__name__}{place} at line {frame[1]}: {_first_line(exc)}"


def _is_student_file(filename: str, staged: Path) -> bool:
    # Anything in the staged folder except the hidden tests: the student's files and the
    # given helpers they import (the interesting line is usually in the student's own).
    real = Path(os.path.realpath(filename))
    root = Path(os.path.realpath(staged))
    return real.parent == root and real.suffix == ".py"


def _last_student_frame(tb: TracebackType | None, staged: Path) -> tuple[str, int, str] | None:
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if _is_student_file(code.co_filename, staged):
            found = (Path(code.co_filename).name, tb.tb_lineno, code.co_name)
        tb = tb.tb_next
    return found


def _student_frame_in_stack(frame: Any, staged: Path) -> tuple[str, int, str] | None:
    while frame is not None:  # innermost first: the first student frame is the latest
        if _is_student_file(frame.f_code.co_filename, staged):
            return Path(frame.f_code.co_filename).name, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return None


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, pytest.fail.Exception) and "from pytest-timeout" in str(exc)


def _timeout_limit(exc: BaseException) -> str:
    text = str(exc)  # "Timeout (>10.0s) from pytest-timeout."
    try:
        return f"{float(text[text.find('>') + 1:text.find('s)')]):g}"
    except ValueError:
        return "?"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def exercise() -> Exercise:
    """The exercise being graded: its params and budgets."""
    return _current_exercise()


@pytest.fixture(scope="session")
def student(exercise: Exercise) -> Student:
    """The student's files: `student.module("counter")`."""
    return Student(_staged_dir(), exercise)


@pytest.fixture
def engine(request: pytest.FixtureRequest, exercise: Exercise) -> Iterator[Any]:
    """The controlled scheduler for this test (grader.concurrency)."""
    try:
        from grader.concurrency import Engine
    except ImportError as exc:
        raise RuntimeError(f"the grader's concurrency engine is not available: {exc}") from None
    engine = Engine.for_test(request.node.name, exercise)
    yield engine
    # A passing test tells the student what was explored (a failing one says why it
    # failed): unless the test recorded a note of its own.
    summary = engine.summary()
    node = request.node
    judged = engine.judged_by()  # which engine judged: a field of the result, pass or fail
    if judged is not None:
        node.user_properties.append(("engine", judged))
    if summary is not None and not any(name == "note" for name, _ in node.user_properties):
        note, details = summary
        node.user_properties.extend([("note", note), ("details", details)])


# --------------------------------------------------------------------------- outcomes

_channel: channel.Writer | None = None


def _send(event: str, **fields: Any) -> None:
    if _channel is not None:
        _channel.send(event, **fields)


_exitstatus = 0
_REPORTS = pytest.StashKey[list]()
_RETURNED = pytest.StashKey[bool]()  # the test function itself returned, as this plugin saw it

# Whose code is compared before and after each test (by top-level package).
WATCHED = frozenset({"grader", "_pytest", "pytest", "pluggy", "pytest_timeout"})
_snapshot: dict[tuple[str, ...], tuple[Any, Any]] = {}


def _watched(name: str, module: Any, hidden: str) -> bool:
    if name.partition(".")[0] in WATCHED:
        return True
    file = getattr(module, "__file__", None) or ""
    return bool(hidden) and os.path.realpath(file).startswith(hidden)


def _code_of(modules: dict[str, Any]) -> dict[tuple[str, ...], tuple[Any, Any]]:
    """Every function and class of MODULES, and their methods, with their code objects."""
    found: dict[tuple[str, ...], tuple[Any, Any]] = {}
    for name, module in modules.items():
        found[(name,)] = (module, None)
        for attr, value in list(vars(module).items()):
            if not (callable(value) or isinstance(value, type)):
                continue
            found[(name, attr)] = (value, getattr(value, "__code__", None))
            if isinstance(value, type) and getattr(value, "__module__", None) == name:
                for member, inner in list(vars(value).items()):
                    function = getattr(inner, "__func__", inner)
                    if callable(function) or isinstance(inner, property):
                        found[(name, attr, member)] = (inner, getattr(function, "__code__", None))
    return found


def _take_snapshot() -> None:
    hidden = os.path.realpath(_staged_dir() / "hidden") + os.sep
    modules = {n: m for n, m in list(sys.modules.items()) if m is not None and _watched(n, m, hidden)}
    _snapshot.update(_code_of(modules))


def _changed_code() -> list[str]:
    """What of the snapshot differs now: a module, function, class or method replaced."""
    changed = []
    for key, (value, code) in _snapshot.items():
        if len(key) == 1:
            now: Any = sys.modules.get(key[0])
            if now is not value:
                changed.append(key[0])
            continue
        module = sys.modules.get(key[0])
        holder = module if len(key) == 2 else getattr(module, key[1], None) if module else None
        space = vars(holder) if holder is not None and hasattr(holder, "__dict__") else {}
        now = space.get(key[-1], _MISSING)
        function = getattr(now, "__func__", now)
        if now is not value or getattr(function, "__code__", None) is not code:
            changed.append(".".join(key))
    return changed


_MISSING = object()


_hold: int | None = None  # held: the pipe the grader's go comes through (channel.HOLD)


def pytest_configure(config: pytest.Config) -> None:
    global _channel, _hold
    _channel = channel.open_writer()
    _hold = channel.take_hold()
    if _channel is not None:
        _install_guard(_channel)
        # Imported now, so that the snapshot holds it before any student code runs.
        import grader.concurrency  # noqa: F401


def _install_guard(writer: channel.Writer) -> None:
    """The audit hook (grader/guard.py), before any student code: frame walks are tampering,
    code the student compiles is the student's. It reports through the channel, then kills."""
    from grader import guard

    staged = _staged_dir()
    exercise = _current_exercise()
    given = {str(staged / name) for name in exercise.given}
    send = writer.send
    guard.install(staged, given, lambda reason: send("tampered", reason=reason))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if _channel is not None and report.failed:
        lines = [ln for ln in str(report.longrepr).splitlines() if ln.startswith("E ")]
        message = lines[-1][1:].strip() if lines else str(report.longrepr).strip().splitlines()[-1]
        _channel.send("collect_error", where=report.nodeid, message=message)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Only this process's share of the tests, when the grader asks for one: a timing
    exercise's measured tests run in a process of their own, alone on the machine, its
    other tests (any test exercise.yaml does not mark, unknown ones too) in another."""
    share = os.environ.get(channel.TESTS)
    if not share:
        return
    if share not in (channel.MEASURED, channel.UNMEASURED):
        raise pytest.UsageError(f"grader.plugin: {channel.TESTS}={share!r} is neither "
                                f"{channel.MEASURED!r} nor {channel.UNMEASURED!r}")
    measured = {t.name for t in _current_exercise().tests if t.measured}
    wanted = share == channel.MEASURED
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (keep if (_names(item)["function"] in measured) == wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    if _channel is not None:
        _take_snapshot()  # the hidden tests are imported; the student's code is not, yet
        _hide_hidden_sources()
        _channel.send("collected", tests=[_names(item) for item in session.items])
    global _hold
    if _hold is not None:
        # Started ahead of its turn: no test, no student code, until the grader says so.
        fd, _hold = _hold, None
        if not channel.wait_for_go(fd):
            os._exit(0)  # the grader gave up on this process (and is stopping it)


def _hide_hidden_sources() -> None:
    """Remove the hidden tests' source from the staged copy once pytest has imported them:
    the student's code, which runs only inside tests, finds nothing to read, print or
    rewrite (the next test process gets a fresh copy from the parent)."""
    import linecache

    hidden = _staged_dir() / "hidden"
    for path in sorted(hidden.rglob("*"), reverse=True):
        if path.is_file() and _hidden_from_students(path):
            linecache.cache.pop(str(path), None)
            path.unlink(missing_ok=True)


def _hidden_from_students(path: Path) -> bool:
    """Whether a file of the hidden folder goes once collected: the tests themselves, their
    conftest, compiled bytecode and data files (expected values) do. A helper module the
    tests import by name stays (process_timeout's fits in jobs.py): a child started with
    spawn or forkserver, the default on macOS, Windows and from Python 3.14 on Linux,
    unpickles the function it runs by importing its module again, from its source."""
    name = path.name
    if path.suffix != ".py":
        return True
    return name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")


def _names(item: pytest.Item) -> dict[str, str]:
    return {"nodeid": item.nodeid, "test": item.name,
            "function": getattr(item, "originalname", None) or item.name}


def _item_timeout(item: pytest.Item) -> float | None:
    marker = item.get_closest_marker("timeout")
    if marker is not None and (marker.args or "timeout" in marker.kwargs):
        value = marker.args[0] if marker.args else marker.kwargs["timeout"]
        return float(value) if value is not None else None
    value = item.config.getoption("timeout", None)
    return float(value) if value else None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if _channel is None:
        return (yield)
    item.stash[_REPORTS] = []
    _channel.send("start", timeout=_item_timeout(item), **_names(item))
    interrupted: KeyboardInterrupt | None = None
    try:
        return (yield)
    except KeyboardInterrupt as exc:
        # Nobody presses Ctrl-C in a test process (its own session, no terminal): the
        # student's code raised it. It ends this process; the tests left get a fresh one.
        interrupted = exc
        raise
    finally:
        verdict, message, details, duration = _outcome(item)
        if interrupted is not None:
            frame = _last_student_frame(interrupted.__traceback__, _staged_dir())
            where = f" ({frame[0]} line {frame[1]})" if frame else ""
            verdict, message, details = "error", f"your code raised KeyboardInterrupt{where}", {}
        changed = _changed_code()
        if changed:
            more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
            verdict, details = "tampered", {"changed": changed[:20]}
            message = (f"the grader's or pytest's own code was changed while this test ran: "
                       f"{changed[0]}{more}; a test cannot be judged by code under test")
        judged = _judged(item) if verdict == "passed" else {}
        _channel.send("result", verdict=verdict, message=message, details=details,
                      duration=round(duration, 4), **judged, **_names(item))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
    result = yield  # raises what the test raised: then it did not return
    pyfuncitem.stash[_RETURNED] = True
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if _REPORTS in item.stash:
        item.stash[_REPORTS].append((report, call.excinfo))
    return report


def _outcome(item: pytest.Item) -> tuple[str, str, dict[str, Any], float]:
    phases = item.stash.get(_REPORTS, [])
    duration = sum(report.duration for report, _ in phases)
    for report, excinfo in phases:
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            return "not_judged", f"the test was skipped: {reason.removeprefix('Skipped: ')}", {}, duration
        if report.failed and excinfo is not None:
            verdict, message, details = describe(excinfo.value, item, report.when)
            return verdict, message, {**_engine(item), **details}, duration
        if report.failed:
            return "error", f"the test failed in {report.when}", {}, duration
    if not any(report.when == "call" for report, _ in phases):
        return "not_judged", "the test did not run", {}, duration  # fail closed
    if not item.stash.get(_RETURNED, False):
        # pytest says it passed, yet the test function never returned: something between
        # the two (a patched _pytest.runner, a replaced hook) made up the pass.
        return ("tampered", "pytest reported a pass for a test that never finished: pytest's "
                            "reporting was changed (by your code?)", {}, duration)
    note, details = _recorded(item)
    return "passed", note, {**_engine(item), **details}, duration


def _engine(item: pytest.Item) -> dict[str, Any]:
    """The concurrency engine's record of which engine judged the test, if it ran one."""
    return next((dict(v) for n, v in getattr(item, "user_properties", ()) if n == "engine"), {})


def _recorded(item: pytest.Item) -> tuple[str, dict[str, Any]]:
    """What a passing test recorded with record_property for the report: its "note" (the
    message shown beside the pass: what was measured, or why it was not judged), and its
    "details" and "speedup" (figures, charts). Only those names; anything else stays out."""
    note, details = "", {}
    for name, value in getattr(item, "user_properties", ()):
        if name == "note":
            note = str(value)
        elif name == "details" and isinstance(value, dict):
            details.update(value)
        elif name == "speedup" and isinstance(value, str):
            details[SPEEDUP_VERDICT] = value
    return _first_lines(note), details


def _judged(item: pytest.Item) -> dict[str, Any]:
    """A passing test that said it did not judge (grader.testing.not_judged): the fields."""
    said = dict(getattr(item, "user_properties", ()))
    if said.get("judged") is False:
        return {"judged": False, "not_judged_reason": str(said.get("not_judged_reason", ""))}
    return {}


def describe(exc: BaseException, item: pytest.Item, when: str) -> tuple[str, str, dict[str, Any]]:
    """Verdict, message and details for the exception that ended a test."""
    staged = _staged_dir()
    frame = _last_student_frame(exc.__traceback__, staged)
    where = f" ({frame[0]} line {frame[1]})" if frame else ""
    if isinstance(exc, Failure):
        return exc.verdict, exc.message, dict(exc.details)
    if isinstance(exc, StudentImportError):
        return "import_error", str(exc), {}
    if _is_timeout(exc):
        limit = _timeout_limit(exc)
        if frame is None:
            frame = _student_frame_elsewhere(staged)
        at = f"; your code was at {frame[0]} line {frame[1]} (in {frame[2]})" if frame else ""
        return "timeout", f"the test ran over its {limit} s limit{at}", {}
    if isinstance(exc, AssertionError):
        return "wrong", _assertion_message(exc, item), {}
    if isinstance(exc, pytest.fail.Exception):
        return "wrong", _first_lines(str(exc)) or "the test failed", {}
    if isinstance(exc, SystemExit):
        return "error", f"your code called sys.exit({exc.code!r}){where}", {}
    if isinstance(exc, MemoryError):
        return "error", f"your code ran out of memory{where}", {}
    who = "your code" if frame else "the test"
    name = type(exc).__name__
    text = _first_line(exc)
    message = f"{who} raised {name}: {text}" if text else f"{who} raised {name}"
    if when != "call":
        message += f" (in test {when})"
    return "error", message + where, {}


def _student_frame_elsewhere(staged: Path) -> tuple[str, int, str] | None:
    # The main thread was waiting (join, a lock); the student's code is in another thread.
    me = threading.get_ident()
    for ident, frame in sys._current_frames().items():
        if ident != me and (found := _student_frame_in_stack(frame, staged)):
            return found
    return None


def _assertion_message(exc: AssertionError, item: pytest.Item) -> str:
    text = str(exc).strip()
    if not text:
        frame = _last_frame_in(exc.__traceback__, str(item.path)) if hasattr(item, "path") else None
        return f"an assertion failed at line {frame}" if frame else "an assertion failed"
    lines = text.splitlines()
    # Assertion rewriting appends "assert 79 == 80" and "+  where ..." to the author's
    # message: keep the author's words, or the first comparison line when there are none.
    cut = next((i for i, line in enumerate(lines) if line.startswith("assert ")), len(lines))
    return _first_lines("\n".join(lines[:cut] or lines[:1]))


def _last_frame_in(tb: TracebackType | None, filename: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _first_lines(text: str) -> str:
    lines = text.strip().splitlines()
    kept = "\n".join(lines[:channel.MESSAGE_LINES])
    return kept + ("\n..." if len(lines) > channel.MESSAGE_LINES else "")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exitstatus
    _exitstatus = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _channel is None:
        return
    _channel.send("done", exitstatus=_exitstatus)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exitstatus)
