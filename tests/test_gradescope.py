"""The Gradescope autograder: built by `grader gradescope`, then run the way Gradescope runs
it (setup.sh once, run_autograder per submission) in a temporary /autograder."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grader import cli

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "students" / "basic" / "good" / "basic.py"

# Gradescope's documented results.json (autograder specification): keys and their types.
TOP = {"score": (int, float), "execution_time": (int, float), "output": str,
       "output_format": str, "test_output_format": str, "test_name_format": str,
       "visibility": str, "stdout_visibility": str, "extra_data": dict, "tests": list,
       "leaderboard": list}
TEST = {"score": (int, float), "max_score": (int, float), "status": str, "name": str,
        "name_format": str, "number": str, "output": str, "output_format": str,
        "tags": list, "visibility": str, "extra_data": dict}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def check_schema(doc: dict[str, Any]) -> None:
    """Fail on anything Gradescope's specification does not allow."""
    for key, value in doc.items():
        assert key in TOP, f"unknown top-level key {key}"
        assert isinstance(value, TOP[key]), (key, value)
    assert doc["visibility"] in VISIBILITY and doc["stdout_visibility"] in VISIBILITY
    assert doc.get("output_format", "text") in FORMATS
    for test in doc["tests"]:
        for key, value in test.items():
            assert key in TEST, f"unknown test key {key}"
            assert isinstance(value, TEST[key]), (key, value)
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITY
        assert 0 <= test["score"] <= test["max_score"]
    # The top-level score overrides the tests' sum on Gradescope: they must agree.
    assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))


def build(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> Path:
    out = tmp_path / "autograder.zip"
    code = cli.main(["gradescope", str(out), *argv])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "no solution in it" in stdout
    return out


def test_the_zip_holds_the_scripts_and_hidden_tests_but_no_solution(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = build(tmp_path, capsys, "--exercise", "race_counter")
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        digests = {hashlib.sha256(zf.read(n)).hexdigest() for n in names}
    assert {"setup.sh", "run_autograder", "autograder.json"} <= names
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert "exercises/race_counter/hidden/test_counter.py" in names
    assert "grader-src/grader/gradescope.py" in names and "grader-src/pyproject.toml" in names
    assert not any("solution" in n for n in names)
    solution = (REPO / "solutions" / "race_counter" / "counter.py").read_bytes()
    assert hashlib.sha256(solution).hexdigest() not in digests


def test_a_visibility_for_an_unknown_exercise_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["gradescope", str(tmp_path / "a.zip"), "--exercise", "race_counter",
                     "--visibility", "bank_account=hidden"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "not an exercise of this autograder" in err


@pytest.mark.slow
def test_setup_and_run_autograder_for_real(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    archive = build(tmp_path, capsys, "--exercises", str(FIXTURES / "exercises"),
                    "--exercise", "basic", "--visibility", "basic=after_due_date")
    root = tmp_path / "autograder"
    source, submission, results = root / "source", root / "submission", root / "results"
    for folder in (source, submission, results):
        folder.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(source)
    shutil.copy(source / "run_autograder", root / "run_autograder")  # as Gradescope does
    # The student handed in Basic.py (a capital letter) and Gradescope says who they are.
    shutil.copy(GOOD, submission / "Basic.py")
    (root / "submission_metadata.json").write_text(json.dumps({
        "id": 123456, "created_at": "2026-11-20T14:22:32.365935-07:00",
        "users": [{"email": "ann@example.edu", "id": 1234, "name": "Ann Lee"}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["GRADER_AUTOGRADER_ROOT"] = str(root)
    setup = subprocess.run(["bash", str(source / "setup.sh")], cwd=source, env=env,
                           capture_output=True, text=True, timeout=900)
    assert setup.returncode == 0, setup.stderr[-3000:]
    assert "autograder ready" in setup.stdout

    run = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    doc = json.loads((results / "results.json").read_text())
    check_schema(doc)
    assert doc["score"] == 4 and doc["extra_data"]["student"] == "Ann Lee"
    assert {t["visibility"] for t in doc["tests"]} == {"after_due_date"}
    assert doc["visibility"] == "visible"  # the score shows; the tests' details wait
    assert "graded Basic.py as basic.py" in doc["output"]
    assert "adds" not in doc["output"] and "shown after the due date" in doc["output"]
    machine = doc["extra_data"]["machine"]
    assert machine["python"] and machine["cores"] and machine["python"] in doc["output"]

    # A broken setup (the test process's pytest-timeout gone: pytest exits 4 before any
    # test) gives no results.json and one line, never a zero the student did not earn.
    (results / "results.json").unlink()
    for plugin in (source / "venv").glob("lib/python*/site-packages/pytest_timeout.py"):
        plugin.unlink()
    broken = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env,
                            capture_output=True, text=True, timeout=600)
    assert broken.returncode == 1
    assert not (results / "results.json").exists()
    said = [line for line in broken.stderr.splitlines() if line.startswith("grader:")]
    assert len(said) == 1 and "setup is broken" in said[0] and "before any hidden test" in said[0]
