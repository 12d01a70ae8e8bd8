"""Platform layouts, misnamed files and rosters, through the real command line.

Each test builds the zip a platform would hand a teacher, grades it with `grader grade` on
the fixture exercise `basic` (stub: add, sub, double; the good student's file scores 4 of
5, its yaml declaring one test the hidden tests do not define), and reads the exports.
"""
from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

from grader.report.exports import student_dir
from grader import cli
from grader.catalog import Catalog
from grader.submissions import discover

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = (FIXTURES / "students" / "basic" / "good" / "basic.py").read_text()
STUB = (FIXTURES / "exercises" / "basic" / "basic.py").read_text()


def make_zip(path: Path, entries: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return path


def grade(capsys: pytest.CaptureFixture[str], path: Path, out: Path, *extra: str) -> tuple[str, str]:
    code = cli.main(["grade", str(path), "--exercises", str(FIXTURES / "exercises"),
                     "--exercise", "basic", "--out", str(out), *extra])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    return stdout, stderr


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {r["student"]: r for r in csv.DictReader(handle)}


def results(out: Path) -> dict[str, dict]:
    data = json.loads((out / "class.json").read_text())
    return {s["student"]: {e["exercise"]: e for e in s["exercises"]} for s in data["submissions"]}


def test_canvas_download(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = make_zip(tmp_path / "submissions.zip", {
        # A first try, then a resubmission: Canvas names the newer file basic-1.py.
        "smithjohn_12345_678_basic.py": STUB,
        "smithjohn_12345_678_basic-1.py": GOOD,
        # Late, and named with a capital letter.
        "doejane_LATE_222_333_Basic.py": GOOD,
    })
    stdout, _ = grade(capsys, archive, tmp_path / "out")
    graded = results(tmp_path / "out")
    assert set(graded) == {"smithjohn (12345)", "doejane (222)"}
    assert graded["smithjohn (12345)"]["basic"]["points"] == 4  # the resubmission, not the stub
    jane = graded["doejane (222)"]["basic"]
    assert jane["points"] == 4 and jane["renamed"] == {"basic.py": "Basic.py"}
    assert "doejane (222) · basic: graded Basic.py as basic.py" in stdout
    grades = rows(tmp_path / "out" / "grades.csv")
    assert grades["doejane (222)"]["id"] == "222" and grades["smithjohn (12345)"]["id"] == "12345"
    with (tmp_path / "out" / "canvas.csv").open(newline="") as handle:
        canvas = list(csv.reader(handle))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas[1][0] == "Points Possible" and canvas[1][5] == "5"
    assert sorted((r[1], r[5]) for r in canvas[2:]) == [("12345", "4"), ("222", "4")]
    report = (tmp_path / "out" / student_dir("doejane (222)") / "report.html").read_text()
    assert "graded Basic.py as basic.py" in report
    gradescope = json.loads((tmp_path / "out" / student_dir("doejane (222)") / "results.json").read_text())
    assert "graded Basic.py as basic.py" in gradescope["output"]


def test_canvas_late_flag_and_latest_resubmission(tmp_path: Path, fixture_catalog: Catalog) -> None:
    make_zip(tmp_path / "c.zip", {"leeann_LATE_9_1_basic-2.py": "# 2", "leeann_LATE_9_1_basic-1.py": "# 1"})
    (found,) = discover(tmp_path / "c.zip", fixture_catalog)
    assert found.person.late and found.person.id == "9"
    assert found.files["basic.py"].read_text() == "# 2"


def test_moodle_download(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = make_zip(tmp_path / "moodle.zip", {
        "Jane Doe_123_assignsubmission_file_/basic/basic.py": GOOD,
        "Jane Doe_123_assignsubmission_onlinetext_/onlinetext.html": "<p>done</p>",
        # Misnamed: the file in the exercise folder defines what the stub defines.
        "Bob Roe_77_assignsubmission_file_/basic/homework.py": GOOD,
        # Nothing fits: what was there is said.
        "Ann Lee_5_assignsubmission_file_/basic/notes.py": "print('todo')\n",
        # A folder name without the trailing underscore, as some Moodle versions write it.
        "Eve Park_6_assignsubmission_file/basic.py": GOOD,
    })
    stdout, _ = grade(capsys, archive, tmp_path / "out")
    graded = results(tmp_path / "out")
    assert graded["Jane Doe (123)"]["basic"]["points"] == 4
    bob = graded["Bob Roe (77)"]["basic"]
    assert bob["points"] == 4 and bob["renamed"] == {"basic.py": "basic/homework.py"}
    ann = graded["Ann Lee (5)"]["basic"]
    assert ann["status"] == "not_submitted" and ann["found_instead"] == ["basic/notes.py"]
    assert "Ann Lee (5) · basic: basic/notes.py found instead" in stdout
    with (tmp_path / "out" / "moodle.csv").open(newline="") as handle:
        moodle = {r["Identifier"]: r for r in csv.DictReader(handle)}
    assert set(moodle) == {"Participant 123", "Participant 77", "Participant 5", "Participant 6"}
    assert moodle["Participant 6"]["Grade"] == "4"
    assert moodle["Participant 123"]["Grade"] == "4" and moodle["Participant 123"]["Full name"] == "Jane Doe"
    assert moodle["Participant 5"]["Status"] == "No submission"


GRADESCOPE_METADATA = """\
---
submission_111:
  :submitters:
  - :name: Alice Ng
    :sid: '1001'
    :email: alice@example.edu
  :created_at: 2026-11-20 10:00:00.000000000 -08:00
  :score: 0.0
submission_112:
  :submitters:
  - :name: Bo Chen
    :sid: ''
    :email: bo@example.edu
  :created_at: 2026-11-21 09:30:00.000000000 -08:00
  :results: !ruby/hash:ActiveSupport::HashWithIndifferentAccess
    score: 1.0
"""


def test_gradescope_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = make_zip(tmp_path / "export.zip", {
        "assignment_42_export/submission_metadata.yml": GRADESCOPE_METADATA,
        "assignment_42_export/submission_111/basic.py": GOOD,
        "assignment_42_export/submission_112/basic/basic.py": STUB,
    })
    grade(capsys, archive, tmp_path / "out")
    grades = rows(tmp_path / "out" / "grades.csv")
    assert set(grades) == {"Alice Ng (1001)", "Bo Chen (bo@example.edu)"}
    alice = grades["Alice Ng (1001)"]
    assert (alice["id"], alice["name"], alice["email"], alice["basic"]) == (
        "1001", "Alice Ng", "alice@example.edu", "4")
    assert grades["Bo Chen (bo@example.edu)"]["id"] == "bo@example.edu"
    # Every export carries the id: the per-student results.json and class.json too.
    results_json = json.loads((tmp_path / "out" / student_dir("Alice Ng (1001)") / "results.json").read_text())
    assert results_json["extra_data"]["person"]["id"] == "1001"
    people = json.loads((tmp_path / "out" / "class.json").read_text())["people"]
    assert people["Alice Ng (1001)"]["submitted_at"] == "2026-11-20T10:00:00-08:00"


def test_github_classroom_clones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = make_zip(tmp_path / "repos.zip", {
        "hw1-submissions/hw1-octocat/.git/HEAD": "ref: refs/heads/main\n",
        "hw1-submissions/hw1-octocat/basic.py": GOOD,
        "hw1-submissions/hw1-mona-lisa/.git/HEAD": "ref: refs/heads/main\n",
        "hw1-submissions/hw1-mona-lisa/basic/basic.py": STUB,
    })
    grade(capsys, archive, tmp_path / "out")
    grades = rows(tmp_path / "out" / "grades.csv")
    assert {s: (r["id"], r["basic"]) for s, r in grades.items()} == {
        "octocat": ("octocat", "4"), "mona-lisa": ("mona-lisa", "0")}


def test_github_classroom_folder_is_detected_by_its_repositories(
        tmp_path: Path, fixture_catalog: Catalog) -> None:
    for login in ("ann", "bo"):
        repo = tmp_path / "lab-submissions" / f"lab-{login}"
        (repo / ".git").mkdir(parents=True)
        (repo / "basic.py").write_text(GOOD)
    found = discover(tmp_path / "lab-submissions", fixture_catalog)
    assert [(s.student, s.person.platform) for s in found] == [("ann", "github"), ("bo", "github")]


def test_forcing_a_layout_that_does_not_fit_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "basic.py").write_text(GOOD)
    code = cli.main(["grade", str(tmp_path / "class"), "--exercises", str(FIXTURES / "exercises"),
                     "--layout", "canvas", "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "read as a canvas export" in err


def test_roster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    klass = tmp_path / "class"
    for folder in ("s1", "bob@example.edu", "dave"):
        (klass / folder).mkdir(parents=True)
        (klass / folder / "basic.py").write_text(GOOD)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email,section\n"
                      "s1,Ann Smith,ann@example.edu,A\n"
                      "s2,Bob Jones,bob@example.edu,B\n"
                      "s3,Carol King,carol@example.edu,A\n")
    _, err = grade(capsys, klass, tmp_path / "out", "--roster", str(roster))
    assert "not on the roster" in err and "dave" in err
    assert "handed in nothing" in err and "Carol King (s3)" in err
    grades = rows(tmp_path / "out" / "grades.csv")
    assert {s: (r["id"], r["section"], r["basic"]) for s, r in grades.items()} == {
        "s1": ("s1", "A", "4"), "bob@example.edu": ("s2", "B", "4"), "dave": ("dave", "", "4"),
        "Carol King (s3)": ("s3", "A", "0")}
    carol = results(tmp_path / "out")["Carol King (s3)"]["basic"]
    assert carol["status"] == "not_submitted"
    page = (tmp_path / "out" / "index.html").read_text()
    assert "Not on the roster (graded, but no roster line claims them): dave" in page


def test_a_roster_without_an_id_column_is_one_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "basic.py").write_text(GOOD)
    (tmp_path / "roster.csv").write_text("name,email\nAnn,ann@example.edu\n")
    code = cli.main(["grade", str(tmp_path / "class"), "--exercises", str(FIXTURES / "exercises"),
                     "--roster", str(tmp_path / "roster.csv"), "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert code == 2 and "no id column" in err and err.count("\n") == 1


def test_an_ambiguous_stand_in_is_not_graded(tmp_path: Path, fixture_catalog: Catalog) -> None:
    (tmp_path / "alice" / "basic").mkdir(parents=True)
    (tmp_path / "alice" / "basic" / "one.py").write_text(GOOD)
    (tmp_path / "alice" / "basic" / "two.py").write_text(GOOD)
    (tmp_path / "alice" / "zoo.py").write_text("x = 1\n")
    (found,) = discover(tmp_path / "alice", fixture_catalog)
    assert "basic.py" not in found.files  # two files fit: not ours to choose
    assert found.found_instead["basic"] == ("basic/one.py", "basic/two.py")
