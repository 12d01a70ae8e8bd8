"""Every report and export, rebuilt from the gradebook, and where they are.

What `grader grade` ends with and `grader report`, `grader override` and `grader merge`
do alone: the gradebook is the one source, every file under the output folder is a
rendering of it (pages by grader/report/render.py, exports by grader/report/exports.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from grader.model import SubmissionResult

if TYPE_CHECKING:
    from grader.gradebook import Gradebook


def publish(book: "Gradebook", out: Path) -> list[SubmissionResult]:
    """Every report and export, rebuilt from the gradebook. Pages show when and on what
    machine the grades were computed."""
    from datetime import datetime

    from grader.feedback import VISIBILITIES, released
    from grader.report.exports import (write_canvas_csv, write_class_json, write_grades_csv,
                                       write_moodle_csv, write_results_json)
    from grader.report.render import write_class_report, write_student_report
    results = book.all_results()
    people = book.people()
    # Per exercise, whether students see the hidden tests' names and messages yet.
    rules, published = book.meta("feedback", {}), bool(book.meta("published", False))
    withheld = {ex_id: rule["visibility"] for ex_id, rule in rules.items()
                if rule.get("visibility") in VISIBILITIES and not released(rule, published)}
    visibility = {ex_id: rule.get("visibility", "visible") for ex_id, rule in rules.items()}
    run = book.last_run()
    when = datetime.fromtimestamp(run["finished"] or run["started"]).astimezone() if run else None
    where = run["machine"] if run else None
    out.mkdir(parents=True, exist_ok=True)
    for result in results:
        write_results_json(result, out, people.get(result.student), visibility)
        write_student_report(result, out, generated=when, where=where, withheld=withheld)
    write_grades_csv(results, out, people)
    write_canvas_csv(results, out, people)
    write_moodle_csv(results, out, people)
    write_class_json(results, out, people)
    write_class_report(results, out, generated=when, where=where, people=people)
    return results


def shown(path: Path) -> str:
    """A path as the user would type it: relative to where they are, when it can be."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def where_reports_are(out: Path) -> str:
    """One line naming every file `publish` writes under OUT."""
    where = shown(out)
    return (f"Reports: {shown(out / 'index.html')} (class), {where}/<student>/report.html, "
            f"{where}/<student>/results.json (Gradescope), {where}/grades.csv, "
            f"{where}/canvas.csv and {where}/moodle.csv (grade imports), {where}/class.json")
