"""Running an exercise's hidden tests against a student's files in a child process.

The student's code never runs in the grader's process. Each test process gets a pristine
staged copy (the student's files, the given files, the hidden tests, a pytest.ini: nothing
a previous process planted survives) and runs pytest on it in a new session with resource
limits, an output cap and a watchdog; the plugin removes the hidden tests' source from it
once collected, before any student code runs.
Outcomes come only from the results channel the plugin writes (grader/channel.py: the
protocol, both its ends and the variables the child gets).

A run is planned in shares (`shares`): one test process for all the tests, or, for a
timing exercise graded beside other work (a `Gate`, grader/batch.py), one for its other
tests, which shares the machine, and one for its `measured` tests, which runs alone;
that one starts together with the first, in a staged copy of its own, and waits, its
tests collected, until the machine is free (`_Run.hold`, channel.HOLD). One result comes
out of them all.

The parent fails closed: a test that started and never reported gets "crash" or
"timeout" with what happened, a test that never started gets "not judged"; the tests
still to run go to a fresh process, so one hang or crash costs only its own test.
Everything the child started is killed when the run ends, including daemons that left
its session (found by a token in their environment, or adopted by the grader as child
subreaper), by its cgroup and by its user id where it has its own. Where bubblewrap works
the child also runs in its own namespaces, seeing an allowlist of the machine
(grader/isolation.py); each run says which mode it had. Messages are capped here, in the
parent, by lines and by length.

Outcomes cannot be forged by printing or by writing into the results file: every line
must carry the HMAC of a key only the plugin received (through a pipe, before any student
code ran) and the next sequence number; other lines are counted and reported as forged.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol

from grader import channel, isolation
from grader.catalog import Exercise, exercise_to_json
from grader.cores import CORES_ENV
from grader.isolation import (Cgroup, become_subreaper, bwrap_command, clean_shared_tmp, exit_description,
                              exit_status, give_back_uid, hand_over, kill_everything, launch, limits,
                              sandbox_mode, take_uid, track)
# Cancelled is what run_hidden_tests raises; cancel_all is imported from here by bench/ and tests.
from grader.isolation import Cancelled, cancel_all  # noqa: F401

KERNELS = Path(__file__).parent / "kernels"  # instrumented replacements for given files
OUTPUT_CAP = 1 << 20  # bytes of the child's output kept; the rest is read and dropped
MAX_RESTARTS = 8  # fresh processes after a crash or hang, per run
HOLD_WAIT = 30.0  # seconds a held test process may take to collect before the run goes on anyway
POLL = 0.05  # seconds between looks at the results channel
TREE_POLL = 0.5  # seconds between snapshots of the child's process tree
OUTPUT_TAIL = 64 << 10  # bytes of the latest output kept in memory past the cap (crash dumps)
EXIT_GRACE = 5.0  # after its last test, the process gets this long to leave
MESSAGE_CHARS = 800  # a test's message in the reports: at most this long (and channel.MESSAGE_LINES lines)
DETAIL_CHARS = 4000  # one string among a test's details (a trace line, a figure's label)
DETAIL_ITEMS = 2000  # entries of one list or mapping among the details (the steps of a trace)
# pytest's own plugins that act only when asked by an option the grader never gives (a
# doctest run, a paste service, --stepwise, --setup-only/--setup-plan): not loading them
# saves each test process their import and registration. Those a hidden test may lean on
# stay: junitxml (it provides record_property, how a test records its note and figures),
# unittest (TestCase classes), legacypath (the tmpdir fixture), debugging.
UNUSED_PLUGINS = ("-p", "no:doctest", "-p", "no:pastebin", "-p", "no:stepwise",
                  "-p", "no:setuponly", "-p", "no:setupplan")
# `python -m pytest`, with the grader's plugin imported first: imported by pytest's `-p`,
# it would be parsed and rewritten for asserts (it has none) in every test process, rather
# than loaded from its compiled bytecode (compile_grader). `-p grader.plugin` still
# registers it, the very same module.
CHILD_MAIN = "import runpy, grader.plugin; runpy.run_module('pytest', run_name='__main__', alter_sys=True)"
PYTEST_INI = "[pytest]\n# The staged copy is the rootdir: no configuration from elsewhere applies.\n"

@dataclass(frozen=True)
class TestRecord:
    """One collected test's outcome, as the plugin reported it or the parent concluded."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    test: str  # pytest's item name: "test_no_lost_updates[8]"
    function: str  # the test function, the name exercise.yaml uses: "test_no_lost_updates"
    verdict: str
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0
    judged: bool = True  # a passing test may say it did not judge (grader.model.TestOutcome)
    not_judged_reason: str = ""


