"""A hostile class folder (issue 17, items 5 and 8 to 12), graded through the real `grade`
command on the quick fixture exercise `basic`: links out of a student's folder, broken and
duplicate archives, names that collide in the output folder or read as spreadsheet
formulas, hidden folders, a nested zip bomb and a malformed gradebook row. Each case gets
its own verdict in its own student's result; the rest of the class is graded as usual.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import zipfile
from pathlib import Path

import pytest

from grader import cli, folders
from grader.report.exports import student_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOOD = (FIXTURES / "students" / "basic" / "good" / "basic.py").read_text()
WRONG = (FIXTURES / "students" / "basic" / "wrong" / "basic.py").read_text()
FULL = 4.0  # basic's points that its hidden tests can award (test_undefined is never run)


def grade(path: Path, out: Path, *more: str) -> int:
    return cli.main(["grade", str(path), "--out", str(out), "--exercises", str(FIXTURES / "exercises"),
                     "--exercise", "basic", "--jobs", "2", *more])


def student(folder: Path, name: str, source: str = GOOD) -> Path:
    (folder / name).mkdir(parents=True)
    (folder / name / "basic.py").write_text(source)
    return folder / name


def results(out: Path) -> dict[str, dict]:
    """Student name -> the basic exercise's result, from class.json (what reports read)."""
    document = json.loads((out / "class.json").read_text())
    found = {}
    for entry in document["submissions"]:
        (exercise,) = entry["exercises"]
        found[entry["student"]] = exercise
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, Path]:
    root = tmp_path_factory.mktemp("class")
    klass, out = root / "class", root / "out"
    klass.mkdir()
    # names that collide once made folder names, or with the class's own files
    for name in ("a b", "a?b", "a_b", "gradebook.sqlite", "index.html", "class.json", "=1+2", "@SUM(A1)"):
        student(klass, name, WRONG if name == "a?b" else GOOD)
    student(klass, ".dotted")  # a hidden folder holding a submission: graded, not dropped
    (klass / ".git").mkdir()  # a hidden folder holding none: skipped
    # links (item 5): a whole folder linked to a classmate's, a file linked to a
    # classmate's file, a link that stays inside the student's own folder
    os.symlink(klass / "a_b", klass / "linked_folder")
    (klass / "peeker").mkdir()
    os.symlink(klass / "a_b" / "basic.py", klass / "peeker" / "basic.py")
    inner = student(klass, "inner_link")
    (inner / "src").mkdir()
    (inner / "basic.py").rename(inner / "src" / "basic.py")
    os.symlink(Path("src") / "basic.py", inner / "basic.py")
    # archives (item 10): not a zip, a zip-slip entry, a duplicate name
    (klass / "notazip.zip").write_text("this is not a zip\n")
    with zipfile.ZipFile(klass / "slipper.zip", "w") as zf:
        zf.writestr("../../escaped.py", "print('out')\n")
        zf.writestr("basic.py", GOOD)
    student(klass, "dup")
    with zipfile.ZipFile(klass / "dup.zip", "w") as zf:
        zf.writestr("basic.py", WRONG)
    status = grade(klass, out)
    return status, klass, out


def test_the_class_is_graded_whatever_one_student_did(graded: tuple[int, Path, Path]) -> None:
    status, _, out = graded
    assert status == 0
    assert (out / "index.html").is_file() and (out / "class.json").is_file()
    assert (out / "gradebook.sqlite").is_file() and (out / "grades.csv").is_file()


def test_output_folders_never_collide(graded: tuple[int, Path, Path]) -> None:
    _, _, out = graded
    found = results(out)
    names = ["a b", "a?b", "a_b", "gradebook.sqlite", "index.html", "class.json", "=1+2", "@SUM(A1)"]
    folders = {student_dir(n) for n in names}
    assert len(folders) == len(names)
    for name in names:
        written = json.loads((out / student_dir(name) / "results.json").read_text())
        assert (found[name]["points"] < FULL) == (name == "a?b"), name  # a?b handed in the wrong file
        assert written["score"] == found[name]["points"], name  # each folder holds its own student
    assert student_dir("a_b") == "a_b"  # a plain name keeps its plain folder


