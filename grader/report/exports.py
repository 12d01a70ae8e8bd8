"""The gradebook exports: one object, several renderings for machines.

- `<student>/results.json`: Gradescope's autograder format, one entry per hidden test,
  so a course on Gradescope (or any platform reading that format) takes grades as they are.
- `grades.csv`: one row per student (with the platform's id, name, email and section), one
  column per exercise, for a spreadsheet.
- `canvas.csv`: Canvas's gradebook import (Student, ID, SIS User ID, SIS Login ID, Section,
  then the assignment's column), and `moodle.csv`: Moodle's assignment grading worksheet
  (Identifier "Participant N", Full name, Email address, Status, Grade, Maximum Grade, ...).
- `class.json`: every SubmissionResult of the run, losslessly, for re-rendering and tools.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import grader
from grader.model import ExerciseResult, SubmissionResult
from grader.roster import Person
from grader.report.text import number, outcome_text, result_notes, verdict_words


# What the output folder holds besides the students' folders: no student's folder may be
# one of these (compared without case, for the file systems that ignore it).
CLASS_FILES = frozenset({"gradebook.sqlite", "gradebook.sqlite-wal", "gradebook.sqlite-shm",
                         "gradebook.sqlite-journal", "index.html", "class.json", "grades.csv"})
_HASHED = re.compile(r".*-[0-9a-f]{10}$")  # the shape of a folder name student_dir made unique


def student_dir(student: str) -> str:
    """A folder name for a student: inside the output folder, never a class file, and one
    student's alone. A name that is already a plain folder name is kept as it is; any
    other ('a b', 'a?b', '.bob', 'index.html') gets its plain form plus a hash of the
    real name, so 'a b', 'a?b' and 'a_b' write three folders."""
    plain = re.sub(r"[^\w.@+-]+", "_", student).strip("._") or "_"
    if plain == student and plain.lower() not in CLASS_FILES and not _HASHED.fullmatch(plain):
        return plain
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{plain[:80]}-{digest}"


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet shows as text: one starting with =, +, -, @ (or a tab or a
    carriage return) would be read as a formula, so it gets a leading apostrophe (OWASP's
    advice for CSV injection). Every text cell of every CSV export goes through here."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def exercise_ids(results: Iterable[SubmissionResult]) -> list[str]:
    """Exercise ids in the order they were graded, across every student of the run."""
    ids: dict[str, None] = {}
    for result in results:
        for ex in result.exercises:
            ids.setdefault(ex.exercise, None)
    return list(ids)


def gradescope(result: SubmissionResult) -> dict[str, Any]:
    """results.json for one student, in Gradescope's autograder format."""
    tests: list[dict[str, Any]] = []
    for n, ex in enumerate(result.exercises, 1):
        tests.extend(_gradescope_tests(ex, n))
    summary = "; ".join(
        f"{ex.exercise} {number(ex.points)}/{number(ex.max_points)}" for ex in result.exercises)
    notes = "".join(f"\n{ex.exercise}: {note}" for ex in result.exercises for note in result_notes(ex))
    return {
        "score": round(result.points, 4),
        "execution_time": round(sum(ex.duration for ex in result.exercises), 2),
        "output": f"{number(result.points)}/{number(result.max_points)} points. {summary}{notes}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        # Gradescope has no top-level maximum: the platform's own assignment sets it.
        # Kept here for other readers of the file.
        "extra_data": {"student": result.student, "max_score": round(result.max_points, 4),
                       "grader_version": grader.__version__,
                       # how each exercise was kept apart: bwrap, user, or plain (not isolated)
                       "isolation": {ex.exercise: ex.sandbox for ex in result.exercises if ex.sandbox}},
    }


def _gradescope_tests(ex: ExerciseResult, n: int) -> list[dict[str, Any]]:
    if not ex.tests:
        # Nothing ran (a grader-side error before any test): one line keeps the points visible.
        return [{"name": f"{ex.exercise}: {ex.title}", "number": str(n),
                 "score": round(ex.points, 4), "max_score": round(ex.max_points, 4),
                 "status": "passed" if ex.points >= ex.max_points else "failed",
                 "output": ex.message or ex.status, "tags": [ex.exercise],
                 "visibility": "visible"}]
    return [{
        "name": f"{ex.exercise}: {t.title}",
        "number": f"{n}.{i}",
        "score": round(t.points, 4),
        "max_score": round(t.max_points, 4),
        "status": "passed" if t.passed else "failed",
        "output": outcome_text(t),
        "tags": [ex.exercise],
        "visibility": "visible",
    } for i, t in enumerate(ex.tests, 1)]