@dataclass(frozen=True)
class SandboxRun:
    records: tuple[TestRecord, ...]
    output: str  # the child's stdout and stderr, capped; a log for people, never parsed for grades
    duration: float
    processes: int  # test processes started: one per share, plus restarts
    notes: tuple[str, ...] = ()  # run-level problems worth telling (collection errors, restarts)
    tampered: tuple[str, ...] = ()  # hidden files that changed during the run
    mode: str = "plain"  # the isolation it ran under: "bwrap", "user" or "plain" (grader/isolation.py)
    shares: int = 1  # the test processes the run was planned in (Share): the others were restarts
    waited: float = 0.0  # seconds spent waiting for the gate, not grading (not in `duration`)

    @property
    def restarts(self) -> int:
        """Fresh processes started after a crash or a hang."""
        return self.processes - self.shares


class Gate(Protocol):
    """Who may run beside whom (grader/batch.py: TimingGate): a process measuring time runs
    alone (TIMING true), the others share the machine."""

    def entered(self, timing: bool) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class Share:
    """The tests one planned test process runs, and whether it must run alone."""

    tests: str  # "" (all of them), channel.MEASURED or channel.UNMEASURED
    timing: bool


def shares(exercise: Exercise, gated: bool) -> tuple[Share, ...]:
    """How a run is planned. Under a gate, a timing exercise that marks some tests
    `measured` gets two processes: the others beside other grading, then the measured ones
    alone (a fresh process: nothing the other tests left running skews the figures).
    Otherwise one process runs everything, alone if the exercise measures time."""
    if gated and exercise.measured_apart:
        return Share(channel.UNMEASURED, False), Share(channel.MEASURED, True)
    return (Share("", exercise.timing),)


_compiled = threading.Lock()
_compiled_done = False


def compile_grader() -> None:
    """Bytecode for the grader's own modules, written once per grading process.

    Test processes import the plugin, the engine and the timing rule, modules the grader's
    process itself mostly never imports, and never write bytecode themselves
    (PYTHONDONTWRITEBYTECODE: nothing of a run may be left behind): without this, every
    test process compiled them from source again (about 0.1 s of CPU each). Up-to-date
    files are only looked at. A package folder this user may not write to (a system-wide
    install, compiled by its installer) is left as it is."""
    global _compiled_done
    with _compiled:
        if _compiled_done:
            return
        _compiled_done = True
        import compileall
        try:
            compileall.compile_dir(str(Path(__file__).parent), quiet=2)
        except OSError:
            pass


