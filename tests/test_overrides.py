"""Instructor overrides through the command line: set, shown everywhere, kept through a
regrade, cleared."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from grader import cli

FIXTURES = Path(__file__).parent / "fixtures"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_override_is_shown_everywhere_and_outlives_a_regrade(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    klass, out = tmp_path / "class", tmp_path / "out"
    (klass / "ann").mkdir(parents=True)
    shutil.copy(FIXTURES / "students" / "basic" / "good" / "basic.py", klass / "ann")
    grade = ["grade", str(klass), "--exercises", str(FIXTURES / "exercises"),
             "--exercise", "basic", "--out", str(out)]
    assert run(capsys, *grade)[0] == 0

    code, said, _ = run(capsys, "override", "ann", "basic", "--points", "5",
                        "--why", "test_undefined was our mistake", "--out", str(out))
    assert code == 0 and "ann · basic: 5/5 (computed 4)" in said

    def shown() -> None:
        with (out / "grades.csv").open(newline="") as handle:
            (row,) = list(csv.DictReader(handle))
        assert (row["basic"], row["total"], row["overridden"]) == ("5", "5", "basic (computed 4)")
        report = (out / "ann" / "report.html").read_text()
        assert "set to 5 by the instructor (computed: 4): test_undefined was our mistake" in report
        gradescope = json.loads((out / "ann" / "results.json").read_text())
        assert gradescope["score"] == 5 and "set to 5 by the instructor" in gradescope["output"]
        assert "*" in (out / "index.html").read_text()
        (ex,) = json.loads((out / "class.json").read_text())["submissions"][0]["exercises"]
        assert (ex["points"], ex["computed_points"]) == (5, 4)

    shown()
    code, summary, _ = run(capsys, *grade, "--force")  # graded again from scratch
    assert code == 0 and "5/5*" in summary and "set to 5 by the instructor" in summary
    shown()

    code, said, _ = run(capsys, "override", "ann", "basic", "--clear", "--out", str(out))
    assert code == 0 and "back to the computed score" in said
    with (out / "grades.csv").open(newline="") as handle:
        assert next(csv.DictReader(handle))["basic"] == "4"


@pytest.mark.parametrize("argv, words", [
    (["nobody", "basic", "--points", "1", "--why", "x"], "no student 'nobody'"),
    (["ann", "basic", "--points", "9", "--why", "x"], "between 0 and 5"),
    (["ann", "zoo", "--points", "1", "--why", "x"], "no result on 'zoo'"),
    (["ann", "basic", "--points", "1"], "say why"),
    (["ann", "basic"], "--points N --why TEXT"),
])
def test_a_wrong_override_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      argv: list[str], words: str) -> None:
    from grader.gradebook import Gradebook, Key
    from grader.model import ExerciseResult
    with Gradebook.open(tmp_path / "gradebook.sqlite") as book:
        book.store(ExerciseResult("basic", "Add", 5, 4, ()), Key("ann", "basic", "h", "e", "v"))
    code, _, err = run(capsys, "override", *argv, "--out", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and words in err
