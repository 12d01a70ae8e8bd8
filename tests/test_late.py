"""The late policy of exercise.yaml, applied from the platform's submission time."""
from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from grader import cli
from grader.report.exports import student_dir

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = (FIXTURES / "students" / "basic" / "good" / "basic.py").read_text()
POLICY = "late:\n  due: 2026-11-20T23:59:00-08:00\n  penalty_per_day: 10\n  max_penalty: 50\n"


def catalog(tmp_path: Path, policy: str = POLICY) -> Path:
    root = tmp_path / "exercises"
    shutil.copytree(FIXTURES / "exercises" / "basic", root / "basic")
    with (root / "basic" / "exercise.yaml").open("a") as handle:
        handle.write(policy)
    return root


def export(tmp_path: Path) -> Path:
    metadata = ""
    for n, (name, when) in enumerate([("Ann", "2026-11-20 22:00:00.0 -08:00"),
                                      ("Bob", "2026-11-22 08:00:00.0 -08:00"),
                                      ("Cy", "2026-12-30 08:00:00.0 -08:00")]):
        metadata += (f"submission_{n}:\n  :submitters:\n  - :name: {name}\n    :sid: '{n}'\n"
                     f"    :email: {name.lower()}@example.edu\n  :created_at: {when}\n")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/submission_metadata.yml", metadata)
        for n in range(3):
            zf.writestr(f"export/submission_{n}/basic.py", GOOD)
    return archive


def test_late_penalty_from_gradescope_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = cli.main(["grade", str(export(tmp_path)), "--exercises", str(catalog(tmp_path)),
                     "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    with (out / "grades.csv").open(newline="") as handle:
        points = {r["name"]: r["basic"] for r in csv.DictReader(handle)}
    # 4 points earned: on time; 2 days late (-20%); 40 days late (capped at -50%).
    assert points == {"Ann": "4", "Bob": "3.20", "Cy": "2"}
    bob = next(s for s in json.loads((out / "class.json").read_text())["submissions"]
               if s["student"] == "Bob (1)")["exercises"][0]
    assert (bob["late_days"], bob["late_penalty"]) == (2, 0.8)
    assert "submitted 2 days late: 0.8 points taken (of 4 earned)" in stdout
    assert "submitted 2 days late" in (out / student_dir("Bob (1)") / "report.html").read_text()
    # An override of the total leaves what the tests earned as it was.
    assert cli.main(["override", "Bob (1)", "basic", "--points", "4", "--why", "ill",
                     "--out", str(out)]) == 0
    report = (out / student_dir("Bob (1)") / "report.html").read_text()
    assert "0.8 points taken (of 4 earned)" in report and "(computed: 3.2)" in report


def test_canvas_late_flag_without_a_time_is_said_not_guessed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("leeann_LATE_9_1_basic.py", GOOD)
    out = tmp_path / "out"
    assert cli.main(["grade", str(archive), "--exercises", str(catalog(tmp_path)),
                     "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "late policy not applied: the platform marked it late but gave no time" in stdout
    with (out / "grades.csv").open(newline="") as handle:
        assert next(csv.DictReader(handle))["basic"] == "4"


def test_a_malformed_policy_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = catalog(tmp_path, "late:\n  due: 2026-11-20\n  penalty_per_day: 10\n")
    code = cli.main(["check", "--exercises", str(root)])
    err = capsys.readouterr().err
    assert code == 1 and "field 'late': 'due' must be a date and time with its time zone" in err
