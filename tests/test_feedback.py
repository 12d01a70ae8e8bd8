"""Feedback released when the instructor says: exercise.yaml's `feedback`, in the student's
report.html and results.json, and `grader report --published`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader import cli

FIXTURES = Path(__file__).parent / "fixtures"


def catalog(tmp_path: Path, extra: str) -> Path:
    root = tmp_path / "exercises"
    shutil.copytree(FIXTURES / "exercises" / "basic", root / "basic")
    with (root / "basic" / "exercise.yaml").open("a") as handle:
        handle.write(extra)
    return root


def grade(tmp_path: Path, root: Path) -> Path:
    klass, out = tmp_path / "class", tmp_path / "out"
    (klass / "ann").mkdir(parents=True)
    shutil.copy(FIXTURES / "students" / "basic" / "good" / "basic.py", klass / "ann")
    assert cli.main(["grade", str(klass), "--exercises", str(root), "--out", str(out)]) == 0
    return out


def test_after_published_waits_for_report_published(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = grade(tmp_path, catalog(tmp_path, "feedback: after_published\n"))
    report = (out / "ann" / "report.html").read_text()
    assert "uses the given helper" not in report  # a test's title
    assert "3 of 4 hidden tests passed; their names and messages are shown when the grades are published" in report
    assert "uses the given helper" in (out / "index.html").read_text()  # the instructor's page
    results = json.loads((out / "ann" / "results.json").read_text())
    assert {t["visibility"] for t in results["tests"]} == {"after_published"}
    assert results["score"] == 4  # the score is always shown

    assert cli.main(["report", "--out", str(out), "--published"]) == 0
    assert "uses the given helper" in (out / "ann" / "report.html").read_text()
    assert cli.main(["report", "--out", str(out)]) == 0  # remembered by the gradebook
    assert "uses the given helper" in (out / "ann" / "report.html").read_text()
    capsys.readouterr()


@pytest.mark.parametrize("due, shown", [("2020-01-01T00:00:00+00:00", True),
                                        ("2999-01-01T00:00:00+00:00", False)])
def test_after_due_date_follows_the_due_date(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             due: str, shown: bool) -> None:
    policy = f"feedback: after_due_date\nlate:\n  due: {due}\n  penalty_per_day: 0\n"
    out = grade(tmp_path, catalog(tmp_path, policy))
    assert ("uses the given helper" in (out / "ann" / "report.html").read_text()) is shown
    capsys.readouterr()


def test_gradescope_takes_the_feedback_of_exercise_yaml(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = catalog(tmp_path, "feedback: hidden\n")
    code = cli.main(["gradescope", str(tmp_path / "a.zip"), "--exercises", str(root)])
    assert code == 0 and "basic (hidden)" in capsys.readouterr().out


@pytest.mark.parametrize("extra, words", [
    ("feedback: later\n", "expected one of visible, hidden"),
    ("feedback: after_due_date\n", "needs the due date"),
])
def test_a_malformed_feedback_is_reported_by_check(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   extra: str, words: str) -> None:
    assert cli.main(["check", "--exercises", str(catalog(tmp_path, extra))]) == 1
    assert words in capsys.readouterr().err
