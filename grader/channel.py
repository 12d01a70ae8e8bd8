"""The contract between the grader (the parent) and a test process (the child), in one place.

The parent (grader/sandbox.py) starts `python -m pytest -p grader.plugin` in a staged copy
and hands it, through the environment, exactly these variables (nothing else of the
grader's `GRADER_*` settings reaches the child):

    GRADER_EXERCISE     the Exercise as JSON (grader/catalog.py: exercise_to_json), its
                        folder the staged copy: so in-memory overrides reach the child and
                        no path into the repository does
    GRADER_STAGED_DIR   the staged copy: student files, given files, hidden/
    GRADER_CHANNEL      "<results fd>:<key fd>": inherited descriptors, never a path
    GRADER_RUN_TOKEN    a random token every process the child starts inherits: how the
                        parent finds daemons that escaped its session (grader/isolation.py)
    GRADER_TESTS        only for a timing exercise graded in two processes: "measured" or
                        "unmeasured", the share of the tests this process runs (the
                        plugin deselects the rest; grader/sandbox.py: Share)
    GRADER_HOLD         only for a process started ahead of its turn: the read end of a pipe;
                        once the tests are collected, before any of them (and any student
                        code) runs, the plugin waits for GO on it (`wait_for_go`)
    GRADER_REPLAY_SEED  only when replaying: the one recorded schedule to run again (read
                        by grader/concurrency/explore.py)
    GRADER_CORES        only when the instructor set it: the cap on usable cores
                        (grader/cores.py), for the timing tests

The results channel. The parent opens a results file (outside the staged copy, O_APPEND)
and a pipe holding a fresh 32-byte key, and passes both as bare descriptors (`hand_down`).
In pytest_configure, before any student code is imported, the plugin (`open_writer`) takes
both, reads the key, closes the pipe, makes the results descriptor non-inheritable and
removes GRADER_CHANNEL from the environment. Every record is then one line:

    <hex HMAC-SHA256 of BODY under the key> <space> BODY <newline>

where BODY is one JSON object with the writer's "pid" and "seq" (1, 2, 3, ... per process)
and one of these events:

    {"event": "collected", "tests": [{"nodeid", "test", "function"}, ...]}
    {"event": "collect_error", "where": nodeid, "message": str}
    {"event": "importing", "file": name} / {"event": "imported", "file": name}
    {"event": "start", "nodeid", "test", "function", "timeout": s}
    {"event": "result", "nodeid", "test", "function", "verdict", "message", "details",
     "duration", "judged", "not_judged_reason"}
    {"event": "tampered", "reason": str}
    {"event": "done", "exitstatus": int}

The parent (`Reader`) keeps a line only with the right MAC, the test process's pid (known
in plain mode, the first authentic line's under bwrap, where the child has a pid of its own
namespace) and the next sequence number: a forged, mangled or copied line is counted as
rejected, never believed. Stdout is only ever a log; the grader never parses it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

EXERCISE = "GRADER_EXERCISE"
STAGED = "GRADER_STAGED_DIR"
CHANNEL = "GRADER_CHANNEL"
RUN_TOKEN = "GRADER_RUN_TOKEN"
REPLAY_SEED = "GRADER_REPLAY_SEED"
TESTS = "GRADER_TESTS"
HOLD = "GRADER_HOLD"
GO = b"g"  # what a held process waits for; end of file instead: the grader gave up on it
MEASURED, UNMEASURED = "measured", "unmeasured"  # the values of TESTS
# GRADER_CORES is the instructor's setting and is named where it is read: grader.cores.CORES_ENV.

KEY_BYTES = 32
MESSAGE_LINES = 6  # a failure message is a few lines, never a whole pytest report (both ends cap)


# --------------------------------------------------------------------------- the parent's end

def hand_down(results: Path) -> tuple[bytes, int, int]:
    """Open RESULTS (a new file) for the child to append to, and a pipe holding a fresh key.

    Returns (key, results_fd, key_fd): the parent passes both descriptors to the child
    (pass_fds, and `spec` in GRADER_CHANNEL), then closes its copies once it started."""
    key = secrets.token_bytes(KEY_BYTES)  # a fresh key per process: no line of another process replays
    results_fd = os.open(results, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
    key_read, key_write = os.pipe()
    os.write(key_write, key)
    os.close(key_write)
    return key, results_fd, key_read


def spec(results_fd: int, key_fd: int) -> str:
    """The value of GRADER_CHANNEL for these two descriptors."""
    return f"{results_fd}:{key_fd}"


class Reader:
    """Reads the plugin's lines, keeping only authentic ones of the process we started, in order.

    A line counts only with the right HMAC (the key went to the plugin alone), from the
    test process (its pid: known in plain mode, the first authentic line's under bwrap)
    and with the next sequence number (a copied genuine line does not count twice).
    """

    def __init__(self, path: Path, key: bytes, pid: int | None) -> None:
        self.path, self.key, self.pid = path, key, pid
        self.offset = 0
        self.pending = b""
        self.done = False
        self.seq = 0
        self.rejected = 0  # lines that were not the plugin's: forged, replayed or mangled

    def read(self) -> list[dict[str, Any]]:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        lines = (self.pending + data).split(b"\n")
        self.pending = lines.pop()  # a line still being written
        records = []
        for line in lines:
            record = self._authentic(line)
            if record is None:
                self.rejected += bool(line.strip())
                continue
            records.append(record)
            self.done = self.done or record.get("event") == "done"
        return records

    def _authentic(self, line: bytes) -> dict[str, Any] | None:
        mac, _, body = line.partition(b" ")
        expected = hmac.new(self.key, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(mac, expected):
            return None
        try:
            record = json.loads(body)
        except ValueError:
            return None
        if not isinstance(record, dict) or record.get("seq") != self.seq + 1:
            return None
        if self.pid is None:
            self.pid = record.get("pid")
        if record.get("pid") != self.pid:
            return None
        self.seq += 1
        return record


# --------------------------------------------------------------------------- the child's end

class Writer:
    """The authenticated results channel: the parent checks every line's MAC and sequence."""

    def __init__(self, fd: int, key: bytes) -> None:
        # Student code must not inherit it: not through exec, not as a path it can read.
        os.set_inheritable(fd, False)
        self.fd, self._key = fd, key
        self.pid = os.getpid()
        self.seq = 0
        self.lock = threading.Lock()

    def send(self, event: str, **fields: Any) -> None:
        if os.getpid() != self.pid:
            return  # a forked copy of this process (a student's fork) has nothing to report
        with self.lock:
            self.seq += 1
            record = {"event": event, "pid": self.pid, "seq": self.seq, **fields}
            body = json.dumps(_jsonable(record)).encode()
            mac = hmac.new(self._key, body, hashlib.sha256).hexdigest().encode()
            # O_APPEND and one write a line: a record lands whole even beside a forged one.
            data = mac + b" " + body + b"\n"
            while data:
                data = data[os.write(self.fd, data):]


def open_writer() -> Writer | None:
    """Take the channel the parent handed down, and leave no trace of it in the environment.
    None outside grading (no GRADER_CHANNEL: pytest run by hand on the hidden tests)."""
    value = os.environ.pop(CHANNEL, None)
    if not value:
        return None
    results_fd, key_fd = (int(part) for part in value.split(":"))
    key = b""
    while chunk := os.read(key_fd, 256):
        key += chunk
    os.close(key_fd)
    if len(key) < 16:
        raise RuntimeError("grader.channel: the results channel's key did not arrive")
    return Writer(results_fd, key)


def take_hold() -> int | None:
    """The descriptor a held process waits on (GRADER_HOLD), taken out of the environment
    and kept from anything the tests start; None when not held."""
    value = os.environ.pop(HOLD, None)
    if not value:
        return None
    fd = int(value)
    os.set_inheritable(fd, False)
    return fd


def wait_for_go(fd: int) -> bool:
    """Wait until the grader lets this process run its tests: True, or False if it gave
    up on it (the pipe closed without GO; it is being stopped)."""
    try:
        return os.read(fd, 1) == GO
    finally:
        os.close(fd)


def _jsonable(value: Any, depth: int = 0) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if depth > 20:
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v, depth + 1) for v in value]
    return repr(value)