def write_results_json(result: SubmissionResult, out: Path,
                       person: Person | None = None,
                       visibility: dict[str, str] | None = None) -> Path:
    """<student>/results.json; VISIBILITY gives each exercise's tests their Gradescope
    visibility (exercise.yaml's feedback)."""
    folder = out / student_dir(result.student)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    document = gradescope(result)
    for test in document["tests"]:
        test["visibility"] = (visibility or {}).get(test["tags"][0], "visible")
    if person is not None:  # who the platform or roster says this is
        document["extra_data"]["person"] = person.to_dict()
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def write_grades_csv(results: Sequence[SubmissionResult], out: Path,
                     people: dict[str, Person] | None = None) -> Path:
    """One row per student: the gradebook's name, who the platform or roster says they are,
    the points of each exercise, the total."""
    ids = exercise_ids(results)
    path = out / "grades.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "id", "name", "email", "section", *ids, "total", "overridden"])
        for result in results:
            who = person_of(result.student, people)
            cells = []
            for ex_id in ids:
                ex = result.exercise(ex_id)
                cells.append(_csv_points(ex.points) if ex else "")
            # Which scores are the instructor's, with the grader's own beside them.
            overridden = "; ".join(f"{ex.exercise} (computed {_csv_points(ex.computed_points)})"
                                   for ex in result.exercises if ex.computed_points is not None)
            writer.writerow(_csv_safe([result.student, who.id, who.name, who.email, who.section,
                                       *cells, _csv_points(result.points), overridden]))
    return path


def person_of(student: str, people: dict[str, Person] | None) -> Person:
    """Who STUDENT is; a student no layout or roster described is known by the folder name."""
    return (people or {}).get(student) or Person(student)


# The column a platform import fills, unless the instructor names their assignment.
DEFAULT_ASSIGNMENT = "Concurrency exercises"


def write_canvas_csv(results: Sequence[SubmissionResult], out: Path,
                     people: dict[str, Person] | None = None,
                     assignment: str = DEFAULT_ASSIGNMENT) -> Path:
    """Canvas's gradebook import: the header of Canvas's own gradebook export, a "Points
    Possible" row, one row per student. Canvas matches students on ID (the Canvas user id
    a Canvas download or a Canvas gradebook export used as roster gives) or SIS Login ID,
    and the assignment on the column's title."""
    path = out / "canvas.csv"
    top = max((r.max_points for r in results), default=0.0)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment])
        writer.writerow(["Points Possible", "", "", "", "", _csv_points(top)])
        for result in results:
            who = person_of(result.student, people)
            writer.writerow(_csv_safe([who.name or result.student, who.id, "", who.email,
                                       who.section, _csv_points(result.points)]))
    return path


def write_moodle_csv(results: Sequence[SubmissionResult], out: Path,
                     people: dict[str, Person] | None = None) -> Path:
    """Moodle's assignment grading worksheet ("Upload grading worksheet"): Moodle matches
    rows on Identifier, "Participant N", N being the number in the download's folder names."""
    path = out / "moodle.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Identifier", "Full name", "Email address", "Status", "Grade",
                         "Maximum Grade", "Grade can be changed", "Last modified (submission)",
                         "Last modified (grade)", "Feedback comments"])
        for result in results:
            who = person_of(result.student, people)
            ident = f"Participant {who.id}" if who.platform == "moodle" else who.id
            submitted = any(ex.status != "not_submitted" for ex in result.exercises)
            feedback = "; ".join(f"{ex.exercise} {number(ex.points)}/{number(ex.max_points)}"
                                 for ex in result.exercises)
            writer.writerow(_csv_safe([
                ident, who.name or result.student, who.email,
                "Submitted for grading" if submitted else "No submission",
                _csv_points(result.points), _csv_points(result.max_points), "Yes",
                who.submitted_at, "", feedback]))
    return path


def _csv_safe(cells: Sequence[str]) -> list[str]:
    """Cells a spreadsheet will not run as a formula: a name from a platform export is
    the student's own text. Numbers pass unchanged."""
    return [str(cell) if _is_number_text(str(cell)) else spreadsheet_safe(str(cell)) for cell in cells]


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_points(points: float) -> str:
    # Plain numbers a spreadsheet reads: no thousands separators.
    return str(int(points)) if float(points).is_integer() else f"{points:.2f}"


def class_document(results: Sequence[SubmissionResult],
                   people: dict[str, Person] | None = None) -> dict[str, Any]:
    exercises = []
    for ex_id in exercise_ids(results):
        sample = next(e for r in results if (e := r.exercise(ex_id)) is not None)
        exercises.append({"id": ex_id, "title": sample.title, "max_points": sample.max_points})
    return {
        "grader_version": grader.__version__,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "exercises": exercises,
        "submissions": [r.to_dict() for r in results],
        # student -> who the platform or roster says they are (id, name, email, section...)
        "people": {r.student: person_of(r.student, people).to_dict() for r in results},
    }


def write_class_json(results: Sequence[SubmissionResult], out: Path,
                     people: dict[str, Person] | None = None) -> Path:
    path = out / "class.json"
    path.write_text(json.dumps(class_document(results, people), indent=1) + "\n", encoding="utf-8")
    return path


def read_class_json(path: Path) -> list[SubmissionResult]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [SubmissionResult.from_dict(s) for s in data["submissions"]]


def failure_words(result: ExerciseResult) -> list[str]:
    """The distinct verdicts that cost this exercise points, in words."""
    if result.status == "not_submitted":
        return [verdict_words("not_submitted")]
    words = dict.fromkeys(verdict_words(t.verdict) for t in result.tests if not t.passed)
    if not result.tests and result.status == "error":
        words[verdict_words("error")] = None
    return list(words)
