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
    monkeypatch.setenv("GRADER_SANDBOX", mode)
    base = Path("/var/tmp") if os.path.isdir("/var/tmp") else tmp_path
    klass = base / f"hostile-class-{os.getpid()}"
    try:
        for name, source in (("reader", HERE / "plain" / "reader_basic.py"), ("victim", GOOD)):
            (klass / name).mkdir(parents=True)
            shutil.copyfile(source, klass / name / "basic.py")
        (klass / "victim" / "classmate_marker.py").write_text("SECRET = 1\n")
        assert grade(klass, klass.parent / f"{klass.name}-out") == 0
        document = json.loads((klass.parent / f"{klass.name}-out" / "class.json").read_text())
        reader = next(s for s in document["submissions"] if s["student"] == "reader")
        (test_add,) = [t for t in reader["exercises"][0]["tests"] if t["name"] == "test_add"]
        assert "found 0 readable" in test_add["message"], test_add["message"]
    finally:
        shutil.rmtree(klass, ignore_errors=True)
        shutil.rmtree(klass.parent / f"{klass.name}-out", ignore_errors=True)


def test_plain_mode_says_it_is_not_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GRADER_SANDBOX", "plain")
    klass, out = tmp_path / "class", tmp_path / "out"
    (klass / "ann").mkdir(parents=True)
    shutil.copyfile(GOOD, klass / "ann" / "basic.py")
    assert grade(klass, out) == 0
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("grader: NOT ISOLATED:") and "GRADER_SANDBOX=plain" in first
    result = json.loads((out / "ann" / "results.json").read_text())
    assert result["extra_data"]["isolation"] == {"basic": "plain"}  # a field, not a phrase
    assert "NOT ISOLATED" in (out / "ann" / "report.html").read_text()
    assert "graded NOT ISOLATED" in (out / "index.html").read_text()


def test_an_isolated_run_says_nothing_of_the_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if isolation.sandbox_mode() == "plain":
        pytest.skip("this machine offers no isolation: the test above covers it")
    klass, out = tmp_path / "class", tmp_path / "out"
    (klass / "ann").mkdir(parents=True)
    shutil.copyfile(GOOD, klass / "ann" / "basic.py")
    assert grade(klass, out) == 0
    assert "NOT ISOLATED" not in capsys.readouterr().err
    assert "NOT ISOLATED" not in (out / "index.html").read_text()