def run_hidden_tests(exercise: Exercise, files: Mapping[str, Path], *,
                     replay_seed: int | None = None, gate: Gate | None = None) -> SandboxRun:
    """Run EXERCISE's hidden tests against FILES (student file name -> path) in isolation,
    each planned test process inside GATE (none: nothing else is graded meanwhile)."""
    become_subreaper()
    compile_grader()
    mode = sandbox_mode()
    run_dir = Path(tempfile.mkdtemp(prefix=f"grader-{exercise.id}-"))
    try:
        staged = stage(exercise, files, run_dir / "staged")
        before = _hidden_hashes(exercise)
        run = _Run(exercise, staged, run_dir, replay_seed, mode, list(files.values()))
        run.restage = lambda: _restage(exercise, files, staged)
        planned = shares(exercise, gate is not None)
        waited = 0.0

        @contextmanager
        def inside(timing: bool) -> Iterator[None]:
            """GATE's side for one test process; the time spent waiting for it counted apart."""
            nonlocal waited
            asked = time.monotonic()
            with gate.entered(timing) if gate is not None else nullcontext():
                waited += time.monotonic() - asked
                yield

        try:
            for i, share in enumerate(planned):
                later = planned[i + 1:]
                if gate is not None and share.timing and i == 0:
                    # Alone from the start: its test process starts beside other grading and
                    # waits, collected, for the machine.
                    with inside(False):
                        run.hold(share, collected=True)
                with inside(share.timing):
                    if gate is not None and not share.timing and later and later[0].timing:
                        # The measured tests' process starts now, beside this share's, in
                        # a copy of its own, and waits for its turn: its start-up is paid
                        # neither on the exclusive side nor after this share.
                        run.hold(later[0], stage(exercise, files, run_dir / "staged-measured"))
                    run.execute(share)
                if run.collected is None:  # nothing could be collected: no share can do better
                    break
            output = run.output.text()
        finally:
            run.discard_held()
            run.output.close()
        after = _hidden_hashes(exercise)
        tampered = tuple(sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k)))
        if run.forged:
            run.notes.insert(0, f"{run.forged} line{'s' if run.forged != 1 else ''} written into the results "
                             f"channel by something other than the grader (forged records?) "
                             f"{'were' if run.forged != 1 else 'was'} ignored")
        notes = tuple(dict.fromkeys(run.notes))  # a share that failed as the one before says nothing new
        return SandboxRun(tuple(run.records.values()), output, time.monotonic() - run.started - waited,
                          run.processes, notes, tampered, mode, len(planned), round(waited, 3))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def stage(exercise: Exercise, files: Mapping[str, Path], dest: Path) -> Path:
    """A fresh copy holding what the tests need and nothing else (no solutions, no other students)."""
    dest.mkdir(parents=True)
    for name in exercise.files:
        if name in files:
            shutil.copyfile(files[name], dest / name)
    for name in exercise.given:
        kernel = exercise.instrumented.get(name)
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(KERNELS / kernel if kernel else exercise.path / name, dest / name)
    shutil.copytree(exercise.hidden_dir, dest / "hidden",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    (dest / "pytest.ini").write_text(PYTEST_INI)
    for path in (dest / "hidden").rglob("*"):
        if path.is_file():
            path.chmod(0o444)  # a careless write fails loudly; a deliberate one shows in the hashes
    (dest / "tmp").mkdir()
    return dest


def _restage(exercise: Exercise, files: Mapping[str, Path], staged: Path) -> None:
    """A pristine copy for the next test process: whatever the last one planted there (a
    sitecustomize.py, a conftest.py, a rewritten test) is gone before Python starts."""
    shutil.rmtree(staged, ignore_errors=True)
    if staged.exists():  # a file the student made undeletable: start from a new folder
        raise RuntimeError(f"could not clear {staged} for a fresh test process")
    stage(exercise, files, staged)


def _hidden_hashes(exercise: Exercise) -> dict[str, str]:
    # The staged copy's hidden tests are removed once collected (grader/plugin.py) and every
    # test process starts from a fresh copy, so changing them there changes nothing; the
    # exercise's own files, outside, must not change whatever the mode.
    paths = {f"exercise {p.relative_to(exercise.path)}": p for p in exercise.hidden_dir.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    hashes = {}
    for key, path in paths.items():
        try:
            hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            hashes[key] = "unreadable"
    return hashes


class _Output:
    """The child's output, kept up to a cap in a file; the rest is read and dropped."""

    def __init__(self, path: Path, cap: int = OUTPUT_CAP) -> None:
        self.path, self.cap = path, cap
        self.file = open(path, "wb")
        self.kept = self.dropped = self.total = 0
        self.tail = bytearray()  # the latest output even past the cap: a crash dump comes last
        self.lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self.lock:
            room = max(0, self.cap - self.kept)
            if room:
                self.file.write(data[:room])
                self.file.flush()
            self.kept += min(room, len(data))
            self.dropped += max(0, len(data) - room)
            self.total += len(data)
            self.tail += data[-OUTPUT_TAIL:]
            del self.tail[:-OUTPUT_TAIL]

    def pump(self, fd: int) -> None:
        # Reads until every writer is gone, so a chatty child never blocks on a full pipe.
        try:
            while chunk := os.read(fd, 1 << 16):
                self.write(chunk)
        except (OSError, ValueError):
            pass  # the parent closed the pipe after giving up on a writer that would not die

    def text(self) -> str:
        with self.lock:
            self.file.flush()
            text = self.path.read_bytes().decode("utf-8", "replace")
            if self.dropped:
                text += (f"\n[output truncated at {self.cap / 2**20:g} MB: {self.dropped / 2**20:.1f} MB "
                         f"more were discarded; the end of the output follows]\n")
                text += bytes(self.tail[-min(self.dropped, OUTPUT_TAIL):]).decode("utf-8", "replace")
        return text

    def since(self, mark: int) -> str:
        """The output written after `total` was MARK (as much of it as the tail holds)."""
        with self.lock:
            fresh = min(self.total - mark, len(self.tail))
            return bytes(self.tail[len(self.tail) - fresh:]).decode("utf-8", "replace")

    def close(self) -> None:
        self.file.close()


@dataclass
class _Child:
    """One test process of a run, from its launch to its end."""

    proc: "subprocess.Popen[bytes]"
    uid: int | None
    token: str  # in the environment of everything it starts
    launched: float  # time.time() at launch
    cgroup: Cgroup
    reader: channel.Reader
    pump: threading.Thread  # copies its output into the run's log
    staged: Path  # the staged copy it runs in
    go: int | None = None  # held: the write end of the pipe its go comes through
    current: dict[str, Any] | None = None  # the test running now (its "start" record)
    started: float = 0.0  # when that test started (time.monotonic())
    tracked: dict[int, float] = field(default_factory=dict)  # its process tree, as last seen


class _Run:
    """All the test processes of one run, until every collected test has an outcome."""

    def __init__(self, exercise: Exercise, staged: Path, run_dir: Path, replay_seed: int | None,
                 mode: str = "plain", student_files: list[Path] | None = None) -> None:
        self.exercise, self.staged, self.run_dir = exercise, staged, run_dir
        self.replay_seed = replay_seed
        self.mode, self.student_files = mode, student_files or []
        self.forged = 0  # lines in the results channel that were not the plugin's
        self.started = time.monotonic()
        self.deadline = self.started + exercise.run_timeout
        self.spent = 0.0  # seconds the shares run so far took: the run's limit is for all of them
        self.share = Share("", exercise.timing)
        self.share_processes = 0  # processes of the current share: 1 + restarts
        self.output = _Output(run_dir / "output.log")
        self.records: dict[str, TestRecord] = {}  # by nodeid, in the order they finished
        self.collected: list[dict[str, str]] | None = None
        self.collect_failed = False  # a hidden test file of this share failed to import
        self.held: dict[Share, _Child] = {}  # processes started ahead, waiting to be let go
        self.staged_used = False  # a process ran in the run's staged copy: restage it before the next
        self.notes: list[str] = []
        self.processes = 0
        self.importing: str | None = None  # the student file being imported right now, if any
        self.output_mark = 0  # where this process's output starts
        self.restage: Any = None  # makes the staged copy pristine again, before each process after the first in it

    def _begin(self, share: Share) -> None:
        self.share = share
        self.collected, self.share_processes, self.collect_failed = None, 0, False

    def execute(self, share: Share | None = None) -> None:
        """Test processes for SHARE (all the tests by default) until each of its collected
        tests has an outcome, within what is left of the exercise's run limit; the first
        one is the held process, if `hold(SHARE)` started one."""
        self._begin(share or Share("", self.exercise.timing))
        began = time.monotonic()
        self.deadline = began + self.exercise.run_timeout - self.spent
        try:
            self._execute()
        finally:
            self.spent += time.monotonic() - began

    def _execute(self) -> None:
        while True:
            before = len(self.records)
            stop = self._attempt()
            left = [t for t in self.collected or [] if t["nodeid"] not in self.records]
            if not left:
                return
            if stop is None and len(self.records) == before:
                stop = "the test process ended before running them"
            if stop is None and self.share_processes > MAX_RESTARTS:
                stop = f"the test process crashed or hung {self.share_processes} times"
            if stop is not None:
                for t in left:
                    self.records[t["nodeid"]] = TestRecord(t["test"], t["function"], "not_judged",
                                                           f"did not run: {stop}")
                return
            self.output.write(f"\n===== grader: a fresh test process for the {len(left)} tests "
                              f"left =====\n".encode())

    def hold(self, share: Share, staged: Path | None = None, *, collected: bool = False) -> None:
        """Start SHARE's first test process now, beside other grading, and leave it waiting
        once it has collected the tests, before any test and any of the student's code runs
        (the plugin waits for a byte on a pipe, channel.HOLD): its start-up is then not paid
        on the gate's exclusive side. `execute(SHARE)` lets it go. STAGED: a copy of its
        own, when another process of the run is running meanwhile (each process removes the
        hidden tests from its copy, and the student's code may write in it). COLLECTED:
        return only once it has collected (or ended), to start it before anything else."""
        if isolation.cancelled.is_set():
            raise Cancelled("grading was cancelled")
        child = self.held[share] = self._launch(hold=True, staged=staged, share=share)
        if collected:
            # Looked at with a reader of its own: the events are for execute(SHARE) to take.
            peek = channel.Reader(child.reader.path, child.reader.key, child.reader.pid)
            limit = time.monotonic() + HOLD_WAIT
            while child.proc.poll() is None and time.monotonic() < limit:
                if any(r.get("event") in ("collected", "collect_error") for r in peek.read()):
                    break
                time.sleep(POLL)

    def discard_held(self) -> None:
        """End the held test processes that were never let go (the run stopped before)."""
        while self.held:
            _, child = self.held.popitem()
            try:
                self._end(child)
            finally:
                give_back_uid(child.uid)

    def _attempt(self) -> str | None:
        """One test process. Returns why the remaining tests cannot run, or None to go on."""
        if isolation.cancelled.is_set():
            raise Cancelled("grading was cancelled")
        # This process's turn: its output starts here (a held one printed only its header).
        self.importing, self.output_mark = None, self.output.total
        child = self.held.pop(self.share, None)
        if child is None:
            child = self._launch()
        self.share_processes += 1
        try:
            if child.go is not None:  # a held process: its tests may run now
                try:
                    os.write(child.go, channel.GO)
                except OSError:  # it ended meanwhile: _watch says how
                    pass
                os.close(child.go)
                child.go = None
            return self._watch(child)
        finally:
            give_back_uid(child.uid)

    def _launch(self, hold: bool = False, staged: Path | None = None,
                share: Share | None = None) -> "_Child":
        """Start one test process for SHARE (by default the one running; HOLD: told to wait
        after its collection) in STAGED (by default the run's copy, made pristine again
        once a process has used it)."""
        staged, share = staged or self.staged, share or self.share
        uid = take_uid(self.mode)  # a user of its own where the grader can switch users
        try:
            self.processes += 1
            if staged == self.staged:
                if self.staged_used and self.restage is not None:
                    self.restage()
                self.staged_used = True
            hand_over(staged, self.run_dir, uid)
            results = self.run_dir / f"results-{self.processes}.jsonl"
            token = uuid.uuid4().hex
            # The child gets descriptors, not paths: the results file opened for appending and
            # the read end of a pipe holding the key (the plugin reads it, then closes it);
            # a held one, the read end of the pipe its go will come through.
            key, results_fd, key_read = channel.hand_down(results)
            wait_read, go = os.pipe() if hold else (None, None)
            fds = (results_fd, key_read) + ((wait_read,) if wait_read is not None else ())
            env = self._env(channel.spec(results_fd, key_read), token, staged, share)
            if wait_read is not None:
                env[channel.HOLD] = str(wait_read)
            command = self._command()
            if self.mode == "bwrap":
                command = bwrap_command(command, staged, uid)
            launched = time.time()
            cgroup = Cgroup()  # everything the test starts stays in it, killed at once at the end
            try:
                proc = launch(command, staged, env, limits(self.exercise.run_timeout, self.exercise.memory_mb),
                              pass_fds=fds, user=uid if self.mode == "user" else None)
                cgroup.add(proc.pid)  # before Python even starts: nothing of the student's ran yet
            except BaseException:
                cgroup.remove()
                if go is not None:
                    os.close(go)
                raise
            finally:
                for fd in fds:
                    os.close(fd)
        except BaseException:
            give_back_uid(uid)
            raise
        assert proc.stdout is not None  # launched with stdout=PIPE
        pump = threading.Thread(target=self.output.pump, args=(proc.stdout.fileno(),), daemon=True)
        pump.start()
        # Under bwrap the test process has a pid of its own namespace: learnt from its first line.
        reader = channel.Reader(results, key, proc.pid if self.mode != "bwrap" else None)
        return _Child(proc, uid, token, launched, cgroup, reader, pump, staged, go)

    def _read(self, child: "_Child") -> None:
        for record in child.reader.read():
            child.current = self._handle(record, child.current)
            if record["event"] == "start":
                child.started = time.monotonic()

    def _watch(self, child: "_Child") -> str | None:
        """Follow one running test process to its end; returns why the remaining tests
        cannot run, or None to go on."""
        proc, reader = child.proc, child.reader
        finished_at = 0.0
        next_tree = 0.0
        killed: str | None = None
        try:
            while True:
                self._read(child)
                current, started = child.current, child.started
                now = time.monotonic()
                if proc.poll() is not None:
                    break
                if current is not None and now - started > _hard_limit(current.get("timeout")):
                    killed = "test_timeout"
                    break
                if now > self.deadline:
                    killed = "run_timeout"
                    break
                everything_ran = self.collected is not None and all(
                    t["nodeid"] in self.records for t in self.collected)
                if everything_ran or reader.done:
                    finished_at = finished_at or now
                    if now - finished_at > EXIT_GRACE:
                        killed = "lingering"  # a student's thread or child keeps it alive; outcomes are in
                        break
                if now >= next_tree:
                    track(proc.pid, child.tracked)
                    next_tree = now + TREE_POLL
                try:  # a pause that ends as soon as the process does (its last results are in)
                    proc.wait(timeout=POLL)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            returncode = self._end(child)
        if isolation.cancelled.is_set():
            raise Cancelled("grading was cancelled")
        self._read(child)  # what it wrote just before it ended
        self.forged += reader.rejected
        if child.current is not None:
            self._unfinished(child.current, killed, returncode, time.monotonic() - child.started, child.staged)
        if self.collected is None:
            what = "the hidden tests could not be collected" if self.collect_failed \
                else f"the test process {exit_description(returncode)} before any test started"
            if killed == "run_timeout":
                what = f"the run's {self.exercise.run_timeout:g} s limit was reached before any test started"
            self.notes.append(what)
            return what
        if killed == "run_timeout":
            return f"the run's {self.exercise.run_timeout:g} s limit was reached"
        return None

    def _end(self, child: "_Child") -> int:
        """Kill whatever the test process left and take its exit status."""
        if child.go is not None:
            os.close(child.go)
            child.go = None
        try:
            return exit_status(kill_everything(child.proc, child.token, child.tracked, child.launched,
                                               child.cgroup, child.uid), self.mode)
        finally:
            child.cgroup.remove()
            if self.mode == "user":  # under bwrap /tmp and /dev/shm were the run's own
                clean_shared_tmp(child.uid)
            child.pump.join(timeout=2.0)
            assert child.proc.stdout is not None
            child.proc.stdout.close()

    def _handle(self, record: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | None:
        event = record.get("event")
        if event == "collected" and self.collected is None:
            self.collected = [{k: str(t[k]) for k in ("nodeid", "test", "function")} for t in record["tests"]]
        elif event == "collect_error":
            self.collect_failed = True
            self.notes.append(f"the hidden tests could not be collected: {capped(record.get('message', ''))}")
        elif event == "start":
            self.importing = None
            return record
        elif event == "importing":
            self.importing = str(record.get("file", ""))
        elif event == "imported":
            self.importing = None
        elif event == "tampered":  # the audit hook saw it (grader/guard.py); the process dies next
            reason = capped(record.get("reason") or "your code tampered with the test")
            if current is None:
                self.notes.append(f"between tests: {reason}")
                return None
            self.records[current["nodeid"]] = TestRecord(current["test"], current["function"], "tampered",
                                                         reason, {}, 0.0)
            return None
        elif event == "result":
            details = record.get("details") or {}
            self.records[record["nodeid"]] = TestRecord(
                record["test"], record["function"], str(record["verdict"]), capped(record.get("message", "")),
                _bounded(details) if isinstance(details, dict) else {}, float(record.get("duration") or 0.0),
                record.get("judged") is not False, str(record.get("not_judged_reason") or ""))
            return None
        return current

    def _unfinished(self, start: dict[str, Any], killed: str | None, returncode: int,
                    elapsed: float, staged: Path) -> None:
        """The outcome of the test that was running when its process ended."""
        if killed == "lingering":
            return
        if self.importing and killed is None:
            verdict = "import_error"
            message = f"{self.importing} does not import: the test process {exit_description(returncode)} " \
                      f"while importing it"
            message += " (os._exit at the top level?)" if returncode >= 0 else ""
        elif killed == "test_timeout":
            verdict = "timeout"
            message = (f"the test ran over its {start.get('timeout'):g} s limit and did not stop when "
                       f"interrupted (stuck inside a C call, or catching every exception?)")
        elif killed == "run_timeout":
            verdict = "timeout"
            message = f"the exercise's tests ran over their {self.exercise.run_timeout:g} s limit during this test"
        elif returncode < 0:
            verdict = "crash"
            message = f"the test process {exit_description(returncode)} during this test"
            where = _student_frame_in_dump(self.output.since(self.output_mark), staged)
            if where:
                message += f"; your code was at {where}"
        else:
            verdict = "crash"
            message = (f"the test process exited with code {returncode} in the middle of this test "
                       f"(os._exit or sys.exit in your code?)")
        self.records[start["nodeid"]] = TestRecord(start["test"], start["function"], verdict, message,
                                                   {}, round(elapsed, 4))

    def _command(self) -> list[str]:
        done = [f"--deselect={nodeid}" for nodeid in self.records]
        # -s: no user site; -P: the working folder (the staged copy) is not put first on
        # sys.path by Python itself. Not -I: it would drop PYTHONHASHSEED, which keeps the
        # schedules reproducible.
        return [sys.executable, "-s", "-P", "-c", CHILD_MAIN, "-p", "grader.plugin", "-p", "pytest_timeout",
                "-p", "no:cacheprovider", *UNUSED_PLUGINS, "-q", "-s", "--tb=short", "-c", "pytest.ini", "--rootdir", ".",
                f"--timeout={self.exercise.test_timeout:g}", "--timeout-method=signal",
                # a controlled scheduler may install a trace function: that is not a debugger
                "--timeout-disable-debugger-detection",
                # a hidden file that fails to import costs its own tests, not everyone's
                "--continue-on-collection-errors", "hidden", *done]

    def _env(self, channel_spec: str, token: str, staged: Path | None = None,
             share: Share | None = None) -> dict[str, str]:
        staged, share = staged or self.staged, share or self.share
        # Nothing from the grader's own pytest or Python configuration leaks in.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTEST_", "PYTHON", "GRADER_", "COV_"))}
        env.update({
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "PYTHONPATH": str(staged), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "MALLOC_ARENA_MAX": "2",  # per-thread malloc arenas would eat the address-space limit
            "TMPDIR": str(staged / "tmp"),
            # The exercise as the child sees it: its folder is the staged copy (which holds
            # everything the tests need), so no path into the repository reaches the child.
            channel.EXERCISE: exercise_to_json(dataclasses.replace(self.exercise, path=staged, solution=None)),
            channel.STAGED: str(staged),
            channel.CHANNEL: channel_spec,
            channel.RUN_TOKEN: token,
        })
        if self.replay_seed is not None:
            env[channel.REPLAY_SEED] = str(self.replay_seed)
        if share.tests:
            env[channel.TESTS] = share.tests
        # The instructor's cap on usable cores is for the timing tests, which run here.
        if os.environ.get(CORES_ENV, "").strip():
            env[CORES_ENV] = os.environ[CORES_ENV].strip()
        return env


def capped(text: Any) -> str:
    """A message as reports show it: a few lines and a few hundred characters at most.

    Messages are built in the test process, partly from values the student's code returns
    (a repr, an exception's text), so the parent bounds them whatever the plugin did: a
    student cannot pour a file's content into the report through an exception."""
    text = str(text)
    lines = text.strip().splitlines()
    kept = "\n".join(lines[:channel.MESSAGE_LINES])
    if len(kept) > MESSAGE_CHARS:
        kept = kept[:MESSAGE_CHARS].rstrip() + " ..."
    elif len(lines) > channel.MESSAGE_LINES:
        kept += "\n..."
    return kept


def _bounded(value: Any, depth: int = 0) -> Any:
    """Details with every string and list cut to a size a report can show."""
    if isinstance(value, str):
        return value if len(value) <= DETAIL_CHARS else value[:DETAIL_CHARS] + " ..."
    if depth > 12:
        return "..."
    if isinstance(value, dict):
        return {str(k)[:200]: _bounded(v, depth + 1) for k, v in list(value.items())[:DETAIL_ITEMS]}
    if isinstance(value, list):
        return [_bounded(v, depth + 1) for v in value[:DETAIL_ITEMS]]
    return value


def _hard_limit(timeout: float | None) -> float:
    """When the parent gives up on a test pytest-timeout should have stopped already."""
    if not timeout:
        return float("inf")  # the run's own limit still applies
    return timeout + min(5.0, 1.0 + 0.1 * timeout)


_FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')


def _student_frame_in_dump(output: str, staged: Path) -> str | None:
    """Where the student's code was, from the faulthandler dump of a fatal signal."""
    start = output.rfind("Fatal Python error")
    if start < 0:
        return None
    root = os.path.realpath(staged)
    for match in _FRAME.finditer(output, start):  # most recent call first
        path = os.path.realpath(match.group(1))
        if os.path.dirname(path) == root:
            return f"{os.path.basename(path)} line {match.group(2)} (in {match.group(3)})"
    return None
