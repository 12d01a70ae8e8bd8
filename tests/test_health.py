"""A broken setup fails the command loudly; a class of broken files does not."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from grader import cli

FIXTURES = Path(__file__).parent / "fixtures"


def grade(tmp_path: Path, klass: Path) -> list[str]:
    return ["grade", str(klass), "--exercises", str(FIXTURES / "exercises"), "--exercise", "basic",
            "--out", str(tmp_path / "out")]


def class_of(tmp_path: Path, *students: str) -> Path:
    klass = tmp_path / "class"
    for name in students:
        (klass / name).mkdir(parents=True)
        shutil.copy(FIXTURES / "students" / "basic" / "good" / "basic.py", klass / name / "basic.py")
    return klass


def test_every_job_dying_before_its_tests_is_the_setup(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from grader import sandbox
    # The test process cannot start (as with a .venv bubblewrap cannot see): exit status 4.
    monkeypatch.setattr(sandbox._Run, "_command",
                        lambda self: [sys.executable, "-c", "import sys; sys.exit(4)"])
    code = cli.main(grade(tmp_path, class_of(tmp_path, "ann", "bob")))
    out, err = capsys.readouterr()
    assert code == 1
    # The progress lines a log gets (one per finished job, grader/progress.py), then the one line.
    lines = [line for line in err.strip().splitlines() if not line.startswith("[")]
    assert len(lines) == 1 and "the setup is broken" in lines[0] and "exited with code 4" in lines[0]
    assert "the exercise's own stub too" in lines[0]
    assert "Graded" not in out  # no table of zeros that looks like grades


def stopped(student: str, why: str = "the test process exited with code 4 before any test started"):
    from grader.model import ExerciseResult, SubmissionResult, TestOutcome
    tests = (TestOutcome("test_add", "adds", 2, 0, "not_judged", f"did not run: {why}"),)
    return SubmissionResult(student, (ExerciseResult("basic", "Add", 2, 0, tests),))


def test_the_stub_is_the_control(fixture_catalog) -> None:
    """Every job stopped before its tests: the setup is blamed only if the stub stops too."""
    from grader.health import setup_failure
    basic = fixture_catalog.get("basic")
    results = [stopped("ann"), stopped("bob")]
    stub_stops = lambda submission, exercise: stopped("stub").exercises[0]  # noqa: E731
    stub_runs = lambda submission, exercise: stopped("stub").exercises[0].__class__(  # noqa: E731
        "basic", "Add", 2, 0, ())
    assert "exited with code 4" in setup_failure(results, [basic], stub_stops)
    assert setup_failure(results, [basic], stub_runs) is None
    # Different causes, or one student whose tests ran: the students', not the setup's.
    assert setup_failure([stopped("ann"), stopped("bob", "other")], [basic], stub_stops) is None
    from grader.model import ExerciseResult, SubmissionResult, TestOutcome
    ran = SubmissionResult("cy", (ExerciseResult("basic", "Add", 2, 2, (
        TestOutcome("test_add", "adds", 2, 2, "passed"),)),))
    assert setup_failure([*results, ran], [basic], stub_stops) is None


def test_check_reports_a_declared_test_the_hidden_tests_do_not_define(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["check", "--exercises", str(FIXTURES / "exercises")])
    _, err = capsys.readouterr()
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("grader: error:")]
    assert len(errors) == 1 and "basic: exercise.yaml declares test_undefined" in errors[0]
    assert "test_extra is not in exercise.yaml" in err  # the other way round: a warning


def test_the_course_catalogue_checks_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check"]) == 0
    assert "grader: error" not in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncated", "bad_crc"])
def test_a_damaged_zip_is_called_damaged(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         damage: str) -> None:
    import zipfile
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("alice/basic.py", "def add(a, b):\n    return a + b\n" * 50)
    data = bytearray(archive.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[60] ^= 0xFF  # a byte of the stored file: its CRC no longer matches
    archive.write_bytes(bytes(data))
    code = cli.main(["grade", str(archive), "--exercises", str(FIXTURES / "exercises"),
                     "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "damaged zip" in err
