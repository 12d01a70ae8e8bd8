"""The machine and the other students (issue 17, item 13), through the real `grade`
command on the quick fixture exercise `basic`, in every mode this machine offers.

A student who signals every process it sees, rewrites every gradebook it finds, leaves a
runner in a session of its own and fills /tmp and /dev/shm is graded beside an honest
classmate: the grader finishes (exit 0), the classmate keeps full marks in an intact
gradebook, nothing of the attacker survives the run, and no file of it is left in the
shared temporary folders. The attack runs only in the modes that keep children apart
(bubblewrap; a user of its own): the plain mode, where nothing does, must say so instead,
on the first line of the run and in every report.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import psutil
import pytest

from grader import cli, isolation
from tests.hostile.classroom import MARKER

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
GOOD = FIXTURES / "students" / "basic" / "good" / "basic.py"
FULL = 4.0


def grade(klass: Path, out: Path) -> int:
    return cli.main(["grade", str(klass), "--out", str(out), "--exercises", str(FIXTURES / "exercises"),
                     "--exercise", "basic", "--jobs", "2"])


def leftovers() -> tuple[list[str], list[str]]:
    processes = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if MARKER in (p.info["cmdline"] or []) and p.info["status"] != psutil.STATUS_ZOMBIE:
                processes.append(" ".join(p.info["cmdline"]))
        except psutil.Error:
            continue
    files = [str(p) for folder in ("/tmp", "/dev/shm", "/var/tmp") if os.path.isdir(folder)
             for p in Path(folder).glob(f"{MARKER}-*")]
    return processes, files


def protected_modes() -> list:
    return [pytest.param("bwrap", marks=pytest.mark.skipif(
                isolation.bwrap_problem() is not None, reason=f"no bubblewrap here: {isolation.bwrap_problem()}")),
            pytest.param("user", marks=pytest.mark.skipif(
                isolation.separate_user_problem() is not None,
                reason=f"no separate user here: {isolation.separate_user_problem()}"))]


@pytest.mark.parametrize("mode", protected_modes())
def test_one_student_cannot_harm_the_grader_or_the_others(mode: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SANDBOX", mode)
    klass, out = tmp_path / "class", tmp_path / "out"
    for name, source in (("attacker", HERE / "plain" / "attacker_basic.py"), ("victim", GOOD)):
        (klass / name).mkdir(parents=True)
        shutil.copyfile(source, klass / name / "basic.py")
    before = leftovers()
    assert grade(klass, out) == 0  # the grader was neither stopped nor killed
    after = leftovers()
    assert after[0] == before[0], "the attacker's runner survived the run"
    assert set(after[1]) <= set(before[1]), "the attacker's files were left in /tmp or /dev/shm"
    with sqlite3.connect(out / "gradebook.sqlite") as db:  # intact: it opens and reads
        rows = dict(db.execute("SELECT student, points FROM results").fetchall())
    assert rows["victim"] == FULL
    document = json.loads((out / "class.json").read_text())
    modes = {e["sandbox"] for s in document["submissions"] for e in s["exercises"]}
    assert modes == {mode}


@pytest.mark.parametrize("mode", protected_modes())
def test_nothing_of_the_class_or_repository_is_readable(mode: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The class outside /tmp (the case bubblewrap's old view missed): classmates' files,
    # the repository's solutions and fixtures, and the output folder are out of sight.
    # Under bubblewrap, all of it, whatever the permissions. A user of its own sees what
    # every user may read (README, threat model): there the class and the output sit in a
    # folder only the grader's user may enter, as the README tells instructors to keep them,
    # and none of the class may be read (the world-readable repository may).
    monkeypatch.setenv("GRADER_SANDBOX", mode)
    base = Path("/var/tmp") if os.path.isdir("/var/tmp") else tmp_path
    home = base / f"hostile-class-{os.getpid()}"
    klass, out = home / "class", home / "out"
    try:
        home.mkdir()
        if mode == "user":
            home.chmod(0o700)
        for name, source in (("reader", HERE / "plain" / "reader_basic.py"), ("victim", GOOD)):
            (klass / name).mkdir(parents=True)
            shutil.copyfile(source, klass / name / "basic.py")
        (klass / "victim" / "classmate_marker.py").write_text("SECRET = 1\n")
        assert grade(klass, out) == 0
        document = json.loads((out / "class.json").read_text())
        reader = next(s for s in document["submissions"] if s["student"] == "reader")
        (test_add,) = [t for t in reader["exercises"][0]["tests"] if t["name"] == "test_add"]
        wanted = "found 0 readable" if mode == "bwrap" else "(0 of the class)"
        assert wanted in test_add["message"], test_add["message"]
    finally:
        shutil.rmtree(home, ignore_errors=True)