def test_a_hidden_folder_is_graded_and_git_is_not_a_student(graded: tuple[int, Path, Path]) -> None:
    found = results(graded[2])
    assert found[".dotted"]["points"] == FULL
    assert ".git" not in found


@pytest.mark.parametrize("name, words", [
    ("linked_folder", "is a symbolic link"),
    ("peeker", "leads out of peeker's folder"),
])
def test_links_out_of_a_students_folder_are_refused(graded: tuple[int, Path, Path], name: str,
                                                    words: str) -> None:
    result = results(graded[2])[name]
    assert result["points"] == 0 and result["status"] == "not_submitted"
    assert {t["verdict"] for t in result["tests"]} == {"refused"}
    assert words in result["message"] and "refused" in result["message"]


def test_a_link_inside_the_students_folder_is_fine(graded: tuple[int, Path, Path]) -> None:
    assert results(graded[2])["inner_link"]["points"] == FULL


@pytest.mark.parametrize("name, words", [
    ("notazip", "not a zip file"),
    ("slipper", "refusing a path that leaves the zip's folder"),
    ("dup", "two submissions are both named 'dup' (dup.zip and dup/)"),
])
def test_a_bad_archive_costs_only_its_student(graded: tuple[int, Path, Path], name: str, words: str) -> None:
    result = results(graded[2])[name]
    assert result["points"] == 0 and {t["verdict"] for t in result["tests"]} == {"refused"}
    assert words in result["message"], result["message"]


def test_nothing_escaped_the_staging(graded: tuple[int, Path, Path]) -> None:
    _, klass, out = graded
    assert not (klass.parent / "escaped.py").exists() and not (klass / "escaped.py").exists()


def test_spreadsheet_formulas_are_text(graded: tuple[int, Path, Path]) -> None:
    rows = list(csv.reader(io.StringIO((graded[2] / "grades.csv").read_text())))
    first = {row[0] for row in rows[1:]}
    assert "'=1+2" in first and "'@SUM(A1)" in first
    assert not any(cell[:1] in "=+-@" for cell in first if cell)


def test_a_nested_zip_bomb_is_capped_in_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real caps (50 MB an archive, 256 MB a class) scaled down a hundredfold: five
    # student zips, each well under the per-archive cap, inside one class zip.
    monkeypatch.setattr(folders, "MAX_EXTRACTED_BYTES", 1 << 20)
    monkeypatch.setattr(folders, "MAX_CLASS_BYTES", int(2.5 * (1 << 20)))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("basic.py", GOOD)
        zf.writestr("padding.txt", b"\0" * 900_000)
    with zipfile.ZipFile(tmp_path / "class.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for n in range(5):
            zf.writestr(f"student{n}.zip", inner.getvalue())
    assert (tmp_path / "class.zip").stat().st_size < 30_000
    assert grade(tmp_path / "class.zip", tmp_path / "out") == 0
    found = results(tmp_path / "out")
    graded_ok = [n for n, r in found.items() if r["points"] == FULL]
    refused = [n for n, r in found.items() if {t["verdict"] for t in r["tests"]} == {"refused"}]
    assert len(graded_ok) == 2 and len(refused) == 3, found
    assert all("together expand to more than 2 MB" in found[n]["message"] for n in refused)


def test_a_malformed_gradebook_row_is_set_aside_and_regraded(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    klass = tmp_path / "class"
    student(klass, "ann")
    student(klass, "bob")
    assert grade(klass, tmp_path / "out") == 0
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        db.execute("UPDATE results SET result = '{\"broken' WHERE student = 'ann'")
    assert cli.main(["report", "--out", str(tmp_path / "out")]) == 0
    assert "cannot be read" in caplog.text
    assert grade(klass, tmp_path / "out") == 0
    found = results(tmp_path / "out")
    assert found["ann"]["points"] == FULL and found["bob"]["points"] == FULL
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        assert db.execute("SELECT count(*) FROM set_aside WHERE student = 'ann'").fetchone()[0] == 1
