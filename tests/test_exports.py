"""The machine-readable exports: Gradescope's results.json, grades.csv, class.json."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from report_samples import demo_results, exercise

from grader.report.exports import (exercise_ids, gradescope, read_class_json, student_dir,
                            write_class_json, write_grades_csv, write_results_json)
from grader.model import ExerciseResult, SubmissionResult

TEST_KEYS = {"name", "score", "max_score", "status", "output", "tags", "visibility"}


def by_name(name: str) -> SubmissionResult:
    return next(r for r in demo_results() if r.student == name)


def test_results_json_follows_gradescope_format(tmp_path: Path) -> None:
    result = by_name("boris")
    path = write_results_json(result, tmp_path)
    assert path == tmp_path / "boris" / "results.json"
    data = json.loads(path.read_text())
    assert data["score"] == result.points == 24
    assert isinstance(data["output"], str) and "24/30" in data["output"]
    assert data["extra_data"]["max_score"] == 30
    assert len(data["tests"]) == sum(len(e.tests) for e in result.exercises)
    for test in data["tests"]:
        assert TEST_KEYS <= set(test), test
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] == "visible"
        assert len(test["tags"]) == 1 and test["tags"][0] in exercise_ids([result])
        assert 0 <= test["score"] <= test["max_score"]
    assert sum(t["score"] for t in data["tests"]) == data["score"]


def test_failed_test_output_carries_message_and_details() -> None:
    data = gradescope(by_name("boris"))
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert len(failed) == 1
    output = failed[0]["output"]
    assert output.startswith("race found: lost 1,204 of 80,000 increments")
    assert "Interleaving:" in output and "counter.py:13" in output
    assert "overwrites T2's increment" in output
    assert "python -m grader replay demo/class/boris race_counter" in output
    assert "seed: 1234" in output  # a seed is not grouped like a count


def test_deadlock_cycle_is_numbered_in_text() -> None:
    data = gradescope(by_name("chen"))
    output = next(t["output"] for t in data["tests"] if t["status"] == "failed")
    assert "1. T1 holds account 1's lock" in output and "2. T2 holds" in output


def test_exercise_without_tests_still_shows_its_points() -> None:
    broken = ExerciseResult("race_counter", "Fix the race", 10.0, 0.0, (), "error",
                            "the staged copy could not be made")
    data = gradescope(SubmissionResult("x", (broken,)))
    assert len(data["tests"]) == 1
    assert data["tests"][0]["max_score"] == 10 and data["tests"][0]["status"] == "failed"
    assert "staged copy" in data["tests"][0]["output"]


def test_grades_csv_has_one_column_per_exercise(tmp_path: Path) -> None:
    results = demo_results()
    with write_grades_csv(results, tmp_path).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student", "id", "name", "email", "section", "race_counter",
                             "transfer_deadlock", "parallel_histogram", "total", "overridden"]
    assert rows[0]["id"] == "ada"  # no layout or roster said more: known by the folder name
    assert [r["student"] for r in rows] == ["ada", "boris", "chen", "dana", "emil", "fatima"]
    boris = rows[1]
    assert (boris["race_counter"], boris["transfer_deadlock"], boris["total"]) == ("4", "10", "24")
    assert rows[4]["race_counter"] == "0"  # emil did not submit counter.py


def test_grades_csv_leaves_ungraded_cells_empty(tmp_path: Path) -> None:
    results = [SubmissionResult("a", (exercise("race_counter"),)),
               SubmissionResult("b", (exercise("transfer_deadlock"),))]
    rows = write_grades_csv(results, tmp_path).read_text().splitlines()
    assert rows == ["student,id,name,email,section,race_counter,transfer_deadlock,total,overridden",
                    "a,a,,,,10,,10,", "b,b,,,,,10,10,"]


def test_class_json_round_trips(tmp_path: Path) -> None:
    results = demo_results()
    path = write_class_json(results, tmp_path)
    data = json.loads(path.read_text())
    assert [e["id"] for e in data["exercises"]] == exercise_ids(results)
    assert read_class_json(path) == results


def test_student_folder_names_cannot_escape() -> None:
    assert student_dir("ada") == "ada"
    assert "/" not in student_dir("../../etc") and not student_dir("../../etc").startswith(".")
    assert student_dir("Zoë Müller").startswith("Zoë_Müller-")
    assert student_dir("...").startswith("_-")
    # unique: names that differ get folders that differ, and none is a class file
    names = ["a b", "a?b", "a_b", "a__b", "index.html", "INDEX.HTML", "class.json", "grades.csv",
             "gradebook.sqlite", ".a_b", student_dir("a b")]
    folders = [student_dir(n) for n in names]
    assert len(set(folders)) == len(names)
    assert not {f.lower() for f in folders} & {"index.html", "class.json", "grades.csv", "gradebook.sqlite"}


def test_spreadsheet_formulas_are_escaped() -> None:
    from grader.report.exports import spreadsheet_safe
    for text in ("=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet_safe(text) == "'" + text
    assert spreadsheet_safe("ada") == "ada" and spreadsheet_safe("") == ""
